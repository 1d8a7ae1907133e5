//! RTU streaming decoder on arbitrary bytes: no panic, progress on every answer, and every
//! frame it accepts parses and re-emits to the same bytes; `decode_repr` gives that same
//! parse; the framing-only decoder accepts the same frame there (it checks less). The first
//! byte picks the direction.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meterkit_modbus::{Decoded, Direction, rtu};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, mut input)) = data.split_first() else {
        return;
    };
    let direction = if selector & 1 == 0 {
        Direction::Request
    } else {
        Direction::Response
    };
    let decoder = rtu::Decoder::new(direction);
    let framing_only = decoder.framing_only();
    // Streaming answers on every prefix must be consistent with the final answer.
    let _ = decoder.decode(input.get(..input.len() / 2).unwrap_or_default());
    while !input.is_empty() {
        match decoder.decode_eof(input) {
            Decoded::Frame { frame, consumed } => {
                assert!(consumed >= rtu::MIN_ADU_LEN && consumed <= input.len());
                let repr = rtu::Repr::parse(&frame, direction).expect("accepted frames parse");
                match decoder.decode_repr(input) {
                    Decoded::Frame {
                        frame: parsed,
                        consumed: c,
                    } => {
                        assert_eq!((parsed, c), (repr, consumed));
                    }
                    other => panic!("decode_repr disagrees with decode: {other:?}"),
                }
                match framing_only.decode_eof(input) {
                    Decoded::Frame {
                        frame: framed,
                        consumed: c,
                    } => {
                        assert_eq!((framed.as_bytes(), c), (frame.as_bytes(), consumed));
                    }
                    other => panic!("framing-only decoder refuses a valid frame: {other:?}"),
                }
                let mut out = [0u8; rtu::MAX_ADU_LEN];
                let n = repr.emit(&mut out).expect("parsed frames emit");
                assert_eq!(&out[..n], frame.as_bytes());
                input = &input[consumed..];
            }
            Decoded::Skip { count, .. } => {
                assert!(count >= 1 && count <= input.len());
                // A frame that only fails field rules is handed over by the framing-only
                // decoder; whatever it hands over, parsing it answers without panicking.
                if let Decoded::Frame { frame, consumed } = framing_only.decode_eof(input) {
                    assert!(consumed <= input.len());
                    let _ = rtu::Repr::parse(&frame, direction);
                }
                input = &input[count..];
            }
            Decoded::NeedMore { .. } => unreachable!("decode_eof never asks for more"),
        }
    }
});
