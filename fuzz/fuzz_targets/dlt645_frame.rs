//! Any bytes through the frame view, the owned repr and the message layer: no panic,
//! and whatever parses re-emits to the same bytes.
#![no_main]

use dlt645::{Frame, FrameRepr, message::Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = Frame::new_checked(data) else {
        return;
    };
    let repr = FrameRepr::parse(&frame);
    let mut out = [0u8; dlt645::frame::MAX_FRAME_LEN];
    let n = repr
        .emit(0, &mut out)
        .expect("a parsed frame fits the largest frame");
    assert_eq!(&out[..n], frame.as_bytes());
    if let Ok(message) = Message::parse(&repr) {
        let rebuilt = match &message {
            Message::Request(r) => r.to_frame(repr.address),
            Message::Reply(r) => r.to_frame(repr.address),
        };
        if let Ok(rebuilt) = rebuilt {
            assert_eq!(Message::parse(&rebuilt).ok().as_ref(), Some(&message));
        }
    }
    if let Some(di) = frame.di() {
        let _ = dlt645::value::decode(di, &repr.data[di.wire_len().min(repr.data.len())..]);
    }
});
