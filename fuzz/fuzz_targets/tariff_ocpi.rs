//! OCPI CDR and tariff JSON: every input is a typed error or a price, never a panic; with a
//! fixed valid tariff, the CDR bytes alone are fuzzed too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meterkit_tariff::ocpi;

const CDR: &str = include_str!("../../tariff/examples-data/ocpi/cdr-2.2.1.json");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    let _ = ocpi::price_cdr_json(text, None, Some("Europe/Amsterdam"));
    let _ = ocpi::price_cdr_json(text, None, None);
    let _ = ocpi::price_cdr_json(CDR, Some(text), None);
    if let Ok(priced) = ocpi::price_cdr_json(text, None, Some("UTC")) {
        let _ = priced.to_json();
        let _ = priced.to_string();
    }
});
