//! Pricing the CDR of a 24-hour session in 1,440 one-minute periods against a four-element
//! time-of-day tariff: meterkit-tariff against ocpi-tariffs, in one run.
//!
//! Run from this folder: `cargo bench -- ocpi_cdr`. Before measuring, both libraries price the
//! CDR once and must agree on the total, so a row never times a wrong answer.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use meterkit_tariff::ocpi;

const PERIODS: u32 = 1440;

/// Valley 00:00–07:00, flat 07:00–17:00, peak 17:00–21:00, flat again 21:00–00:00, all with
/// 21 % VAT and 1 Wh steps.
const TARIFF: &str = r#"{
  "country_code": "NL", "party_id": "MKT", "id": "TOU-4", "currency": "EUR",
  "elements": [
    { "price_components": [{ "type": "ENERGY", "price": 0.18, "vat": 21.0, "step_size": 1 }],
      "restrictions": { "start_time": "00:00", "end_time": "07:00" } },
    { "price_components": [{ "type": "ENERGY", "price": 0.31, "vat": 21.0, "step_size": 1 }],
      "restrictions": { "start_time": "07:00", "end_time": "17:00" } },
    { "price_components": [{ "type": "ENERGY", "price": 0.47, "vat": 21.0, "step_size": 1 }],
      "restrictions": { "start_time": "17:00", "end_time": "21:00" } },
    { "price_components": [{ "type": "ENERGY", "price": 0.31, "vat": 21.0, "step_size": 1 }],
      "restrictions": { "start_time": "21:00", "end_time": "00:00" } }
  ],
  "last_updated": "2025-01-01T00:00:00Z"
}"#;

fn minute(i: u32) -> String {
    // 2025-03-03 is a Monday; the session runs from local midnight (UTC+1) for 24 hours.
    let total = 23 * 60 + i;
    let (day, hour, min) = (2 + total / 1440, total / 60 % 24, total % 60);
    format!("2025-03-{day:02}T{hour:02}:{min:02}:00Z")
}

/// A CDR whose energy varies from minute to minute (0.100–0.128 kWh), so no two adjacent
/// periods are alike. Its exact total, 49.03969 excl. VAT, is not a tie at 4 decimals: the two
/// libraries round ties differently (meterkit away from zero, ocpi-tariffs to even), which is
/// documented, not a disagreement this check should trip on.
fn cdr() -> String {
    let mut periods = String::new();
    let mut total_milli_kwh = 0u64;
    for i in 0..PERIODS {
        let milli_kwh = 100 + u64::from(i % 7) * 3 + u64::from(i % 11);
        total_milli_kwh += milli_kwh;
        if i > 0 {
            periods.push(',');
        }
        let _ = write!(
            periods,
            r#"{{"start_date_time":"{}","dimensions":[{{"type":"ENERGY","volume":{}.{:03}}},{{"type":"TIME","volume":0.0167}}]}}"#,
            minute(i),
            milli_kwh / 1000,
            milli_kwh % 1000
        );
    }
    format!(
        r#"{{
  "country_code": "NL", "party_id": "MKT", "id": "CDR-1440",
  "start_date_time": "{start}", "end_date_time": "{end}",
  "cdr_token": {{ "country_code": "NL", "party_id": "MKT", "uid": "012345678", "type": "RFID",
                  "contract_id": "NL-MKT-C12345678-X" }},
  "auth_method": "WHITELIST",
  "cdr_location": {{ "id": "LOC1", "address": "Stationsplein 1", "city": "Utrecht",
    "postal_code": "3511 ED", "country": "NLD", "time_zone": "Europe/Amsterdam",
    "coordinates": {{ "latitude": "52.089", "longitude": "5.110" }},
    "evse_uid": "EVSE1", "evse_id": "NL*MKT*E1", "connector_id": "1",
    "connector_standard": "IEC_62196_T2", "connector_format": "SOCKET",
    "connector_power_type": "AC_3_PHASE" }},
  "currency": "EUR",
  "tariffs": [{TARIFF}],
  "charging_periods": [{periods}],
  "total_cost": {{ "excl_vat": 0.0, "incl_vat": 0.0 }},
  "total_energy": {energy}.{energy_frac:03},
  "total_time": 24.0,
  "last_updated": "2025-03-04T00:00:00Z"
}}"#,
        start = minute(0),
        end = minute(PERIODS),
        energy = total_milli_kwh / 1000,
        energy_frac = total_milli_kwh % 1000,
    )
}

fn meterkit_price(json: &str) -> String {
    let priced = ocpi::price_cdr_json(json, None, None).expect("meterkit prices the CDR");
    priced.total_cost.excl_vat.to_string()
}

fn peer_price(json: &str) -> String {
    let parsed = ocpi_tariffs::cdr::parse_with_version(json, ocpi_tariffs::Version::V221)
        .expect("ocpi-tariffs parses the CDR");
    let report = ocpi_tariffs::cdr::price(
        &parsed.cdr,
        ocpi_tariffs::price::TariffSource::UseCdr,
        chrono_tz::Tz::Europe__Amsterdam,
    )
    .expect("ocpi-tariffs prices the CDR")
    .ignore_warnings();
    report
        .total_cost
        .calculated
        .expect("ocpi-tariffs computes a total")
        .excl_vat
        .to_string()
}

fn bench(c: &mut Criterion) {
    let json = cdr();
    let ours = meterkit_price(&json);
    let theirs = peer_price(&json);
    assert_eq!(
        ours,
        theirs.trim_end_matches('¤'),
        "the two libraries disagree on the total excl. VAT"
    );

    let cdr = ocpi::parse_cdr(&json).expect("meterkit parses the CDR");
    let zone = ocpi::resolve_zone(None, &cdr).expect("the CDR names its zone");
    let peer_cdr = ocpi_tariffs::cdr::parse_with_version(&json, ocpi_tariffs::Version::V221)
        .expect("ocpi-tariffs parses the CDR")
        .cdr;

    let mut group = c.benchmark_group("ocpi_cdr_1440_periods");
    group.bench_function("meterkit-tariff", |b| {
        b.iter(|| ocpi::price_cdr(black_box(&cdr), &cdr.tariffs, zone));
    });
    group.bench_function("meterkit-tariff, with JSON parse", |b| {
        b.iter(|| ocpi::price_cdr_json(black_box(&json), None, None));
    });
    group.bench_function("ocpi-tariffs", |b| {
        b.iter(|| {
            ocpi_tariffs::cdr::price(
                black_box(&peer_cdr),
                ocpi_tariffs::price::TariffSource::UseCdr,
                chrono_tz::Tz::Europe__Amsterdam,
            )
        });
    });
    group.bench_function("ocpi-tariffs, with JSON parse", |b| {
        b.iter(|| {
            let parsed = ocpi_tariffs::cdr::parse_with_version(
                black_box(&json),
                ocpi_tariffs::Version::V221,
            );
            parsed.map(|p| {
                ocpi_tariffs::cdr::price(
                    &p.cdr,
                    ocpi_tariffs::price::TariffSource::UseCdr,
                    chrono_tz::Tz::Europe__Amsterdam,
                )
                .is_ok()
            })
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
