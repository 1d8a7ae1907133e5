//! Any bytes, split at any point, through the streaming decoder: no panic, no endless
//! loop, and the frames found do not depend on the split.
#![no_main]

use dlt645::stream::{Decoded, Decoder};
use libfuzzer_sys::fuzz_target;

/// Feeds `input` in two chunks as a serial port would and collects the frames.
fn frames(input: &[u8], split: usize) -> Vec<Vec<u8>> {
    let decoder = Decoder::new();
    let mut buffer: Vec<u8> = Vec::new();
    let mut found = Vec::new();
    for (i, chunk) in [&input[..split], &input[split..]].into_iter().enumerate() {
        buffer.extend_from_slice(chunk);
        let last = i == 1;
        loop {
            let decoded = if last {
                decoder.decode_eof(&buffer)
            } else {
                decoder.decode(&buffer)
            };
            match decoded {
                Decoded::Frame {
                    frame, consumed, ..
                } => {
                    found.push(frame.as_bytes().to_vec());
                    buffer.drain(..consumed);
                }
                Decoded::Skip { count, .. } => {
                    assert!(count > 0 && count <= buffer.len());
                    buffer.drain(..count);
                }
                Decoded::NeedMore { .. } => break,
            }
        }
    }
    assert!(buffer.is_empty(), "decode_eof must drain the buffer");
    found
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, input)) = data.split_first() else {
        return;
    };
    let split = usize::from(split).min(input.len());
    assert_eq!(frames(input, split), frames(input, input.len()));
});
