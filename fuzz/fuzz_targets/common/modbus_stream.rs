//! The body shared by the `modbus_rtu` and `modbus_tcp` targets: one streaming decoder on
//! arbitrary bytes, checked the same way whichever transport module (`rtu` or `tcp`) it is.
//!
//! No panic, progress on every answer; every frame it accepts parses and re-emits to the same
//! bytes and fits the transport's ADU size (`$min_len` up to `MAX_ADU_LEN`); `decode_repr` gives that same parse; the
//! framing-only decoder accepts the same frame there (it checks less), and whatever it hands
//! over where the validating decoder skips, parsing answers without panicking. The first byte
//! picks the direction.

macro_rules! modbus_stream_target {
    ($transport:ident, $min_len:expr) => {
        use libfuzzer_sys::fuzz_target;
        use meterkit_modbus::{Decoded, Direction, $transport};

        fuzz_target!(|data: &[u8]| {
            let Some((&selector, mut input)) = data.split_first() else {
                return;
            };
            let direction = if selector & 1 == 0 {
                Direction::Request
            } else {
                Direction::Response
            };
            let decoder = $transport::Decoder::new(direction);
            let framing_only = decoder.framing_only();
            // A streaming answer on a prefix must not panic whatever the rest holds.
            let _ = decoder.decode(input.get(..input.len() / 2).unwrap_or_default());
            while !input.is_empty() {
                match decoder.decode_eof(input) {
                    Decoded::Frame { frame, consumed } => {
                        assert!(
                            consumed >= $min_len
                                && consumed <= $transport::MAX_ADU_LEN
                                && consumed <= input.len()
                        );
                        let repr = $transport::Repr::parse(&frame, direction)
                            .expect("accepted frames parse");
                        match decoder.decode_repr(input) {
                            Decoded::Frame {
                                frame: parsed,
                                consumed: c,
                            } => assert_eq!((parsed, c), (repr, consumed)),
                            other => panic!("decode_repr disagrees with decode: {other:?}"),
                        }
                        match framing_only.decode_eof(input) {
                            Decoded::Frame {
                                frame: framed,
                                consumed: c,
                            } => assert_eq!((framed.as_bytes(), c), (frame.as_bytes(), consumed)),
                            other => {
                                panic!("framing-only decoder refuses a valid frame: {other:?}")
                            }
                        }
                        let mut out = [0u8; $transport::MAX_ADU_LEN];
                        let n = repr.emit(&mut out).expect("parsed frames emit");
                        assert_eq!(&out[..n], frame.as_bytes());
                        input = &input[consumed..];
                    }
                    Decoded::Skip { count, .. } => {
                        assert!(count >= 1 && count <= input.len());
                        if let Decoded::Frame { frame, consumed } = framing_only.decode_eof(input) {
                            assert!(consumed <= input.len());
                            let _ = $transport::Repr::parse(&frame, direction);
                        }
                        input = &input[count..];
                    }
                    Decoded::NeedMore { .. } => unreachable!("decode_eof never asks for more"),
                }
            }
        });
    };
}
