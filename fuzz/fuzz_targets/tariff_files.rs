//! Tariff files (TOML, JSON) and readings CSV: any input gives `Ok` or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = meterkit_tariff::file::load_toml(text);
        let _ = meterkit_tariff::file::load_json(text);
        let _ = meterkit_tariff::parse_readings_csv(text);
    }
});
