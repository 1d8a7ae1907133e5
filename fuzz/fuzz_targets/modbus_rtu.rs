//! RTU streaming decoder on arbitrary bytes: no panic, progress on every answer, and every
//! frame it accepts parses and re-emits to the same bytes. The first byte picks the direction.
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
    // Streaming answers on every prefix must be consistent with the final answer.
    let _ = decoder.decode(input.get(..input.len() / 2).unwrap_or_default());
    while !input.is_empty() {
        match decoder.decode_eof(input) {
            Decoded::Frame { frame, consumed } => {
                assert!(consumed >= rtu::MIN_ADU_LEN && consumed <= input.len());
                let repr = rtu::Repr::parse(&frame, direction).expect("accepted frames parse");
                let mut out = [0u8; rtu::MAX_ADU_LEN];
                let n = repr.emit(&mut out).expect("parsed frames emit");
                assert_eq!(&out[..n], frame.as_bytes());
                input = &input[consumed..];
            }
            Decoded::Skip { count, .. } => {
                assert!(count >= 1 && count <= input.len());
                input = &input[count..];
            }
            Decoded::NeedMore { .. } => unreachable!("decode_eof never asks for more"),
        }
    }
});
