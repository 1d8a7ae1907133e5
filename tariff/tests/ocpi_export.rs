//! Export of native tariffs to OCPI 2.2.1, and the round trip export → import → price, which
//! must equal native pricing.
#![cfg(feature = "ocpi")]
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, TimeDelta, Utc};
use meterkit_tariff::{
    ChargeState, PricingPolicy, Reading, RoundingMode, RoundingPoint, file, ocpi, price_session,
};
use rust_decimal::{Decimal, RoundingStrategy};

const NIGHT: &str = include_str!("../examples-data/ocpi/native-night.toml");

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[test]
fn exports_the_example_as_the_committed_json() {
    let native = file::load_toml(NIGHT).unwrap();
    let json = ocpi::export_json(&native).unwrap();
    assert_eq!(
        json.trim(),
        include_str!("../examples-data/ocpi/native-night.json").trim()
    );
    let exported = ocpi::export(&native, "DE", "MKT").unwrap();
    assert!(exported.notes.is_empty(), "{:?}", exported.notes);
    let t = exported.tariff;
    // 3 weekday slots and 1 weekend slot; the day price 0.42 incl. 20 % VAT is 0.35 excl.
    assert_eq!(t.elements.len(), 4);
    assert_eq!(t.elements[1].price_components[0].price, Decimal::new(35, 2));
    assert_eq!(t.max_price.unwrap().excl_vat, Decimal::new(50, 0));
}

/// The CDR a charge point would send for the native bill's lines: one period per line.
fn cdr_for(
    bill: &meterkit_tariff::Bill,
    start: DateTime<Utc>,
    stop: DateTime<Utc>,
    tariff: &str,
) -> String {
    let hours = |d: TimeDelta| Decimal::from(d.num_milliseconds()) / Decimal::from(3_600_000);
    let periods: Vec<String> = bill
        .lines()
        .iter()
        .map(|l| {
            format!(
                r#"{{"start_date_time": "{}", "dimensions": [
                    {{"type": "ENERGY", "volume": {}}}, {{"type": "TIME", "volume": {}}},
                    {{"type": "PARKING_TIME", "volume": {}}}]}}"#,
                l.start.to_rfc3339(),
                Decimal::from(l.energy_wh) / Decimal::ONE_THOUSAND,
                hours(l.charging_time),
                hours(l.parking_time)
            )
        })
        .collect();
    format!(
        r#"{{"start_date_time": "{}", "end_date_time": "{}", "cdr_location": {{"country": "DEU"}},
            "tariffs": [{tariff}], "charging_periods": [{}]}}"#,
        start.to_rfc3339(),
        stop.to_rfc3339(),
        periods.join(",")
    )
}

#[test]
fn round_trip_prices_equal_native_prices() {
    let native = file::load_toml(NIGHT).unwrap();
    let json = ocpi::export_json(&native).unwrap();
    // Native rounding once, on the total, so both engines round exactly one figure.
    let policy =
        PricingPolicy::default().with_rounding(RoundingMode::HalfUp, RoundingPoint::PerTotal);
    let sessions = [
        // Monday 2025-06-02 20:00–23:30 CEST: 12 kWh by 22:00 (day), 4 kWh after (night), then
        // parked from 23:00. Native: 12 × 0.42 + 4 × 0.24 + 3 h × 0.60 + 0.5 h × 3.60 + 1.20
        // = 5.04 + 0.96 + 1.80 + 1.80 + 1.20 = 10.80 incl. VAT.
        (
            "2025-06-02T18:00:00Z",
            [0, 3000, 6000, 9000, 12000, 15000, 16000, 16000],
            "10.80",
        ),
        // Saturday 2025-06-07 from 20:00 CEST: all night: 16 × 0.24 + 1.80 + 1.80 + 1.20 = 8.64.
        (
            "2025-06-07T18:00:00Z",
            [0, 3000, 6000, 9000, 12000, 15000, 16000, 16000],
            "8.64",
        ),
        // Friday 23:00 CEST to Saturday 02:30: night throughout (weekday night, then weekend):
        // 7 kWh × 0.24 = 1.68 + 3 h × 0.60 + 0.5 h × 3.60 + 1.20 = 6.48.
        (
            "2025-06-06T21:00:00Z",
            [0, 1000, 2000, 3000, 4000, 5000, 7000, 7000],
            "6.48",
        ),
    ];
    for (start, registers, expected) in sessions {
        let start = utc(start);
        let readings: Vec<Reading> = registers
            .iter()
            .enumerate()
            .map(|(i, wh)| {
                let at = start + TimeDelta::minutes(30 * i64::try_from(i).unwrap());
                let r = Reading::new(at, *wh);
                if i == 6 {
                    r.with_state(ChargeState::Idle)
                } else {
                    r
                }
            })
            .collect();
        let stop = readings.last().unwrap().at;
        let bill = price_session(&native, policy, start, stop, &readings).unwrap();
        assert_eq!(bill.totals.gross.to_string(), expected);
        let priced = ocpi::price_cdr_json(&cdr_for(&bill, start, stop, &json), None, None).unwrap();
        let incl = priced.total_cost.incl_vat.unwrap();
        assert_eq!(
            incl.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
            bill.totals.gross
        );
        assert_eq!(
            priced
                .total_cost
                .excl_vat
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
            bill.totals.net
        );
    }
}

#[test]
fn unrepresentable_features_are_named() {
    let cn = file::load_toml(include_str!("../examples-data/cn-tou.toml")).unwrap();
    let e = ocpi::export_json(&cn).unwrap_err().to_string();
    assert!(e.contains("holiday calendar"), "{e}");
    let eu = file::load_toml(include_str!("../examples-data/eu-time-parking.toml")).unwrap();
    let e = ocpi::export_json(&eu).unwrap_err().to_string();
    assert!(e.contains("parking grace"), "{e}");
    let seasons = NIGHT.replace(
        "day_types = [",
        "seasons = [{ name = \"summer\", from = \"06-01\", to = \"08-31\" }]\nday_types = [",
    ) + "[[versions.days]]\nseason = \"summer\"\nslots = [\"00:00-24:00 day\"]\n";
    let e = ocpi::export_json(&file::load_toml(&seasons).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("seasonal"), "{e}");
}

#[test]
fn approximations_and_versions_are_noted() {
    // 0.59 incl. 19 % VAT = 0.495798… excl: only approximately 0.4958.
    let text = r#"
        name = "two versions"
        currency = "EUR"
        time_zone = "+01:00"
        tax = { rate_percent = "19", prices_include_tax = true }
        [[versions]]
        valid_until = "2026-01-01"
        periods = [{ kind = "flat", energy = "0.59" }]
        [[versions.days]]
        slots = ["00:00-24:00 flat"]
        [[versions]]
        valid_from = "2026-01-01"
        periods = [{ kind = "flat", energy = "0.595" }]
        [[versions.days]]
        slots = ["00:00-24:00 flat"]
    "#;
    let exported = ocpi::export(&file::load_toml(text).unwrap(), "DE", "MKT").unwrap();
    let notes = exported.notes.join("\n");
    assert!(notes.contains("0.4958"), "{notes}");
    assert!(notes.contains("versions"), "{notes}");
    assert!(notes.contains("fixed offset"), "{notes}");
    // 0.595 / 1.19 = 0.5 exactly: no note for the second version's price.
    assert!(!notes.contains("0.595 "), "{notes}");
    let e = &exported.tariff.elements;
    assert_eq!(e.len(), 2);
    let r0 = e[0].restrictions.as_ref().unwrap();
    let r1 = e[1].restrictions.as_ref().unwrap();
    assert_eq!(
        (r0.start_date, r0.end_date.map(|d| d.to_string())),
        (None, Some("2026-01-01".into()))
    );
    assert_eq!(
        r1.start_date.map(|d| d.to_string()),
        Some("2026-01-01".into())
    );
    // A whole-day slot has no time restriction.
    assert_eq!(r1.start_time, None);
    // Export → JSON → parse gives back the same tariff.
    let json = ocpi::export_json(&file::load_toml(text).unwrap()).unwrap();
    let back = ocpi::parse_tariff(&json).unwrap();
    assert_eq!(back.elements, exported.tariff.elements);
}
