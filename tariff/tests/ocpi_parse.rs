//! OCPI parsing: exact numbers, every restriction kind read, errors naming the JSON path, time
//! zone resolution, and no panic on any input.
#![cfg(feature = "ocpi")]
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, NaiveTime, Weekday};
use meterkit_tariff::ocpi::{self, OcpiError, Reservation, TariffDimension};
use proptest::prelude::*;
use rust_decimal::Decimal;

const FULL: &str = r#"{
  "country_code": "NL", "party_id": "ABC", "id": "12", "currency": "EUR", "type": "REGULAR",
  "min_price": {"excl_vat": 1.5, "incl_vat": "1.815"},
  "max_price": {"excl_vat": 40},
  "start_date_time": "2025-01-01T00:00:00Z", "end_date_time": "2026-01-01T00:00:00",
  "last_updated": "2024-12-01T10:00:00.123+01:00",
  "tariff_alt_text": [{"language": "en", "text": "ignored"}],
  "elements": [{
    "price_components": [
      {"type": "ENERGY", "price": 0.1, "vat": 21.0, "step_size": 500},
      {"type": "PARKING_TIME", "price": 1e-1, "step_size": 60}],
    "restrictions": {
      "start_time": "22:00", "end_time": "00:00", "start_date": "2025-03-01", "end_date": "2025-04-01",
      "min_kwh": 0.5, "max_kwh": 100.25, "min_current": 6, "max_current": 32,
      "min_power": 1.4, "max_power": 22, "min_duration": 600, "max_duration": 7200,
      "day_of_week": ["MONDAY", "SUNDAY"], "reservation": "RESERVATION_EXPIRES"}
  }, {"price_components": [{"type": "FLAT", "price": "0.123456789012345678", "step_size": 0}]}]
}"#;

#[test]
fn reads_every_field_exactly() {
    let t = ocpi::parse_tariff(FULL).unwrap();
    let min = t.min_price.unwrap();
    assert_eq!(min.excl_vat, Decimal::new(15, 1));
    assert_eq!(min.incl_vat, Some(Decimal::new(1815, 3)));
    assert_eq!(t.max_price.unwrap().incl_vat, None);
    // A naive date-time is UTC; an offset is converted.
    assert_eq!(
        t.end_date_time.unwrap().to_rfc3339(),
        "2026-01-01T00:00:00+00:00"
    );
    assert_eq!(
        t.last_updated.unwrap().to_rfc3339(),
        "2024-12-01T09:00:00.123+00:00"
    );
    let e = &t.elements[0];
    let energy = e.price_components[0];
    assert_eq!(energy.dimension, TariffDimension::Energy);
    // 0.1 and 1e-1 are exactly one tenth (a float would not be).
    assert_eq!(energy.price, Decimal::new(1, 1));
    assert_eq!(e.price_components[1].price, Decimal::new(1, 1));
    assert_eq!(energy.vat, Some(Decimal::new(21, 0)));
    assert_eq!(energy.step_size, 500);
    let r = e.restrictions.as_ref().unwrap();
    assert_eq!(r.start_time, NaiveTime::from_hms_opt(22, 0, 0));
    assert_eq!(r.end_time, NaiveTime::from_hms_opt(0, 0, 0));
    assert_eq!(r.start_date, NaiveDate::from_ymd_opt(2025, 3, 1));
    assert_eq!(r.end_date, NaiveDate::from_ymd_opt(2025, 4, 1));
    assert_eq!(r.max_kwh, Some(Decimal::new(10025, 2)));
    assert_eq!(
        (r.min_current, r.max_current),
        (Some(6.into()), Some(32.into()))
    );
    assert_eq!(
        (r.min_power, r.max_power),
        (Some(Decimal::new(14, 1)), Some(22.into()))
    );
    assert_eq!((r.min_duration, r.max_duration), (Some(600), Some(7200)));
    assert_eq!(
        r.day_of_week.as_deref(),
        Some(&[Weekday::Mon, Weekday::Sun][..])
    );
    assert_eq!(r.reservation, Some(Reservation::ReservationExpires));
    // 18 decimals survive (an f64 keeps about 16 significant digits).
    assert_eq!(
        t.elements[1].price_components[0].price.to_string(),
        "0.123456789012345678"
    );
}

fn error_of(json: &str) -> String {
    ocpi::parse_tariff(json).unwrap_err().to_string()
}

#[test]
fn errors_name_the_json_path() {
    let bad = |from: &str, to: &str| FULL.replacen(from, to, 1);
    let e = error_of(&bad(r#""price": 0.1,"#, r#""price": "ten","#));
    assert!(
        e.starts_with("$.elements[0].price_components[0].price: "),
        "{e}"
    );
    let e = error_of(&bad(r#""end_time": "00:00""#, r#""end_time": "24:00""#));
    assert!(
        e.starts_with("$.elements[0].restrictions.end_time: "),
        "{e}"
    );
    assert!(e.contains("24:00"), "{e}");
    let e = error_of(&bad(r#""MONDAY""#, r#""MONDAI""#));
    assert!(
        e.starts_with("$.elements[0].restrictions.day_of_week"),
        "{e}"
    );
    let e = error_of(&bad(r#"{"type": "FLAT""#, r#"{"type": "POWER""#));
    assert!(
        e.starts_with("$.elements[1].price_components[0].type: "),
        "{e}"
    );
    let e = error_of(&bad(r#""step_size": 500"#, r#""step_size": -1"#));
    assert!(
        e.starts_with("$.elements[0].price_components[0].step_size: "),
        "{e}"
    );
    let e = error_of(&bad(
        r#""start_date": "2025-03-01""#,
        r#""start_date": "2025-02-30""#,
    ));
    assert!(
        e.starts_with("$.elements[0].restrictions.start_date: "),
        "{e}"
    );
    let e = error_of(&bad(r#""currency": "EUR", "#, ""));
    assert!(e.starts_with("$: missing field `currency`"), "{e}");
    let e = error_of("{\"id\": ");
    assert!(e.starts_with("$.id: "), "{e}");
    // Pricing errors name the path too.
    let cdr = r#"{"start_date_time": "2025-03-03T10:00:00Z", "end_date_time": "2025-03-03T11:00:00Z",
        "tariffs": [], "charging_periods": [
          {"start_date_time": "2025-03-03T10:30:00Z", "dimensions": []},
          {"start_date_time": "2025-03-03T10:10:00Z", "dimensions": []}]}"#;
    let tariff =
        r#"{"country_code": "DE", "party_id": "X", "id": "T", "currency": "EUR", "elements": []}"#;
    let e = ocpi::price_cdr_json(cdr, Some(tariff), Some("UTC"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("$.charging_periods[1].start_date_time: "),
        "{e}"
    );
    let e = ocpi::price_cdr_json(
        &cdr.replace("10:10", "10:40").replace(
            "\"dimensions\": []}]",
            "\"dimensions\": [{\"type\": \"TIME\", \"volume\": -1}]}]",
        ),
        Some(tariff),
        Some("UTC"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("$.charging_periods[1].dimensions: "), "{e}");
}

fn cdr_at(location: &str) -> String {
    format!(
        r#"{{"start_date_time": "2025-03-03T10:00:00Z", "end_date_time": "2025-03-03T11:00:00Z",
            {location} "charging_periods": []}}"#
    )
}

#[test]
fn time_zone_resolution_order() {
    let zone = |tz: Option<&str>, location: &str| {
        ocpi::resolve_zone(tz, &ocpi::parse_cdr(&cdr_at(location)).unwrap()).map(|z| z.to_string())
    };
    let both = r#""cdr_location": {"country": "DEU", "time_zone": "Europe/Amsterdam"},"#;
    // Explicit wins, then the location's zone, then the country's only zone.
    assert_eq!(zone(Some("Asia/Tokyo"), both).unwrap(), "Asia/Tokyo");
    assert_eq!(zone(None, both).unwrap(), "Europe/Amsterdam");
    assert_eq!(
        zone(None, r#""cdr_location": {"country": "DEU"},"#).unwrap(),
        "Europe/Berlin"
    );
    // Iran is Asia/Tehran (not Ireland's Europe/Dublin).
    assert_eq!(
        zone(None, r#""cdr_location": {"country": "IRN"},"#).unwrap(),
        "Asia/Tehran"
    );
    // Several zones, or none known: a clear error.
    let e = zone(None, r#""cdr_location": {"country": "USA"},"#).unwrap_err();
    assert_eq!(
        e,
        OcpiError::NoTimeZone {
            country: Some("USA".into())
        }
    );
    assert!(e.to_string().contains("USA"));
    assert!(matches!(
        zone(None, ""),
        Err(OcpiError::NoTimeZone { country: None })
    ));
    let e = zone(Some("Mars/Olympus"), "").unwrap_err().to_string();
    assert_eq!(e, r#"--tz: unknown time zone "Mars/Olympus""#);
    assert_eq!(zone(Some("+05:30"), "").unwrap(), "+05:30");
}

const CDR: &str = r#"{"start_date_time": "2025-03-03T10:00:00Z", "end_date_time": "2025-03-03T12:00:00Z",
  "cdr_location": {"country": "DEU"}, "credit": false,
  "tariffs": [{"country_code": "DE", "party_id": "X", "id": "T", "currency": "EUR",
    "min_price": {"excl_vat": 1}, "max_price": {"excl_vat": 30, "incl_vat": 35},
    "elements": [
      {"price_components": [{"type": "ENERGY", "price": 0.3, "vat": 19, "step_size": 500},
                            {"type": "TIME", "price": 1, "vat": 19, "step_size": 60}],
       "restrictions": {"start_time": "08:00", "end_time": "20:00", "max_power": 50, "min_kwh": 1}},
      {"price_components": [{"type": "ENERGY", "price": 0.4, "step_size": 1},
                            {"type": "PARKING_TIME", "price": 2, "step_size": 300},
                            {"type": "FLAT", "price": 1, "step_size": 0}]}]}],
  "charging_periods": [
    {"start_date_time": "2025-03-03T10:00:00Z", "dimensions": [{"type": "ENERGY", "volume": 5}, {"type": "TIME", "volume": 1}, {"type": "MAX_POWER", "volume": 11}]},
    {"start_date_time": "2025-03-03T11:00:00Z", "dimensions": [{"type": "ENERGY", "volume": 2.5}, {"type": "PARKING_TIME", "volume": 1}]}]}"#;

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = ocpi::price_cdr_json(&text, None, None);
        let _ = ocpi::price_cdr_json(CDR, Some(&text), Some("UTC"));
    }

    #[test]
    fn mutated_cdrs_never_panic(
        cut in 0usize..2000,
        insert in prop::sample::select(vec![
            "", "-", "1e28", "79228162514264337593543950335", "-0", "\"x\"", "null", "[", "{", "}", ",", "0.00000000000000000001",
            "\"24:00\"", "9999999999999999999999", "\"9999-12-31T23:59:59Z\"", "\"0000-01-01T00:00:00Z\"",
        ]),
        drop in 0usize..8,
    ) {
        let mut text = CDR.to_string();
        let at = cut.min(text.len());
        if text.is_char_boundary(at) {
            let end = (at + drop).min(text.len());
            if text.is_char_boundary(end) {
                text.replace_range(at..end, insert);
            }
        }
        let _ = ocpi::price_cdr_json(&text, None, Some("Europe/Berlin"));
    }

    #[test]
    fn extreme_numbers_never_panic(
        price in prop::sample::select(vec!["0", "-1", "1e27", "79228162514264337593543950335", "0.0000000000000000000000000001"]),
        volume in prop::sample::select(vec!["0", "-5", "1e27", "79228162514264337593543950335", "0.00001", "1e20"]),
        step in prop::sample::select(vec!["0", "1", "4294967295"]),
    ) {
        let text = CDR
            .replace("\"price\": 0.3", &format!("\"price\": {price}"))
            .replace("\"volume\": 5", &format!("\"volume\": {volume}"))
            .replace("\"volume\": 1}, {\"type\": \"MAX", &format!("\"volume\": {volume}}}, {{\"type\": \"MAX"))
            .replace("\"step_size\": 300", &format!("\"step_size\": {step}"));
        let _ = ocpi::price_cdr_json(&text, None, None);
    }
}

#[test]
fn dates_at_the_end_of_time_are_errors_not_panics() {
    // The largest date chrono represents, read as UTC; Berlin's offset would pass its end.
    let text = CDR
        .replace("2025-03-03T12:00:00Z", "+262142-12-31T23:59:59")
        .replace("2025-03-03T11:00:00Z", "+262142-12-31T23:59:59");
    let parsed = ocpi::parse_cdr(&text).unwrap();
    assert_eq!(chrono::Datelike::year(&parsed.end_date_time), 262_142);
    // The second period starts at the very last second: its local time does not exist.
    let e = ocpi::price_cdr_json(&text, None, Some("Europe/Berlin")).unwrap_err();
    assert_eq!(
        e,
        OcpiError::Overflow {
            path: "$.charging_periods[1]".into()
        }
    );
}

#[test]
fn the_proptest_base_cdr_prices() {
    // Period 1 (10:00, 11 kW, 0 kWh before): min_kwh 1 fails, so element 1: 5 × 0.40 = 2.00,
    // and TIME is priced by no element (element 1 has none). Period 2 (11:00, 5 kWh before,
    // no power reported so max_power fails): element 1: 2.5 × 0.40 = 1.00; parking 1 h × 2 = 2.00.
    // FLAT 1.00. Total 2.00 + 1.00 + 2.00 + 1.00 = 6.00; no VAT on element 1: incl 6.00.
    let p = ocpi::price_cdr_json(CDR, None, None).unwrap();
    assert_eq!(p.total_cost.excl_vat.to_string(), "6.0000");
    assert_eq!(p.total_cost.incl_vat.unwrap().to_string(), "6.0000");
    assert_eq!(p.total_time_cost, None);
}

/// A 4-element time-of-day tariff with the given step sizes (ENERGY Wh, TIME s), VAT 21 %.
fn tod_tariff(energy_step: u32, time_step: u32) -> String {
    let element = |price: &str, window: &str| {
        format!(
            r#"{{"price_components": [
                {{"type": "ENERGY", "price": {price}, "vat": 21, "step_size": {energy_step}}},
                {{"type": "TIME", "price": 1.5, "vat": 21, "step_size": {time_step}}}]{window}}}"#
        )
    };
    let elements = [
        element(
            "0.21",
            r#", "restrictions": {"start_time": "00:00", "end_time": "06:00"}"#,
        ),
        element(
            "0.33",
            r#", "restrictions": {"start_time": "06:00", "end_time": "12:00"}"#,
        ),
        element(
            "0.45",
            r#", "restrictions": {"start_time": "12:00", "end_time": "18:00"}"#,
        ),
        element("0.39", ""),
    ];
    format!(
        r#"{{"country_code": "DE", "party_id": "X", "id": "T", "currency": "EUR", "elements": [{}]}}"#,
        elements.join(",")
    )
}

fn round4(v: Decimal) -> Decimal {
    let mut r = v.round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    r.rescale(4);
    r
}

proptest! {
    #[test]
    fn totals_agree_with_the_breakdown(
        minutes in prop::collection::vec(1i64..240, 1..20),
        wh in prop::collection::vec(0u32..50_000, 20),
        energy_step in prop::sample::select(vec![0u32, 1, 100, 500, 1000]),
        time_step in prop::sample::select(vec![0u32, 1, 60, 300, 900]),
    ) {
        let start = chrono::DateTime::parse_from_rfc3339("2025-03-03T00:00:00Z").unwrap().to_utc();
        let mut at = start;
        let mut periods = Vec::new();
        for (len, wh) in minutes.iter().zip(&wh) {
            periods.push(format!(
                r#"{{"start_date_time": "{}", "dimensions": [{{"type": "ENERGY", "volume": {}}}, {{"type": "TIME", "volume": {}}}]}}"#,
                at.to_rfc3339(),
                Decimal::new(i64::from(*wh), 3),
                Decimal::from(*len) / Decimal::from(60)
            ));
            at += chrono::TimeDelta::minutes(*len);
        }
        let cdr = format!(
            r#"{{"start_date_time": "{}", "end_date_time": "{}", "tariffs": [{}], "charging_periods": [{}]}}"#,
            start.to_rfc3339(), at.to_rfc3339(), tod_tariff(energy_step, time_step), periods.join(",")
        );
        let p = ocpi::price_cdr_json(&cdr, None, Some("UTC")).unwrap();
        let energy: Decimal = p.periods.iter().filter_map(|x| x.energy).map(|d| d.excl_vat().unwrap()).sum();
        let time: Decimal = p.periods.iter().filter_map(|x| x.time).map(|d| d.excl_vat().unwrap()).sum();
        let energy_total = p.total_energy_cost.unwrap();
        prop_assert_eq!(energy_total.excl_vat, round4(energy));
        prop_assert_eq!(p.total_time_cost.unwrap().excl_vat, round4(time));
        // One VAT rate everywhere: incl is excl × 1.21, rounded once.
        prop_assert_eq!(energy_total.incl_vat, Some(round4(energy * Decimal::new(121, 2))));
        // step_size only ever adds less than one step to the delivered total.
        let delivered: Decimal = wh.iter().take(minutes.len()).map(|w| Decimal::new(i64::from(*w), 3)).sum();
        let billed: Decimal = p.periods.iter().filter_map(|x| x.energy).map(|d| d.volume()).sum();
        prop_assert!(billed >= delivered);
        prop_assert!(billed - delivered < Decimal::from(energy_step.max(1)) / Decimal::ONE_THOUSAND);
        if energy_step > 0 {
            prop_assert!((billed * Decimal::ONE_THOUSAND % Decimal::from(energy_step)).is_zero());
        }
        prop_assert_eq!(p.total_energy, round4(delivered));
    }
}
