//! The streaming decoder under random chunking and random garbage.

use dlt645::{
    Address, Control, FrameRepr,
    frame::{MAX_FRAME_LEN, Payload},
    stream::{Decoded, Decoder, ScanEvent},
};
use proptest::prelude::*;

fn frame_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<[u8; 6]>(),
        any::<u8>(),
        proptest::collection::vec(any::<u8>(), 0..40),
        0usize..8,
    )
        .prop_map(|(address, control, data, preamble)| {
            let repr = FrameRepr {
                address: Address::from_wire(address),
                control: Control::from_byte(control),
                data: Payload::from_slice(&data).expect("short"),
            };
            let mut out = vec![0; preamble + MAX_FRAME_LEN];
            let n = repr.emit(preamble, &mut out).expect("fits");
            out.truncate(n);
            out
        })
}

/// The frame part of an emitted buffer (wake-up bytes removed).
fn without_preamble(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().skip_while(|b| **b == 0xFE).copied().collect()
}

/// Feeds `stream` to the decoder in chunks of the given sizes, as reads from a port
/// would arrive, and returns the frames found.
fn feed(stream: &[u8], chunk_sizes: &[usize]) -> Vec<Vec<u8>> {
    let decoder = Decoder::new();
    let mut buffer = Vec::new();
    let mut found = Vec::new();
    let mut rest = stream;
    let mut sizes = chunk_sizes.iter().cycle();
    let mut drain = |buffer: &mut Vec<u8>, eof: bool| loop {
        let answer = if eof {
            decoder.decode_eof(buffer)
        } else {
            decoder.decode(buffer)
        };
        match answer {
            Decoded::Frame {
                frame, consumed, ..
            } => {
                found.push(frame.as_bytes().to_vec());
                buffer.drain(..consumed);
            }
            Decoded::Skip { count, .. } => {
                assert!(
                    count >= 1 && count <= buffer.len(),
                    "skip within the buffer"
                );
                buffer.drain(..count);
            }
            Decoded::NeedMore { at_least } => {
                assert!(at_least >= 1);
                break;
            }
        }
    };
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
        buffer.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        drain(&mut buffer, false);
    }
    drain(&mut buffer, true);
    assert!(buffer.is_empty(), "end of input drains everything");
    found
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Frames with garbage that holds no 0x68 or 0xFE between them: exactly the frames
    /// come out, whatever the chunking, and the scan reports exactly the garbage.
    #[test]
    fn clean_garbage_any_chunking(
        parts in proptest::collection::vec(
            (frame_bytes(), proptest::collection::vec(any::<u8>().prop_filter("not 68/FE", |b| *b != 0x68 && *b != 0xFE), 0..20)),
            1..6,
        ),
        chunks in proptest::collection::vec(1usize..40, 1..10),
    ) {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        let mut garbage = 0;
        for (frame, junk) in &parts {
            stream.extend_from_slice(junk);
            garbage += junk.len();
            stream.extend_from_slice(frame);
            want.push(without_preamble(frame));
        }
        prop_assert_eq!(feed(&stream, &chunks), want.clone());
        prop_assert_eq!(feed(&stream, &[1]), want.clone());
        let skipped: usize = Decoder::new().scan(&stream).map(|e| match e {
            ScanEvent::Skipped { count, .. } => count,
            ScanEvent::Frame { .. } => 0,
        }).sum();
        prop_assert_eq!(skipped, garbage);
    }

    /// Arbitrary garbage, 0x68 and 0xFE included: every frame is still found in order
    /// (false starts cost one byte each), and chunking changes nothing.
    #[test]
    fn arbitrary_garbage_any_chunking(
        parts in proptest::collection::vec((frame_bytes(), proptest::collection::vec(any::<u8>(), 0..30)), 1..6),
        chunks in proptest::collection::vec(1usize..64, 1..10),
    ) {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for (frame, junk) in &parts {
            stream.extend_from_slice(junk);
            stream.extend_from_slice(frame);
            want.push(without_preamble(frame));
        }
        let whole = feed(&stream, &[stream.len()]);
        prop_assert_eq!(feed(&stream, &chunks), whole.clone());
        // Garbage could, in theory, form a valid frame of its own; the inserted frames
        // must still all be there, in order.
        let mut it = whole.iter();
        for w in &want {
            prop_assert!(it.any(|f| f == w), "frame {:02X?} lost", w);
        }
    }

    /// Pure noise never panics, never loops, and is always fully consumed.
    #[test]
    fn noise_is_consumed(noise in proptest::collection::vec(any::<u8>(), 0..600), chunk in 1usize..50) {
        let _ = feed(&noise, &[chunk]);
    }
}

/// Two meters answering in one read, behind our own echoed request.
#[test]
fn echo_and_two_replies_in_one_read() {
    let mut read = Vec::new();
    for frame in [
        "FE FE FE FE 68 61 01 00 00 00 00 68 11 04 33 33 34 33 14 16",
        "68 61 01 00 00 00 00 68 91 08 33 33 34 33 59 33 33 33 8A 16",
        "FE FE 68 94 41 03 26 12 18 68 91 08 33 33 34 33 59 33 33 33 50 16",
    ] {
        read.extend(
            frame
                .split_whitespace()
                .map(|b| u8::from_str_radix(b, 16).expect("hex")),
        );
    }
    let offsets: Vec<usize> = Decoder::new()
        .scan(&read)
        .map(|e| match e {
            ScanEvent::Frame { offset, .. } => offset,
            ScanEvent::Skipped { offset, .. } => panic!("garbage at {offset}"),
        })
        .collect();
    assert_eq!(offsets, [4, 20, 42]);
}
