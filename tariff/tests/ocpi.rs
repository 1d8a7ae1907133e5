//! OCPI CDR pricing: hand-computed cases, one per rule. Every expected figure is derived in
//! the comments. Times are UTC unless a zone is named.
#![cfg(feature = "ocpi")]
#![allow(clippy::unwrap_used)]

use meterkit_tariff::ocpi::{self, Clamp, OcpiError, PricedCdr};
use rust_decimal::Decimal;

/// A 2.2.1 tariff with these elements and extra top-level fields (`, "k": v`).
fn tariff(elements: &str, extra: &str) -> String {
    format!(
        r#"{{"country_code": "DE", "party_id": "MKT", "id": "T", "currency": "EUR",
            "elements": [{elements}]{extra}}}"#
    )
}

/// A CDR on 2025-03-03 (a Monday) unless times say otherwise: `periods` are (start, dimensions).
fn cdr(tariffs: &str, start: &str, end: &str, periods: &[(&str, &str)], extra: &str) -> String {
    let periods: Vec<String> = periods
        .iter()
        .map(|(at, dims)| format!(r#"{{"start_date_time": "{at}", "dimensions": [{dims}]}}"#))
        .collect();
    format!(
        r#"{{"start_date_time": "{start}", "end_date_time": "{end}", "currency": "EUR",
            "cdr_location": {{"country": "DEU"}}, "tariffs": [{tariffs}],
            "charging_periods": [{}]{extra}}}"#,
        periods.join(",")
    )
}

fn energy(kwh: &str) -> String {
    format!(r#"{{"type": "ENERGY", "volume": {kwh}}}"#)
}

fn price(cdr: &str, tz: &str) -> PricedCdr {
    ocpi::price_cdr_json(cdr, None, Some(tz)).unwrap()
}

fn s(value: Option<Decimal>) -> String {
    value.map_or_else(|| "null".into(), |v| v.to_string())
}

fn excl(p: &PricedCdr) -> String {
    p.total_cost.excl_vat.to_string()
}

const DAY: &str = "2025-03-03";

fn at(hhmm: &str) -> String {
    format!("{DAY}T{hhmm}:00Z")
}

#[test]
fn energy_and_time_with_vat() {
    // 10 kWh × 0.25 = 2.50; 1.5 h × 2.00 = 3.00; excl 5.50.
    // incl: energy 2.50 × 1.21 = 3.025, time 3.00 × 1.10 = 3.30 (VAT per component): 6.325.
    let t = tariff(
        r#"{"price_components": [
            {"type": "ENERGY", "price": 0.25, "vat": 21, "step_size": 1},
            {"type": "TIME", "price": "2.00", "vat": 10.0, "step_size": 1}]}"#,
        "",
    );
    let c = cdr(
        &t,
        &at("09:00"),
        &at("10:30"),
        &[(
            &at("09:00"),
            &format!(r#"{}, {{"type": "TIME", "volume": 1.5}}"#, energy("10")),
        )],
        "",
    );
    let p = price(&c, "UTC");
    assert_eq!(excl(&p), "5.5000");
    assert_eq!(s(p.total_cost.incl_vat), "6.3250");
    assert_eq!(s(p.total_energy_cost.map(|c| c.excl_vat)), "2.5000");
    assert_eq!(s(p.total_time_cost.and_then(|c| c.incl_vat)), "3.3000");
    assert_eq!(p.total_fixed_cost, None);
    assert_eq!(p.total_energy.to_string(), "10.0000");
    assert_eq!(p.total_time.to_string(), "1.5000");
}

#[test]
fn time_window_wraps_past_midnight() {
    // Night 22:00–06:00 at 0.20, otherwise 0.30; each period by the element at its start:
    // 21:00 2 kWh day 0.60 + 22:00 3 kWh night 0.60 + 05:00 (next day) 4 kWh night 0.80
    // + 06:00 1 kWh day 0.30 = 2.30.
    let t = tariff(
        r#"{"price_components": [{"type": "ENERGY", "price": 0.20, "step_size": 1}],
            "restrictions": {"start_time": "22:00", "end_time": "06:00"}},
           {"price_components": [{"type": "ENERGY", "price": 0.30, "step_size": 1}]}"#,
        "",
    );
    let c = cdr(
        &t,
        &at("21:00"),
        "2025-03-04T07:00:00Z",
        &[
            (&at("21:00"), &energy("2")),
            (&at("22:00"), &energy("3")),
            ("2025-03-04T05:00:00Z", &energy("4")),
            ("2025-03-04T06:00:00Z", &energy("1")),
        ],
        "",
    );
    let p = price(&c, "UTC");
    assert_eq!(excl(&p), "2.3000");
    let elements: Vec<usize> = p
        .periods
        .iter()
        .map(|x| x.energy.unwrap().element)
        .collect();
    assert_eq!(elements, [1, 0, 0, 1]);
}

#[test]
fn end_time_midnight_is_end_of_day() {
    // Evening 18:00–00:00 at 6.00/h, otherwise 2.00/h: 23:30 0.5 h × 6 = 3.00, then 00:00
    // belongs to the next day (not the evening window): 0.5 h × 2 = 1.00; total 4.00.
    let t = tariff(
        r#"{"price_components": [{"type": "TIME", "price": 6, "step_size": 1}],
            "restrictions": {"start_time": "18:00", "end_time": "00:00"}},
           {"price_components": [{"type": "TIME", "price": 2, "step_size": 1}]}"#,
        "",
    );
    let time = r#"{"type": "TIME", "volume": 0.5}"#;
    let c = cdr(
        &t,
        &at("23:30"),
        "2025-03-04T01:00:00Z",
        &[(&at("23:30"), time), ("2025-03-04T00:00:00Z", time)],
        "",
    );
    // The second period lasts 1 h but reports 0.5 h of charging: TIME volumes are priced.
    assert_eq!(excl(&price(&c, "UTC")), "4.0000");
}

#[test]
fn day_of_week_uses_the_local_date_across_midnight() {
    // Weekend 0.50, otherwise 0.30; in Europe/Berlin (UTC+1 in March) the 22:00 UTC period on
    // Friday 2025-03-07 starts Friday 23:00 local (0.30), the 23:00 UTC one Saturday 00:00
    // local (0.50): 5 × 0.30 + 5 × 0.50 = 1.50 + 2.50 = 4.00. Read in UTC both are Friday: 3.00.
    let t = tariff(
        r#"{"price_components": [{"type": "ENERGY", "price": 0.50, "step_size": 1}],
            "restrictions": {"day_of_week": ["SATURDAY", "SUNDAY"]}},
           {"price_components": [{"type": "ENERGY", "price": 0.30, "step_size": 1}]}"#,
        "",
    );
    let c = cdr(
        &t,
        "2025-03-07T22:00:00Z",
        "2025-03-08T00:00:00Z",
        &[
            ("2025-03-07T22:00:00Z", &energy("5")),
            ("2025-03-07T23:00:00Z", &energy("5")),
        ],
        "",
    );
    assert_eq!(excl(&price(&c, "Europe/Berlin")), "4.0000");
    assert_eq!(excl(&price(&c, "UTC")), "3.0000");
    // Without --tz the location country DEU gives Europe/Berlin.
    assert_eq!(
        excl(&ocpi::price_cdr_json(&c, None, None).unwrap()),
        "4.0000"
    );
}

#[test]
fn first_matching_element_per_dimension_and_power() {
    // Element 0 prices only TIME, at 3.00/h, from 11 kW; element 1 has ENERGY 0.25 and TIME
    // 1.00/h. Period 1 (22 kW): ENERGY from element 1 (element 0 has none), TIME from element 0.
    // Period 2 (7 kW): both from element 1.
    // Energy 13 kWh × 0.25 = 3.25; time 0.5 × 3 + 0.5 × 1 = 2.00; total 5.25.
    let t = tariff(
        r#"{"price_components": [{"type": "TIME", "price": 3, "step_size": 1}],
            "restrictions": {"min_power": 11}},
           {"price_components": [{"type": "ENERGY", "price": 0.25, "step_size": 1},
                                 {"type": "TIME", "price": 1, "step_size": 1}]}"#,
        "",
    );
    let dims = |kwh: &str, kw: &str| {
        format!(
            r#"{}, {{"type": "TIME", "volume": 0.5}}, {{"type": "MAX_POWER", "volume": {kw}}}"#,
            energy(kwh)
        )
    };
    let c = cdr(
        &t,
        &at("10:00"),
        &at("11:00"),
        &[
            (&at("10:00"), &dims("10", "22")),
            (&at("10:30"), &dims("3", "7")),
        ],
        "",
    );
    let p = price(&c, "UTC");
    assert_eq!(excl(&p), "5.2500");
    assert_eq!(p.periods[0].time.unwrap().element, 0);
    assert_eq!(p.periods[0].energy.unwrap().element, 1);
    assert_eq!(p.periods[1].time.unwrap().element, 1);
}

#[test]
fn kwh_current_and_date_restrictions() {
    // max_kwh 10 (energy so far, before the period): 0 and 6 kWh before -> 0.40; 12 -> 0.30.
    // 6 × 0.40 + 6 × 0.40 + 6 × 0.30 = 2.40 + 2.40 + 1.80 = 6.60.
    let t = tariff(
        r#"{"price_components": [{"type": "ENERGY", "price": 0.40, "step_size": 1}],
            "restrictions": {"max_kwh": 10}},
           {"price_components": [{"type": "ENERGY", "price": 0.30, "step_size": 1}]}"#,
        "",
    );
    let c = cdr(
        &t,
        &at("10:00"),
        &at("13:00"),
        &[
            (&at("10:00"), &energy("6")),
            (&at("11:00"), &energy("6")),
            (&at("12:00"), &energy("6")),
        ],
        "",
    );
    assert_eq!(excl(&price(&c, "UTC")), "6.6000");

    // min_current 32 A: 63 A -> 0.50; 16 A -> 0.30; no current reported -> the restriction
    // does not hold -> 0.30. 2 × 0.50 + 2 × 0.30 + 2 × 0.30 = 2.20.
    let t = tariff(
        r#"{"price_components": [{"type": "ENERGY", "price": 0.50, "step_size": 1}],
            "restrictions": {"min_current": 32}},
           {"price_components": [{"type": "ENERGY", "price": 0.30, "step_size": 1}]}"#,
        "",
    );
    let amps = |a: &str| {
        format!(
            r#"{}, {{"type": "MAX_CURRENT", "volume": {a}}}"#,
            energy("2")
        )
    };
    let c = cdr(
        &t,
        &at("10:00"),
        &at("13:00"),
        &[
            (&at("10:00"), &amps("63")),
            (&at("11:00"), &amps("16")),
            (&at("12:00"), &energy("2")),
        ],
        "",
    );
    assert_eq!(excl(&price(&c, "UTC")), "2.2000");

    // end_date 2025-03-04 (exclusive): 23:00 on the 3rd -> 0.10; 00:00 on the 4th -> 0.20.
    let t = tariff(
        r#"{"price_components": [{"type": "ENERGY", "price": 0.10, "step_size": 1}],
            "restrictions": {"start_date": "2025-03-01", "end_date": "2025-03-04"}},
           {"price_components": [{"type": "ENERGY", "price": 0.20, "step_size": 1}]}"#,
        "",
    );
    let c = cdr(
        &t,
        &at("23:00"),
        "2025-03-04T01:00:00Z",
        &[
            (&at("23:00"), &energy("1")),
            ("2025-03-04T00:00:00Z", &energy("1")),
        ],
        "",
    );
    assert_eq!(excl(&price(&c, "UTC")), "0.3000");
}

#[test]
fn duration_counts_from_session_start() {
    // Parking 10.00/h once the session is 1 h old, 1.00/h before. Periods start 0, 30 and 60
    // minutes in: 0.5 × 1 + 0.5 × 1 + 0.5 × 10 = 6.00.
    let t = tariff(
        r#"{"price_components": [{"type": "PARKING_TIME", "price": 10, "step_size": 1}],
            "restrictions": {"min_duration": 3600}},
           {"price_components": [{"type": "PARKING_TIME", "price": 1, "step_size": 1}]}"#,
        "",
    );
    let park = r#"{"type": "PARKING_TIME", "volume": 0.5}"#;
    let c = cdr(
        &t,
        &at("10:00"),
        &at("11:30"),
        &[
            (&at("10:00"), park),
            (&at("10:30"), park),
            (&at("11:00"), park),
        ],
        "",
    );
    let p = price(&c, "UTC");
    assert_eq!(excl(&p), "6.0000");
    assert_eq!(p.total_parking_time.to_string(), "1.5000");
}

#[test]
fn energy_step_size_applies_once_to_the_session_total() {
    // The spec's example: 4.3 kWh before 17:00 + 1.1 kWh after, step 500 Wh: 5.4 kWh -> 5.5 kWh,
    // the extra 0.1 kWh in the last period: 4.3 × 0.20 + 1.2 × 0.30 = 0.86 + 0.36 = 1.22
    // (not 1.1 -> 1.5 kWh after 17:00, which would give 1.31).
    let t = tariff(
        r#"{"price_components": [{"type": "ENERGY", "price": 0.20, "step_size": 500}],
            "restrictions": {"end_time": "17:00"}},
           {"price_components": [{"type": "ENERGY", "price": 0.30, "step_size": 500}]}"#,
        "",
    );
    let c = cdr(
        &t,
        &at("16:00"),
        &at("18:00"),
        &[
            (&at("16:00"), &energy("4.3")),
            (&at("17:00"), &energy("1.1")),
        ],
        "",
    );
    let p = price(&c, "UTC");
    assert_eq!(excl(&p), "1.2200");
    assert_eq!(p.periods[1].energy.unwrap().volume().to_string(), "1.2");
    // The CDR's energy is what was delivered, not what was billed.
    assert_eq!(p.total_energy.to_string(), "5.4000");
}

#[test]
fn time_and_parking_step_size() {
    // The spec's example: 21 min charging + 7 min parked, 5-min (300 s) steps. Parking is
    // priced, so only parking is rounded: charge 21 min, park 420 s -> 600 s (10 min).
    // 0.35 h × 6.00 = 2.10; 10/60 h × 12.00 = 2.00; total 4.10.
    // 7 min is 0.1167 h on the wire (420.12 s), snapped to the period's 420 s.
    let both = tariff(
        r#"{"price_components": [{"type": "TIME", "price": 6, "step_size": 300},
                                 {"type": "PARKING_TIME", "price": 12, "step_size": 300}]}"#,
        "",
    );
    let periods = [
        (
            at("10:00"),
            format!(r#"{}, {{"type": "TIME", "volume": 0.35}}"#, energy("7")),
        ),
        (
            at("10:21"),
            r#"{"type": "PARKING_TIME", "volume": 0.1167}"#.to_string(),
        ),
    ];
    let periods: Vec<(&str, &str)> = periods
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let p = price(&cdr(&both, &at("10:00"), &at("10:28"), &periods, ""), "UTC");
    assert_eq!(excl(&p), "4.1000");
    assert_eq!(s(p.total_time_cost.map(|c| c.excl_vat)), "2.1000");
    assert_eq!(s(p.total_parking_cost.map(|c| c.excl_vat)), "2.0000");

    // Parking not priced: the charging time is rounded instead: 21 min -> 25 min:
    // 25/60 × 6.00 = 2.50.
    let time_only = tariff(
        r#"{"price_components": [{"type": "TIME", "price": 6, "step_size": 300}]}"#,
        "",
    );
    let p = price(
        &cdr(&time_only, &at("10:00"), &at("10:28"), &periods, ""),
        "UTC",
    );
    assert_eq!(excl(&p), "2.5000");
    assert_eq!(p.total_parking_cost, None);

    // step_size 0: no rounding: 0.35 × 6 = 2.10.
    let no_step = tariff(
        r#"{"price_components": [{"type": "TIME", "price": 6, "step_size": 0}]}"#,
        "",
    );
    let p = price(
        &cdr(&no_step, &at("10:00"), &at("10:28"), &periods, ""),
        "UTC",
    );
    assert_eq!(excl(&p), "2.1000");
}

#[test]
fn flat_once_per_session_from_the_first_element_that_applies() {
    // Morning element FLAT 1.00 + ENERGY 0.20 (00:00–12:00), then FLAT 2.00 + ENERGY 0.30.
    // Periods at 11:00 and 12:00: FLAT once, the morning's 1.00; energy 1 × 0.20 + 1 × 0.30.
    // Total 1.00 + 0.50 = 1.50.
    let t = tariff(
        r#"{"price_components": [{"type": "FLAT", "price": 1, "vat": 20, "step_size": 0},
                                 {"type": "ENERGY", "price": 0.20, "step_size": 1}],
            "restrictions": {"start_time": "00:00", "end_time": "12:00"}},
           {"price_components": [{"type": "FLAT", "price": 2, "step_size": 0},
                                 {"type": "ENERGY", "price": 0.30, "step_size": 1}]}"#,
        "",
    );
    let c = cdr(
        &t,
        &at("11:00"),
        &at("13:00"),
        &[(&at("11:00"), &energy("1")), (&at("12:00"), &energy("1"))],
        "",
    );
    let p = price(&c, "UTC");
    assert_eq!(excl(&p), "1.5000");
    let fixed = p.total_fixed_cost.unwrap();
    assert_eq!(fixed.excl_vat.to_string(), "1.0000");
    // FLAT 1.00 with 20 % VAT = 1.20; energy has no VAT: 0.50. incl = 1.70.
    assert_eq!(s(fixed.incl_vat), "1.2000");
    assert_eq!(s(p.total_cost.incl_vat), "1.7000");
}

#[test]
fn vat_absent_zero_and_unknown_are_distinct() {
    let with_vat = |vat: &str, party: bool| {
        let head = if party {
            r#""country_code": "DE", "party_id": "MKT", "#
        } else {
            ""
        };
        format!(
            r#"{{{head}"id": "T", "currency": "EUR", "elements": [{{"price_components": [
                {{"type": "ENERGY", "price": 0.30, {vat}"step_size": 1}}]}}]}}"#
        )
    };
    let run = |t: &str| {
        price(
            &cdr(
                t,
                &at("10:00"),
                &at("11:00"),
                &[(&at("10:00"), &energy("10"))],
                "",
            ),
            "UTC",
        )
    };
    // 10 kWh × 0.30 = 3.00 excl in every case.
    // 2.2.1, VAT absent: "no VAT applicable", incl = excl = 3.00.
    let absent = run(&with_vat("", true));
    assert_eq!(s(absent.total_cost.incl_vat), "3.0000");
    assert_eq!(absent.periods[0].energy.unwrap().component.vat, None);
    assert!(absent.to_string().contains("no VAT"));
    // 2.2.1, VAT 0 %: the same amount, but a 0 % rate is recorded and shown.
    let zero = run(&with_vat(r#""vat": 0, "#, true));
    assert_eq!(s(zero.total_cost.incl_vat), "3.0000");
    assert_eq!(
        zero.periods[0].energy.unwrap().component.vat,
        Some(Decimal::ZERO)
    );
    assert!(zero.to_string().contains("VAT 0 %"));
    // 20 %: 3.00 × 1.20 = 3.60.
    assert_eq!(
        s(run(&with_vat(r#""vat": 20, "#, true)).total_cost.incl_vat),
        "3.6000"
    );
    // 2.1.1 (no country_code/party_id): VAT unknown, incl is null.
    let v211 = run(&with_vat("", false));
    assert_eq!(v211.total_cost.incl_vat, None);
    assert!(v211.to_json().contains(r#""incl_vat":null"#));
}

#[test]
fn min_and_max_price_bound_excl_and_incl_separately() {
    let t = |bounds: &str| {
        tariff(
            r#"{"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 20, "step_size": 1}]}"#,
            bounds,
        )
    };
    let ten = |t: &str| {
        cdr(
            t,
            &at("10:00"),
            &at("11:00"),
            &[(&at("10:00"), &energy("10"))],
            "",
        )
    };
    // 10 × 0.30 = 3.00 excl, 3.60 incl; min 5.00/6.00 raises both.
    let p = price(
        &ten(&t(r#", "min_price": {"excl_vat": 5, "incl_vat": 6}"#)),
        "UTC",
    );
    assert_eq!(
        (excl(&p), s(p.total_cost.incl_vat)),
        ("5.0000".into(), "6.0000".into())
    );
    assert_eq!(p.clamped, Some(Clamp::Min));
    // The dimension totals are not changed by the bound.
    assert_eq!(s(p.total_energy_cost.map(|c| c.excl_vat)), "3.0000");
    // max 2.00 excl without an incl bound: excl 2.00, incl stays 3.60.
    let p = price(&ten(&t(r#", "max_price": {"excl_vat": 2}"#)), "UTC");
    assert_eq!(
        (excl(&p), s(p.total_cost.incl_vat)),
        ("2.0000".into(), "3.6000".into())
    );
    assert_eq!(p.clamped, Some(Clamp::Max));
    // Nothing priced (no periods): min_price still applies.
    let empty = cdr(
        &t(r#", "min_price": {"excl_vat": 1.5, "incl_vat": 1.8}"#),
        &at("10:00"),
        &at("10:00"),
        &[],
        "",
    );
    let p = price(&empty, "UTC");
    assert_eq!(
        (excl(&p), s(p.total_cost.incl_vat)),
        ("1.5000".into(), "1.8000".into())
    );
}

#[test]
fn credit_cdr_is_negated_after_clamping() {
    // 10 × 0.30 = 3.00, raised to min 5.00, then negated: -5.00.
    let t = tariff(
        r#"{"price_components": [{"type": "ENERGY", "price": 0.30, "step_size": 1}]}"#,
        r#", "min_price": {"excl_vat": 5}"#,
    );
    let c = cdr(
        &t,
        &at("10:00"),
        &at("11:00"),
        &[(&at("10:00"), &energy("10"))],
        r#", "credit": true"#,
    );
    let p = price(&c, "UTC");
    assert_eq!(excl(&p), "-5.0000");
    assert_eq!(s(p.total_energy_cost.map(|c| c.excl_vat)), "-3.0000");
}

#[test]
fn ties_round_away_from_zero() {
    // 0.5 kWh × 0.0001 = 0.00005, exactly half-way: 0.0001 (banker's would give 0.0000).
    let t = tariff(
        r#"{"price_components": [{"type": "ENERGY", "price": 0.0001, "step_size": 0}]}"#,
        "",
    );
    let c = cdr(
        &t,
        &at("10:00"),
        &at("11:00"),
        &[(&at("10:00"), &energy("0.5"))],
        "",
    );
    assert_eq!(excl(&price(&c, "UTC")), "0.0001");
    // 1.5 kWh: 0.00015 -> 0.0002 (banker's would also give 0.0002).
    let c = cdr(
        &t,
        &at("10:00"),
        &at("11:00"),
        &[(&at("10:00"), &energy("1.5"))],
        "",
    );
    assert_eq!(excl(&price(&c, "UTC")), "0.0002");
}

#[test]
fn dst_change_inside_a_session() {
    // Europe/Berlin springs forward on 2025-03-30 at 01:00 UTC (02:00 CET -> 03:00 CEST).
    // Early 03:00–06:00 local at 4.00/h, otherwise 1.00/h. 00:00 UTC = 01:00 CET: 1 h × 1.00;
    // 01:00 UTC = 03:00 CEST: 2 h × 4.00 = 8.00. Total 9.00; the session lasts 3 h of UTC.
    let t = tariff(
        r#"{"price_components": [{"type": "TIME", "price": 4, "step_size": 1}],
            "restrictions": {"start_time": "03:00", "end_time": "06:00"}},
           {"price_components": [{"type": "TIME", "price": 1, "step_size": 1}]}"#,
        "",
    );
    let c = cdr(
        &t,
        "2025-03-30T00:00:00Z",
        "2025-03-30T03:00:00Z",
        &[
            ("2025-03-30T00:00:00Z", r#"{"type": "TIME", "volume": 1}"#),
            ("2025-03-30T01:00:00Z", r#"{"type": "TIME", "volume": 2}"#),
        ],
        "",
    );
    let p = price(&c, "Europe/Berlin");
    assert_eq!(excl(&p), "9.0000");
    assert_eq!(p.total_time.to_string(), "3.0000");
    assert_eq!(p.periods[1].local_start.to_string(), "2025-03-30 03:00:00");
}

#[test]
fn reservation_time_is_priced_by_reservation_elements() {
    // Reservation element TIME 1.20/h; the session's element ENERGY 0.30 only.
    // 0.5 h reserved × 1.20 = 0.60; 10 kWh × 0.30 = 3.00; total 3.60; no charging-time cost
    // (the reservation element's TIME is for reservations only).
    let t = tariff(
        r#"{"price_components": [{"type": "TIME", "price": 1.2, "step_size": 1}],
            "restrictions": {"reservation": "RESERVATION"}},
           {"price_components": [{"type": "ENERGY", "price": 0.30, "step_size": 1}]}"#,
        "",
    );
    let c = cdr(
        &t,
        &at("09:00"),
        &at("10:30"),
        &[
            (
                &at("09:00"),
                r#"{"type": "RESERVATION_TIME", "volume": 0.5}"#,
            ),
            (
                &at("09:30"),
                &format!(r#"{}, {{"type": "TIME", "volume": 1}}"#, energy("10")),
            ),
        ],
        "",
    );
    let p = price(&c, "UTC");
    assert_eq!(excl(&p), "3.6000");
    assert_eq!(s(p.total_reservation_cost.map(|c| c.excl_vat)), "0.6000");
    assert_eq!(p.total_time_cost, None);
}

#[test]
fn ocpi_211_cdr_and_tariff() {
    // 2.1.1 names: stop_date_time, location with time_zone, total_cost as a number, a tariff
    // without country_code/party_id or VAT. 8 kWh × 0.25 = 2.00 excl, incl unknown.
    // Night 00:00–07:00 local Amsterdam (UTC+1) is 0.10: 06:30 UTC is 07:30 local, so 0.25.
    let c = r#"{"id": "1", "start_date_time": "2025-03-03T06:30:00Z", "stop_date_time": "2025-03-03T07:30:00Z",
        "currency": "EUR", "location": {"id": "L", "country": "NLD", "time_zone": "Europe/Amsterdam"},
        "tariffs": [{"id": "T", "currency": "EUR", "elements": [
            {"price_components": [{"type": "ENERGY", "price": 0.10, "step_size": 1}],
             "restrictions": {"start_time": "00:00", "end_time": "07:00"}},
            {"price_components": [{"type": "ENERGY", "price": 0.25, "step_size": 1}]}]}],
        "charging_periods": [{"start_date_time": "2025-03-03T06:30:00Z",
            "dimensions": [{"type": "ENERGY", "volume": 8}, {"type": "FLAT", "volume": 1}]}],
        "total_cost": 2.0, "total_energy": 8, "total_time": 1.0, "total_parking_time": 0}"#;
    let p = ocpi::price_cdr_json(c, None, None).unwrap();
    assert_eq!(excl(&p), "2.0000");
    assert_eq!(p.total_cost.incl_vat, None);
    assert_eq!(p.zone.to_string(), "Europe/Amsterdam");
    let parsed = ocpi::parse_cdr(c).unwrap();
    assert_eq!(parsed.total_cost.unwrap().excl_vat, Decimal::new(20, 1));
}

#[test]
fn tariff_is_the_first_valid_at_session_start_and_can_be_given_apart() {
    let energy_tariff = |id: &str, p: &str, validity: &str| {
        format!(
            r#"{{"country_code": "DE", "party_id": "MKT", "id": "{id}", "currency": "EUR"{validity},
                "elements": [{{"price_components": [{{"type": "ENERGY", "price": {p}, "step_size": 1}}]}}]}}"#
        )
    };
    let old = energy_tariff(
        "old",
        "0.20",
        r#", "end_date_time": "2025-03-01T00:00:00Z""#,
    );
    let new = energy_tariff(
        "new",
        "0.40",
        r#", "start_date_time": "2025-03-01T00:00:00Z""#,
    );
    let c = cdr(
        &format!("{old},{new}"),
        &at("10:00"),
        &at("11:00"),
        &[(&at("10:00"), &energy("10"))],
        "",
    );
    // 10 × 0.40 = 4.00 with the tariff valid on 2025-03-03.
    let p = price(&c, "UTC");
    assert_eq!((p.tariff_id.as_str(), excl(&p).as_str()), ("new", "4.0000"));
    // --tariff replaces the embedded ones: 10 × 0.20 (no validity bounds) = 2.00.
    let given = energy_tariff("given", "0.20", "");
    let p = ocpi::price_cdr_json(&c, Some(&given), Some("UTC")).unwrap();
    assert_eq!(excl(&p), "2.0000");
    let p = ocpi::price_cdr_json(&c, Some(&format!("[{old}]")), Some("UTC"));
    assert!(matches!(p, Err(OcpiError::NoTariff { .. })));
}

#[test]
fn json_output_has_the_contract_fields() {
    let t = tariff(
        r#"{"price_components": [{"type": "ENERGY", "price": 0.25, "step_size": 1}]}"#,
        "",
    );
    let c = cdr(
        &t,
        &at("10:00"),
        &at("10:40"),
        &[(&at("10:00"), &energy("2"))],
        "",
    );
    let v: serde_json::Value = serde_json::from_str(&price(&c, "UTC").to_json()).unwrap();
    assert_eq!(v["total_cost"]["excl_vat"], "0.5000");
    assert_eq!(v["total_cost"]["incl_vat"], "0.5000");
    assert_eq!(v["total_energy_cost"]["excl_vat"], "0.5000");
    for null in [
        "total_fixed_cost",
        "total_time_cost",
        "total_parking_cost",
        "total_reservation_cost",
    ] {
        assert!(v[null].is_null(), "{null}");
    }
    assert_eq!(v["total_energy"], "2.0000");
    // 40 minutes = 0.66666… h, rounded to 4 decimals.
    assert_eq!(v["total_time"], "0.6667");
    assert_eq!(v["total_parking_time"], "0.0000");
}

#[test]
fn example_cdrs_price_as_documented() {
    // examples-data/ocpi/cdr-2.2.1.json, Monday 2025-01-13 in Europe/Amsterdam (UTC+1, from
    // the country NLD):
    // 21:30 local: element 0 (07:00–23:00, weekdays): 7.5 kWh × 0.35 = 2.625, 1.5 h × 1.20 = 1.80.
    // 23:00 local: element 1: 2.37 kWh × 0.25; its 0.25 h of charging has no TIME price.
    // 23:15 local: element 2: parking 0.4 h = 1440 s.
    // ENERGY step 100 Wh on the session: 9870 -> 9900 Wh, +0.03 kWh in the last energy period:
    //   2.40 × 0.25 = 0.60; energy 3.225 excl, × 1.21 = 3.90225 incl -> 3.9023 (tie, away).
    // Parking priced, so only parking is stepped: 1440 s -> 1500 s: 1500/3600 × 6 = 2.50.
    // FLAT 0.50 once. Excl 2.625 + 0.60 + 1.80 + 2.50 + 0.50 = 8.025.
    // Incl 3.90225 + 2.178 + 3.025 + 0.605 = 9.71025 -> 9.7103 (tie, away from zero).
    let p = ocpi::price_cdr_json(
        include_str!("../examples-data/ocpi/cdr-2.2.1.json"),
        None,
        None,
    )
    .unwrap();
    assert_eq!(excl(&p), "8.0250");
    assert_eq!(s(p.total_cost.incl_vat), "9.7103");
    assert_eq!(s(p.total_energy_cost.and_then(|c| c.incl_vat)), "3.9023");
    assert_eq!(s(p.total_parking_cost.map(|c| c.excl_vat)), "2.5000");
    assert_eq!(s(p.total_time_cost.map(|c| c.excl_vat)), "1.8000");
    assert_eq!(s(p.total_fixed_cost.map(|c| c.excl_vat)), "0.5000");
    // The extra 0.03 kWh is booked in the last period with energy, not the parking period.
    let booked: Vec<Option<String>> = p
        .periods
        .iter()
        .map(|x| x.energy.map(|e| e.volume().to_string()))
        .collect();
    assert_eq!(booked, [Some("7.5".into()), Some("2.40".into()), None]);
    assert_eq!(
        (
            p.total_energy.to_string(),
            p.total_time.to_string(),
            p.total_parking_time.to_string()
        ),
        ("9.8700".into(), "2.1500".into(), "0.4000".into())
    );
    // The same session as OCPI 2.1.1: the same amounts excluding VAT; including VAT unknown.
    let p = ocpi::price_cdr_json(
        include_str!("../examples-data/ocpi/cdr-2.1.1.json"),
        None,
        None,
    )
    .unwrap();
    assert_eq!(excl(&p), "8.0250");
    assert_eq!(p.total_cost.incl_vat, None);
    assert!(
        p.to_string()
            .contains("total:       8.0250 excl. VAT, unknown incl. VAT"),
        "{p}"
    );
}

#[test]
fn minimums_are_inclusive_and_maximums_exclusive() {
    // Element 0 (0.50) needs ≥ 5 kWh before, < 22 kW, < 3600 s elapsed; else 0.30.
    // P0 10:00: 0 kWh before -> 0.30 × 5 = 1.50.
    // P1 10:30: exactly 5 kWh before, 21.9 kW, 1800 s -> 0.50 × 1 = 0.50.
    // P2 10:45: 6 kWh before but exactly 22 kW -> 0.30 × 1 = 0.30.
    // P3 11:00: 7 kWh before, 11 kW, but exactly 3600 s elapsed -> 0.30 × 1 = 0.30.
    // Total 2.60.
    let t = tariff(
        r#"{"price_components": [{"type": "ENERGY", "price": 0.50, "step_size": 1}],
            "restrictions": {"min_kwh": 5, "max_power": 22, "max_duration": 3600}},
           {"price_components": [{"type": "ENERGY", "price": 0.30, "step_size": 1}]}"#,
        "",
    );
    let kw =
        |kwh: &str, kw: &str| format!(r#"{}, {{"type": "POWER", "volume": {kw}}}"#, energy(kwh));
    let c = cdr(
        &t,
        &at("10:00"),
        &at("11:15"),
        &[
            (&at("10:00"), &kw("5", "11")),
            (&at("10:30"), &kw("1", "21.9")),
            (&at("10:45"), &kw("1", "22")),
            (&at("11:00"), &kw("1", "11")),
        ],
        "",
    );
    let p = price(&c, "UTC");
    assert_eq!(excl(&p), "2.6000");
    let elements: Vec<usize> = p
        .periods
        .iter()
        .map(|x| x.energy.unwrap().element)
        .collect();
    assert_eq!(elements, [1, 0, 1, 1]);
}

#[test]
fn expired_reservation_takes_the_expiry_element() {
    // No charging at all: RESERVATION_EXPIRES applies (2.00/h), not RESERVATION (1.00/h):
    // 0.5 h × 2.00 = 1.00.
    let t = tariff(
        r#"{"price_components": [{"type": "TIME", "price": 1, "step_size": 1}],
            "restrictions": {"reservation": "RESERVATION"}},
           {"price_components": [{"type": "TIME", "price": 2, "step_size": 1}],
            "restrictions": {"reservation": "RESERVATION_EXPIRES"}}"#,
        "",
    );
    let c = cdr(
        &t,
        &at("09:00"),
        &at("09:30"),
        &[(
            &at("09:00"),
            r#"{"type": "RESERVATION_TIME", "volume": 0.5}"#,
        )],
        "",
    );
    let p = price(&c, "UTC");
    assert_eq!(excl(&p), "1.0000");
    assert_eq!(p.periods[0].reservation.unwrap().element, 1);
}

#[test]
fn lone_and_equal_time_bounds() {
    // start_time 20:00 alone: from 20:00 to midnight; start == end (08:00–08:00): all day.
    // 19:00 -> element 2 (all day) 0.30; 20:00 -> element 0: 0.10. Total 0.40.
    let t = tariff(
        r#"{"price_components": [{"type": "ENERGY", "price": 0.10, "step_size": 1}],
            "restrictions": {"start_time": "20:00"}},
           {"price_components": [{"type": "ENERGY", "price": 0.20, "step_size": 1}],
            "restrictions": {"end_time": "19:00"}},
           {"price_components": [{"type": "ENERGY", "price": 0.30, "step_size": 1}],
            "restrictions": {"start_time": "08:00", "end_time": "08:00"}}"#,
        "",
    );
    let c = cdr(
        &t,
        &at("19:00"),
        &at("21:00"),
        &[(&at("19:00"), &energy("1")), (&at("20:00"), &energy("1"))],
        "",
    );
    assert_eq!(excl(&price(&c, "UTC")), "0.4000");
}

#[test]
fn currency_mismatch_is_an_error() {
    let t = tariff(
        r#"{"price_components": [{"type": "ENERGY", "price": 0.25, "step_size": 1}]}"#,
        "",
    );
    let c = cdr(
        &t,
        &at("10:00"),
        &at("11:00"),
        &[(&at("10:00"), &energy("1"))],
        "",
    )
    .replace(
        r#""currency": "EUR",
            "cdr_location""#,
        r#""currency": "CHF", "cdr_location""#,
    );
    let e = ocpi::price_cdr_json(&c, None, Some("UTC")).unwrap_err();
    assert!(e.to_string().starts_with("$.currency: "), "{e}");
}

#[test]
fn local_times_follow_each_period_across_a_dst_jump() {
    // Europe/Berlin jumps from 02:00 CET to 03:00 CEST at 01:00 UTC on 2025-03-30: periods
    // every 10 minutes from 00:30 UTC show local 01:30, 01:40, 01:50, then 03:00, 03:10.
    let t = tariff(
        r#"{"price_components": [{"type": "TIME", "price": 1, "step_size": 1}]}"#,
        "",
    );
    let times =
        ["00:30", "00:40", "00:50", "01:00", "01:10"].map(|m| format!("2025-03-30T{m}:00Z"));
    let periods: Vec<(&str, &str)> = times
        .iter()
        .map(|t| (t.as_str(), r#"{"type": "TIME", "volume": 0.1667}"#))
        .collect();
    let c = cdr(&t, &times[0], "2025-03-30T01:20:00Z", &periods, "");
    let p = price(&c, "Europe/Berlin");
    let local: Vec<String> = p
        .periods
        .iter()
        .map(|x| x.local_start.format("%H:%M").to_string())
        .collect();
    assert_eq!(local, ["01:30", "01:40", "01:50", "03:00", "03:10"]);
    // 50 minutes of charging at 1.00/h (each 0.1667 h snapped to its 10 minutes): 0.8333.
    assert_eq!(excl(&p), "0.8333");
}
