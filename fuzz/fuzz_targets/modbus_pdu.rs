//! PDU parsers and profile decoding on arbitrary bytes: no panic; a parsed PDU re-emits to
//! the same bytes; every built-in profile decodes any register block without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meterkit_modbus::profile::{BUILT_IN, Ratios};
use meterkit_modbus::{Direction, Pdu, Registers};
use meterkit_reading::MeterReading;

fuzz_target!(|data: &[u8]| {
    for direction in [Direction::Request, Direction::Response] {
        if let Ok(pdu) = Pdu::parse(data, direction) {
            let mut out = [0u8; 300];
            let n = pdu.emit(&mut out).expect("parsed PDUs emit");
            assert_eq!(&out[..n], data);
        }
    }
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Some((start, words)) = rest.split_at_checked(2) else {
        return;
    };
    let Ok(registers) = Registers::from_wire(&words[..words.len() & !1]) else {
        return;
    };
    let start = u16::from_be_bytes([start[0], start[1]]);
    let profile = BUILT_IN[usize::from(pick) % BUILT_IN.len()];
    let mut reading = MeterReading::new(0_i64);
    for kind in [
        meterkit_modbus::profile::RegisterKind::Holding,
        meterkit_modbus::profile::RegisterKind::Input,
    ] {
        let _ = profile.decode_block(kind, start, &registers, &Ratios::DIRECT, &mut reading);
    }
});
