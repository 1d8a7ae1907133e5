//! OCPI CDR and tariff JSON: every input is a typed error or a price, never a panic; with a
//! fixed valid tariff, the CDR bytes alone are fuzzed too. Every price's total is the sum
//! of its dimension totals unless a minimum or maximum price clamped it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meterkit_tariff::ocpi;
use rust_decimal::Decimal;

const CDR: &str = include_str!("../../tariff/examples-data/ocpi/cdr-2.2.1.json");

/// The total excluding VAT equals the sum of the dimension totals. Each figure is rounded
/// to 4 decimals on its own (half a unit of 10^-4 each), so they may differ by that much per
/// figure; a clamped total is exempt.
fn assert_totals_consistent(priced: &ocpi::PricedCdr) {
    if priced.clamped.is_some() {
        return;
    }
    let parts = [
        priced.total_fixed_cost,
        priced.total_energy_cost,
        priced.total_time_cost,
        priced.total_parking_cost,
        priced.total_reservation_cost,
    ];
    let mut sum = Decimal::ZERO;
    let mut figures = 1;
    for part in parts.iter().flatten() {
        let Some(next) = sum.checked_add(part.excl_vat) else {
            return;
        };
        sum = next;
        figures += 1;
    }
    let Some(difference) = priced.total_cost.excl_vat.checked_sub(sum) else {
        return;
    };
    let tolerance = Decimal::new(5 * figures, 5);
    assert!(
        difference.abs() <= tolerance,
        "total {} but the dimensions sum to {sum}: {priced:?}",
        priced.total_cost.excl_vat
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    for priced in [
        ocpi::price_cdr_json(text, None, Some("Europe/Amsterdam")),
        ocpi::price_cdr_json(text, None, None),
        ocpi::price_cdr_json(CDR, Some(text), None),
    ]
    .iter()
    .flatten()
    {
        assert_totals_consistent(priced);
    }
    if let Ok(priced) = ocpi::price_cdr_json(text, None, Some("UTC")) {
        assert_totals_consistent(&priced);
        let _ = priced.to_json();
        let _ = priced.to_string();
    }
});
