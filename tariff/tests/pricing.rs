//! Hand-computed pricing cases. Every expected figure is derived in the comments.
#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use chrono::TimeDelta;
use common::{chinese, chinese_version, cst, d, date, dst_tariff, single, utc, with_fees};
use meterkit_tariff::{
    Attribution, Bill, ChargeState, Currency, Error, LivePricer, PeriodKind, PricingPolicy,
    Reading, RoundingMode, RoundingPoint, SessionFees, Tariff, Tax, Tier, VersionSelection, Zone,
    price_session,
};

fn r(at: chrono::DateTime<chrono::Utc>, wh: u64) -> Reading {
    Reading::new(at, wh)
}

/// (period, energy Wh) of every line.
fn split(bill: &Bill) -> Vec<(PeriodKind, u64)> {
    bill.lines()
        .iter()
        .map(|l| (l.period.clone(), l.energy_wh))
        .collect()
}

#[test]
fn one_boundary_splits_linearly() {
    // 09:30–10:30 Beijing, 6000 Wh; the flat→peak boundary at 10:00 is half-way:
    // flat 3000 Wh: 3 × 0.70 = 2.10 electricity, 3 × 0.80 = 2.40 service
    // peak 3000 Wh: 3 × 1.00 = 3.00 electricity, 2.40 service
    // electricity 5.10 + service 4.80 = 9.90
    let t = chinese();
    let bill = price_session(
        &t,
        PricingPolicy::default(),
        cst(2025, 3, 3, 9, 30),
        cst(2025, 3, 3, 10, 30),
        &[
            r(cst(2025, 3, 3, 9, 30), 1000),
            r(cst(2025, 3, 3, 10, 30), 7000),
        ],
    )
    .unwrap();
    assert_eq!(
        split(&bill),
        vec![(PeriodKind::Flat, 3000), (PeriodKind::Peak, 3000)]
    );
    let [flat, peak] = bill.lines() else {
        panic!("two lines")
    };
    assert_eq!(
        (flat.start, flat.end),
        (cst(2025, 3, 3, 9, 30), cst(2025, 3, 3, 10, 0))
    );
    assert_eq!(
        (peak.start, peak.end),
        (cst(2025, 3, 3, 10, 0), cst(2025, 3, 3, 10, 30))
    );
    assert_eq!((flat.electricity, flat.service), (d("2.100"), d("2.400")));
    assert_eq!(bill.totals.electricity, d("5.10"));
    assert_eq!(bill.totals.service, d("4.80"));
    assert_eq!(bill.totals.gross, d("9.90"));
    assert_eq!(bill.totals.energy_wh, 6000);
}

#[test]
fn remainder_of_the_integer_split_goes_to_the_later_part() {
    // 1001 Wh over 09:59–10:02 (3 min); boundary after 1 min:
    // before = floor(1001 × 1 / 3) = 333, after = 1001 − 333 = 668.
    let t = chinese();
    let bill = price_session(
        &t,
        PricingPolicy::default(),
        cst(2025, 3, 3, 9, 59),
        cst(2025, 3, 3, 10, 2),
        &[
            r(cst(2025, 3, 3, 9, 59), 0),
            r(cst(2025, 3, 3, 10, 2), 1001),
        ],
    )
    .unwrap();
    assert_eq!(
        split(&bill),
        vec![(PeriodKind::Flat, 333), (PeriodKind::Peak, 668)]
    );
}

#[test]
fn several_boundaries_and_midnight() {
    // 22:00 → 08:00 next day, one interval of 10 h with 10 000 Wh (1000 Wh per hour):
    // flat 22–23: 1000; valley 23–07 (one line across midnight): 8000; flat 07–08: 1000.
    // electricity: 1 × 0.70 + 8 × 0.40 + 1 × 0.70 = 4.60; service 10 × 0.80 = 8.00; total 12.60
    let t = chinese();
    let bill = price_session(
        &t,
        PricingPolicy::default(),
        cst(2025, 3, 3, 22, 0),
        cst(2025, 3, 4, 8, 0),
        &[
            r(cst(2025, 3, 3, 22, 0), 0),
            r(cst(2025, 3, 4, 8, 0), 10_000),
        ],
    )
    .unwrap();
    assert_eq!(
        split(&bill),
        vec![
            (PeriodKind::Flat, 1000),
            (PeriodKind::Valley, 8000),
            (PeriodKind::Flat, 1000)
        ]
    );
    assert_eq!(bill.totals.electricity, d("4.60"));
    assert_eq!(bill.totals.service, d("8.00"));
    assert_eq!(bill.totals.gross, d("12.60"));
    // Per period class: flat 1000 + 1000 Wh → 2 × 0.70 = 1.40, 2 × 0.80 = 1.60;
    // valley 8 × 0.40 = 3.20, 8 × 0.80 = 6.40.
    let summary: Vec<_> = bill
        .by_period()
        .unwrap()
        .iter()
        .map(|t| (t.period.clone(), t.energy_wh, t.electricity, t.service))
        .collect();
    assert_eq!(
        summary,
        vec![
            (PeriodKind::Flat, 2000, d("1.40"), d("1.60")),
            (PeriodKind::Valley, 8000, d("3.20"), d("6.40")),
        ]
    );
    // Live, the current period follows the readings.
    let mut live = LivePricer::new(&t, cst(2025, 3, 3, 22, 0), PricingPolicy::default()).unwrap();
    assert_eq!(live.current_period(), None);
    live.push(&r(cst(2025, 3, 3, 22, 0), 0)).unwrap();
    live.push(&r(cst(2025, 3, 3, 22, 30), 500)).unwrap();
    assert_eq!(live.current_period(), Some(&PeriodKind::Flat));
    live.push(&r(cst(2025, 3, 4, 1, 0), 3000)).unwrap();
    assert_eq!(live.current_period(), Some(&PeriodKind::Valley));
}

#[test]
fn season_change_brings_the_summer_sharp_period() {
    // 11:00–12:00 with 2000 Wh: on 06-30 (spring) it is peak: 2 × (1.00 + 0.80) = 3.60;
    // on 07-01 (summer starts) it is sharp: 2 × (1.20 + 0.80) = 4.00.
    let t = chinese();
    let price = |day: (u32, u32)| {
        price_session(
            &t,
            PricingPolicy::default(),
            cst(2025, day.0, day.1, 11, 0),
            cst(2025, day.0, day.1, 12, 0),
            &[
                r(cst(2025, day.0, day.1, 11, 0), 0),
                r(cst(2025, day.0, day.1, 12, 0), 2000),
            ],
        )
        .unwrap()
    };
    let june = price((6, 30));
    assert_eq!(split(&june), vec![(PeriodKind::Peak, 2000)]);
    assert_eq!(june.totals.gross, d("3.60"));
    let july = price((7, 1));
    assert_eq!(split(&july), vec![(PeriodKind::Sharp, 2000)]);
    assert_eq!(july.totals.gross, d("4.00"));
}

#[test]
fn holiday_overrides_the_weekday() {
    // 2025-10-01 (a Wednesday) is in the holiday calendar: valley all day.
    // 10:00–11:00, 2000 Wh: 2 × (0.40 + 0.80) = 2.40 instead of peak 3.60.
    let t = chinese();
    let bill = price_session(
        &t,
        PricingPolicy::default(),
        cst(2025, 10, 1, 10, 0),
        cst(2025, 10, 1, 11, 0),
        &[
            r(cst(2025, 10, 1, 10, 0), 0),
            r(cst(2025, 10, 1, 11, 0), 2000),
        ],
    )
    .unwrap();
    assert_eq!(split(&bill), vec![(PeriodKind::Valley, 2000)]);
    assert_eq!(bill.totals.gross, d("2.40"));
}

#[test]
fn tariff_version_change_at_midnight() {
    // Version 1 until 2025-06-01 (valley 0.40), version 2 from then on (valley 0.30).
    // 2025-05-31 23:30 → 06-01 00:30, 2000 Wh, all valley, 1000 Wh each side of midnight.
    // AtSessionStart: 2 × (0.40 + 0.80) = 2.40.
    // PerInstant: 1 × (0.40 + 0.80) + 1 × (0.30 + 0.80) = 1.20 + 1.10 = 2.30, two lines.
    let mut t = Tariff::new(
        "v",
        Currency::new("CNY", 2).unwrap(),
        Zone::parse("+08:00").unwrap(),
        Tax::NONE,
    )
    .unwrap();
    t.add_version(chinese_version(None, Some(date(2025, 6, 1)), "0.40"))
        .unwrap();
    t.add_version(chinese_version(Some(date(2025, 6, 1)), None, "0.30"))
        .unwrap();
    let readings = [
        r(cst(2025, 5, 31, 23, 30), 0),
        r(cst(2025, 6, 1, 0, 30), 2000),
    ];
    let (start, stop) = (cst(2025, 5, 31, 23, 30), cst(2025, 6, 1, 0, 30));
    let fixed = price_session(&t, PricingPolicy::default(), start, stop, &readings).unwrap();
    assert_eq!(fixed.lines().len(), 1);
    assert_eq!(fixed.totals.gross, d("2.40"));
    let policy = PricingPolicy::default().with_version_selection(VersionSelection::PerInstant);
    let moving = price_session(&t, policy, start, stop, &readings).unwrap();
    assert_eq!(
        moving
            .lines()
            .iter()
            .map(|l| (l.version, l.energy_wh))
            .collect::<Vec<_>>(),
        vec![(0, 1000), (1, 1000)]
    );
    assert_eq!(moving.totals.gross, d("2.30"));
    // Overlapping versions are refused.
    let mut bad = Tariff::new("v", Currency::new("CNY", 2).unwrap(), Zone::UTC, Tax::NONE).unwrap();
    bad.add_version(chinese_version(None, Some(date(2025, 6, 2)), "0.40"))
        .unwrap();
    assert_eq!(
        bad.add_version(chinese_version(Some(date(2025, 6, 1)), None, "0.30")),
        Err(Error::VersionOverlap {
            date: date(2025, 6, 1)
        })
    );
}

fn lines_utc(bill: &Bill) -> Vec<(PeriodKind, u32, u32, u64)> {
    use chrono::Timelike;
    bill.lines()
        .iter()
        .map(|l| {
            (
                l.period.clone(),
                l.start.hour() * 100 + l.start.minute(),
                l.end.hour() * 100 + l.end.minute(),
                l.energy_wh,
            )
        })
        .collect()
}

#[test]
fn berlin_spring_forward_boundary_in_the_gap_takes_effect_after_it() {
    // 2025-03-30: 02:00 CET jumps to 03:00 CEST at 01:00 UTC. Flat starts at 02:30 wall time,
    // which does not exist: the period at 01:00 UTC is the table's at wall 03:00, i.e. flat.
    // Session 00:00–02:00 UTC, 2000 Wh (1000 per real hour):
    // valley 00:00–01:00 UTC (wall 01:00–02:00 CET) 1000 Wh × 0.10 = 0.10
    // flat   01:00–02:00 UTC (wall 03:00–04:00 CEST) 1000 Wh × 0.20 = 0.20
    let t = dst_tariff("Europe/Berlin", (2, 30));
    let bill = price_session(
        &t,
        PricingPolicy::default(),
        utc(2025, 3, 30, 0, 0),
        utc(2025, 3, 30, 2, 0),
        &[
            r(utc(2025, 3, 30, 0, 0), 0),
            r(utc(2025, 3, 30, 2, 0), 2000),
        ],
    )
    .unwrap();
    assert_eq!(
        lines_utc(&bill),
        vec![
            (PeriodKind::Valley, 0, 100, 1000),
            (PeriodKind::Flat, 100, 200, 1000)
        ]
    );
    assert_eq!(bill.totals.gross, d("0.30"));
}

#[test]
fn berlin_fall_back_repeated_hour_is_priced_twice_by_wall_time() {
    // 2025-10-26: 03:00 CEST falls back to 02:00 CET at 01:00 UTC; wall 02:00–03:00 occurs twice.
    // Session 00:00–02:00 UTC, 2000 Wh, 500 Wh per 30 min:
    // 00:00–00:30 UTC wall 02:00–02:30 CEST valley; 00:30–01:00 wall 02:30–03:00 CEST flat;
    // 01:00–01:30 wall 02:00–02:30 CET valley;     01:30–02:00 wall 02:30–03:00 CET flat.
    // 1000 Wh × 0.10 + 1000 Wh × 0.20 = 0.30
    let t = dst_tariff("Europe/Berlin", (2, 30));
    let bill = price_session(
        &t,
        PricingPolicy::default(),
        utc(2025, 10, 26, 0, 0),
        utc(2025, 10, 26, 2, 0),
        &[
            r(utc(2025, 10, 26, 0, 0), 0),
            r(utc(2025, 10, 26, 2, 0), 2000),
        ],
    )
    .unwrap();
    assert_eq!(
        lines_utc(&bill),
        vec![
            (PeriodKind::Valley, 0, 30, 500),
            (PeriodKind::Flat, 30, 100, 500),
            (PeriodKind::Valley, 100, 130, 500),
            (PeriodKind::Flat, 130, 200, 500),
        ]
    );
    assert_eq!(bill.totals.gross, d("0.30"));
}

#[test]
fn new_york_spring_forward() {
    // 2025-03-09: 02:00 EST jumps to 03:00 EDT at 07:00 UTC. Flat from 01:30, peak would start
    // 06:00 but we use the table valley 00:00 / flat 01:30 / peak 06:00: at 07:00 UTC the wall
    // shows 03:00 EDT, still flat. Session 06:00–08:00 UTC, 2000 Wh:
    // valley 06:00–06:30 UTC (wall 01:00–01:30 EST) 500 Wh; flat 06:30–08:00 UTC 1500 Wh.
    // 0.5 × 0.10 + 1.5 × 0.20 = 0.05 + 0.30 = 0.35
    let t = dst_tariff("America/New_York", (1, 30));
    let bill = price_session(
        &t,
        PricingPolicy::default(),
        utc(2025, 3, 9, 6, 0),
        utc(2025, 3, 9, 8, 0),
        &[r(utc(2025, 3, 9, 6, 0), 0), r(utc(2025, 3, 9, 8, 0), 2000)],
    )
    .unwrap();
    assert_eq!(
        lines_utc(&bill),
        vec![
            (PeriodKind::Valley, 600, 630, 500),
            (PeriodKind::Flat, 630, 800, 1500)
        ]
    );
    assert_eq!(bill.totals.gross, d("0.35"));
    // The wall hour 02:00–03:00 never happened: 2 real hours, one line of flat for 1.5 h.
    assert_eq!(bill.lines()[1].charging_time, TimeDelta::minutes(90));
}

#[test]
fn new_york_fall_back() {
    // 2025-11-02: 02:00 EDT falls back to 01:00 EST at 06:00 UTC; wall 01:00–02:00 occurs twice.
    // Session 05:00–07:00 UTC, 2000 Wh, 500 Wh per 30 min:
    // 05:00 wall 01:00 EDT valley, 05:30 wall 01:30 EDT flat, 06:00 wall 01:00 EST valley,
    // 06:30 wall 01:30 EST flat. 1000 × 0.10 + 1000 × 0.20 per kWh = 0.30.
    let t = dst_tariff("America/New_York", (1, 30));
    let bill = price_session(
        &t,
        PricingPolicy::default(),
        utc(2025, 11, 2, 5, 0),
        utc(2025, 11, 2, 7, 0),
        &[
            r(utc(2025, 11, 2, 5, 0), 0),
            r(utc(2025, 11, 2, 7, 0), 2000),
        ],
    )
    .unwrap();
    assert_eq!(
        lines_utc(&bill),
        vec![
            (PeriodKind::Valley, 500, 530, 500),
            (PeriodKind::Flat, 530, 600, 500),
            (PeriodKind::Valley, 600, 630, 500),
            (PeriodKind::Flat, 630, 700, 500),
        ]
    );
    assert_eq!(bill.totals.gross, d("0.30"));
}

#[test]
fn tiers_split_by_cumulative_energy() {
    // 0.30 per kWh, from 10 kWh on 0.05 less. 15 000 Wh in one hour from 10:00:
    // tier 0: 10 000 Wh × 0.30 = 3.00, reached after 10/15 of the hour = 10:40;
    // tier 1:  5 000 Wh × 0.25 = 1.25; total 4.25.
    let t = with_fees(
        single("UTC", "0.30", "0"),
        SessionFees::default(),
        &[Tier {
            from_wh: 10_000,
            energy_adjust: d("-0.05"),
        }],
    );
    let bill = price_session(
        &t,
        PricingPolicy::default(),
        utc(2025, 1, 1, 10, 0),
        utc(2025, 1, 1, 11, 0),
        &[
            r(utc(2025, 1, 1, 10, 0), 0),
            r(utc(2025, 1, 1, 11, 0), 15_000),
        ],
    )
    .unwrap();
    let tiers: Vec<_> = bill
        .lines()
        .iter()
        .map(|l| (l.tier, l.energy_wh, l.energy_price, l.end))
        .collect();
    assert_eq!(
        tiers,
        vec![
            (0, 10_000, d("0.30"), utc(2025, 1, 1, 10, 40)),
            (1, 5_000, d("0.25"), utc(2025, 1, 1, 11, 0))
        ]
    );
    assert_eq!(bill.totals.gross, d("4.25"));
}

#[test]
fn minimum_and_maximum_session_price() {
    let min = with_fees(
        single("UTC", "0.30", "0"),
        SessionFees {
            flat: d("1.00"),
            min_price: Some(d("5.00")),
            ..SessionFees::default()
        },
        &[],
    );
    // 1 kWh × 0.30 + flat 1.00 = 1.30 → raised to 5.00, adjustment +3.70.
    let small = price_session(
        &min,
        PricingPolicy::default(),
        utc(2025, 1, 1, 10, 0),
        utc(2025, 1, 1, 11, 0),
        &[
            r(utc(2025, 1, 1, 10, 0), 0),
            r(utc(2025, 1, 1, 11, 0), 1000),
        ],
    )
    .unwrap();
    assert_eq!(
        (small.totals.subtotal, small.totals.cap_adjustment),
        (d("5.00"), d("3.70"))
    );
    let max = with_fees(
        single("UTC", "0.30", "0"),
        SessionFees {
            flat: d("1.00"),
            max_price: Some(d("4.00")),
            ..SessionFees::default()
        },
        &[],
    );
    // 20 kWh × 0.30 + 1.00 = 7.00 → capped at 4.00, adjustment −3.00.
    let big = price_session(
        &max,
        PricingPolicy::default(),
        utc(2025, 1, 1, 10, 0),
        utc(2025, 1, 1, 11, 0),
        &[
            r(utc(2025, 1, 1, 10, 0), 0),
            r(utc(2025, 1, 1, 11, 0), 20_000),
        ],
    )
    .unwrap();
    assert_eq!(
        (
            big.totals.subtotal,
            big.totals.cap_adjustment,
            big.totals.gross
        ),
        (d("4.00"), d("-3.00"), d("4.00"))
    );
}

#[test]
fn time_and_parking_fees_with_grace() {
    // 0.39 per kWh, 1.20 per hour charging, 6.00 per hour idle after 30 min grace.
    // 10:00–11:00 charging 11 kWh: 11 × 0.39 = 4.29, time 1 h × 1.20 = 1.20.
    // 11:00–12:00 idle: 30 min free, 30 min × 6.00/h = 3.00. Total 8.49.
    let fees = SessionFees {
        time_per_hour: d("1.20"),
        parking_per_hour: d("6.00"),
        parking_grace_secs: 1800,
        ..SessionFees::default()
    };
    let t = with_fees(single("Europe/Berlin", "0.39", "0"), fees, &[]);
    let bill = price_session(
        &t,
        PricingPolicy::default(),
        utc(2025, 1, 1, 10, 0),
        utc(2025, 1, 1, 12, 0),
        &[
            r(utc(2025, 1, 1, 10, 0), 0),
            r(utc(2025, 1, 1, 11, 0), 11_000).with_state(ChargeState::Idle),
            r(utc(2025, 1, 1, 12, 0), 11_000),
        ],
    )
    .unwrap();
    let tot = bill.totals;
    assert_eq!(
        (tot.electricity, tot.time_fee, tot.parking_fee, tot.gross),
        (d("4.29"), d("1.20"), d("3.00"), d("8.49"))
    );
    assert_eq!(
        (tot.charging_time, tot.parking_time),
        (TimeDelta::hours(1), TimeDelta::minutes(30))
    );
}

#[test]
fn tax_inclusive_and_exclusive() {
    // 10 kWh × 1.19: inclusive 19 % → gross 11.90, net 11.90 / 1.19 = 10.00, tax 1.90.
    // Exclusive 19 % on 10 kWh × 1.00: net 10.00, tax 1.90, gross 11.90.
    let make = |price: &str, inclusive| {
        let base = single("UTC", price, "0");
        let mut t = Tariff::new(
            "tax",
            base.currency(),
            base.zone(),
            Tax {
                rate_percent: d("19"),
                prices_include_tax: inclusive,
            },
        )
        .unwrap();
        t.add_version(base.versions()[0].clone()).unwrap();
        t
    };
    for (price, inclusive) in [("1.19", true), ("1.00", false)] {
        let t = make(price, inclusive);
        let bill = price_session(
            &t,
            PricingPolicy::default(),
            utc(2025, 1, 1, 10, 0),
            utc(2025, 1, 1, 11, 0),
            &[
                r(utc(2025, 1, 1, 10, 0), 0),
                r(utc(2025, 1, 1, 11, 0), 10_000),
            ],
        )
        .unwrap();
        assert_eq!(
            (bill.totals.net, bill.totals.tax, bill.totals.gross),
            (d("10.00"), d("1.90"), d("11.90")),
            "{price}"
        );
    }
}

/// Two periods A, B both 0.125 energy + 0.125 service; 1 kWh in A then 4 kWh in B.
/// Exact lines: A 0.125 / 0.125, B 0.500 / 0.500; fee totals 0.625 each; total 1.25.
fn rounding_case(mode: RoundingMode, point: RoundingPoint) -> rust_decimal::Decimal {
    let mut t = dst_tariff("UTC", (1, 0));
    let mut v = meterkit_tariff::TariffVersion::new(None, None);
    let a = v
        .add_period(meterkit_tariff::Period::new(
            PeriodKind::Valley,
            d("0.125"),
            d("0.125"),
        ))
        .unwrap();
    let b = v
        .add_period(meterkit_tariff::Period::new(
            PeriodKind::Peak,
            d("0.125"),
            d("0.125"),
        ))
        .unwrap();
    let mut table = meterkit_tariff::DayTable::new(None, None);
    table.push_slot(0, 0, a).unwrap();
    table.push_slot(1, 0, b).unwrap();
    v.add_day_table(table).unwrap();
    let mut fresh = Tariff::new("rounding", t.currency(), t.zone(), Tax::NONE).unwrap();
    fresh.add_version(v).unwrap();
    t = fresh;
    let bill = price_session(
        &t,
        PricingPolicy::default().with_rounding(mode, point),
        utc(2025, 1, 1, 0, 0),
        utc(2025, 1, 1, 2, 0),
        &[
            r(utc(2025, 1, 1, 0, 0), 0),
            r(utc(2025, 1, 1, 1, 0), 1000),
            r(utc(2025, 1, 1, 2, 0), 5000),
        ],
    )
    .unwrap();
    bill.totals.gross
}

#[test]
fn every_rounding_mode_and_point() {
    use RoundingMode::{Down, HalfEven, HalfUp};
    use RoundingPoint::{PerFee, PerLine, PerTotal};
    // PerLine: A's 0.125 → HalfUp 0.13, HalfEven 0.12, Down 0.12; B's 0.50 stays.
    //   per fee: 0.63 / 0.62 / 0.62; gross (two fees): 1.26 / 1.24 / 1.24.
    // PerFee: 0.625 → 0.63 / 0.62 / 0.62 per fee; gross 1.26 / 1.24 / 1.24.
    // PerTotal: 1.25 exact in every mode.
    let expected = [
        (HalfUp, PerLine, "1.26"),
        (HalfEven, PerLine, "1.24"),
        (Down, PerLine, "1.24"),
        (HalfUp, PerFee, "1.26"),
        (HalfEven, PerFee, "1.24"),
        (Down, PerFee, "1.24"),
        (HalfUp, PerTotal, "1.25"),
        (HalfEven, PerTotal, "1.25"),
        (Down, PerTotal, "1.25"),
    ];
    for (mode, point, want) in expected {
        assert_eq!(rounding_case(mode, point), d(want), "{mode:?} {point:?}");
    }
    // A non-tie separates Down from the others: 1 kWh × 0.129 → 0.13 / 0.13 / 0.12.
    let t = single("UTC", "0.129", "0");
    for (mode, want) in [(HalfUp, "0.13"), (HalfEven, "0.13"), (Down, "0.12")] {
        let bill = price_session(
            &t,
            PricingPolicy::default().with_rounding(mode, PerTotal),
            utc(2025, 1, 1, 0, 0),
            utc(2025, 1, 1, 1, 0),
            &[r(utc(2025, 1, 1, 0, 0), 0), r(utc(2025, 1, 1, 1, 0), 1000)],
        )
        .unwrap();
        assert_eq!(bill.totals.gross, d(want), "{mode:?}");
    }
}

#[test]
fn rate_registers_are_authoritative() {
    // 09:30–10:30 Beijing; our clock says half flat, half peak, but the meter's rate registers
    // say flat (rate 3) +1000 Wh and peak (rate 2) +5000 Wh. The registers win:
    // flat 1 × 1.50 = 1.50, peak 5 × 1.80 = 9.00 → 10.50 (the linear split would give 9.90).
    let t = chinese();
    let reading = |h, m, total, peak, flat| {
        Reading::new(cst(2025, 3, 3, h, m), total)
            .with_rate(2, peak)
            .unwrap()
            .with_rate(3, flat)
            .unwrap()
    };
    let readings = [
        reading(9, 30, 100, 40, 60),
        reading(10, 30, 6100, 5040, 1060),
    ];
    let policy = PricingPolicy::default().with_attribution(Attribution::RateRegisters);
    let bill = price_session(
        &t,
        policy,
        cst(2025, 3, 3, 9, 30),
        cst(2025, 3, 3, 10, 30),
        &readings,
    )
    .unwrap();
    assert_eq!(
        split(&bill),
        vec![(PeriodKind::Flat, 1000), (PeriodKind::Peak, 5000)]
    );
    assert_eq!(bill.totals.gross, d("10.50"));
    // Energy on a rate our clock never saw in the interval (sharp, rate 1) is booked at its end.
    let readings = [
        reading(9, 0, 0, 0, 0).with_rate(1, 0).unwrap(),
        reading(9, 30, 700, 0, 500).with_rate(1, 200).unwrap(),
    ];
    let bill = price_session(
        &t,
        policy,
        cst(2025, 3, 3, 9, 0),
        cst(2025, 3, 3, 9, 30),
        &readings,
    )
    .unwrap();
    assert_eq!(
        split(&bill),
        vec![(PeriodKind::Flat, 500), (PeriodKind::Sharp, 200)]
    );
    // A register present in one reading and missing in the next is an error.
    let readings = [
        reading(9, 0, 0, 0, 0),
        Reading::new(cst(2025, 3, 3, 9, 30), 5)
            .with_rate(2, 1)
            .unwrap(),
    ];
    assert!(matches!(
        price_session(
            &t,
            policy,
            cst(2025, 3, 3, 9, 0),
            cst(2025, 3, 3, 9, 30),
            &readings
        ),
        Err(Error::MissingRateRegister { rate: 3, .. })
    ));
}

#[test]
fn bad_readings() {
    let t = chinese();
    let start = cst(2025, 3, 3, 9, 0);
    let policy = PricingPolicy::default();
    let mut p = LivePricer::new(&t, start, policy).unwrap();
    assert!(matches!(
        p.push(&r(cst(2025, 3, 3, 8, 59), 0)),
        Err(Error::BeforeStart { .. })
    ));
    p.push(&r(cst(2025, 3, 3, 9, 0), 1000)).unwrap();
    let after = p.push(&r(cst(2025, 3, 3, 9, 1), 1100)).unwrap();
    // An exact duplicate is a no-op; a disagreeing one is an error; going back is an error.
    assert_eq!(p.push(&r(cst(2025, 3, 3, 9, 1), 1100)).unwrap(), after);
    assert_eq!(
        p.push(&r(cst(2025, 3, 3, 9, 1), 1101)),
        Err(Error::ConflictingDuplicate {
            at: cst(2025, 3, 3, 9, 1)
        })
    );
    assert!(matches!(
        p.push(&r(cst(2025, 3, 3, 9, 0), 1100)),
        Err(Error::OutOfOrder { .. })
    ));
    // A decrease without a modulus is a reset or meter swap: typed error, then `rebase`.
    assert!(matches!(
        p.push(&r(cst(2025, 3, 3, 9, 2), 50)),
        Err(Error::RegisterDecreased {
            previous_wh: 1100,
            current_wh: 50,
            ..
        })
    ));
    p.rebase(&r(cst(2025, 3, 3, 9, 2), 50)).unwrap();
    let cost = p.push(&r(cst(2025, 3, 3, 9, 3), 150)).unwrap();
    // 100 Wh before the swap + 0 across it + 100 Wh after, all flat: 0.2 × 1.50 = 0.30.
    assert_eq!((cost.energy_wh, cost.gross), (200, d("0.30")));
    // Batch: a reading after the stop.
    let err = price_session(
        &t,
        policy,
        start,
        cst(2025, 3, 3, 9, 30),
        &[r(start, 0), r(cst(2025, 3, 3, 9, 31), 1)],
    );
    assert!(matches!(err, Err(Error::AfterStop { .. })));
}

#[test]
fn register_rollover_with_a_modulus() {
    // DL/T 645 registers wrap at 1 000 000.00 kWh: 999 999 000 Wh → 2 000 Wh is
    // 1 000 000 000 − 999 999 000 + 2 000 = 3 000 Wh. Flat: 3 × 1.50 = 4.50.
    let t = chinese();
    let policy = PricingPolicy::default().with_register_modulus_wh(1_000_000_000);
    let bill = price_session(
        &t,
        policy,
        cst(2025, 3, 3, 8, 0),
        cst(2025, 3, 3, 9, 0),
        &[
            r(cst(2025, 3, 3, 8, 0), 999_999_000),
            r(cst(2025, 3, 3, 9, 0), 2_000),
        ],
    )
    .unwrap();
    assert_eq!(
        (bill.totals.energy_wh, bill.totals.gross),
        (3000, d("4.50"))
    );
    // 400 000 000 → 2 000 would wrap to 600 002 000 Wh, over half the range: not a rollover.
    let err = price_session(
        &t,
        policy,
        cst(2025, 3, 3, 8, 0),
        cst(2025, 3, 3, 9, 0),
        &[
            r(cst(2025, 3, 3, 8, 0), 400_000_000),
            r(cst(2025, 3, 3, 9, 0), 2_000),
        ],
    );
    assert!(matches!(err, Err(Error::RegisterDecreased { .. })));
}

#[test]
fn time_before_the_first_reading_and_after_the_last_is_priced_without_energy() {
    // Time fee 2.00/h: start 10:00, first reading 10:15, last 10:45, stop 11:00 → 1 h × 2.00.
    // Energy 1000 Wh × 0.30 = 0.30. Total 2.30.
    let fees = SessionFees {
        time_per_hour: d("2.00"),
        ..SessionFees::default()
    };
    let t = with_fees(single("UTC", "0.30", "0"), fees, &[]);
    let bill = price_session(
        &t,
        PricingPolicy::default(),
        utc(2025, 1, 1, 10, 0),
        utc(2025, 1, 1, 11, 0),
        &[
            r(utc(2025, 1, 1, 10, 15), 500),
            r(utc(2025, 1, 1, 10, 45), 1500),
        ],
    )
    .unwrap();
    assert_eq!(
        (bill.totals.time_fee, bill.totals.gross),
        (d("2.00"), d("2.30"))
    );
}

#[test]
fn a_reading_past_the_last_version_is_refused_without_changing_the_pricer() {
    // Only a version until 2025-06-01 exists; with per-instant versions, an interval reaching
    // past midnight has no prices. The pricer reports it and stays usable.
    let mut t = Tariff::new(
        "v",
        Currency::new("CNY", 2).unwrap(),
        Zone::parse("+08:00").unwrap(),
        Tax::NONE,
    )
    .unwrap();
    t.add_version(chinese_version(None, Some(date(2025, 6, 1)), "0.40"))
        .unwrap();
    let policy = PricingPolicy::default().with_version_selection(VersionSelection::PerInstant);
    let mut p = LivePricer::new(&t, cst(2025, 5, 31, 23, 0), policy).unwrap();
    let before = p.push(&r(cst(2025, 5, 31, 23, 0), 0)).unwrap();
    assert_eq!(
        p.push(&r(cst(2025, 6, 1, 0, 30), 3000)),
        Err(Error::NoVersion {
            date: date(2025, 6, 1)
        })
    );
    assert_eq!(p.cost_so_far().unwrap(), before);
    // 1 kWh of valley: 0.40 + 0.80 = 1.20.
    assert_eq!(
        p.push(&r(cst(2025, 5, 31, 23, 59), 1000)).unwrap().gross,
        d("1.20")
    );
}

#[test]
fn time_fees_stay_exact_until_the_rounding_point() {
    // 1 kWh at 0.165 (electricity 0.165) charged over 20 min at 1.00/h (time fee 1/3 = 0.333…).
    // PerTotal: 0.165 + 0.333… = 0.49833… → 0.50 (half-up and half-even alike).
    // PerFee half-even: 0.165 → 0.16, 0.333… → 0.33, total 0.49; half-up: 0.17 + 0.33 = 0.50.
    let fees = SessionFees {
        time_per_hour: d("1.00"),
        ..SessionFees::default()
    };
    let t = with_fees(single("UTC", "0.165", "0"), fees, &[]);
    let price = |mode, point| {
        let readings = [
            r(utc(2025, 1, 1, 10, 0), 0),
            r(utc(2025, 1, 1, 10, 20), 1000),
        ];
        let policy = PricingPolicy::default().with_rounding(mode, point);
        price_session(&t, policy, readings[0].at, readings[1].at, &readings)
            .unwrap()
            .totals
    };
    assert_eq!(
        price(RoundingMode::HalfUp, RoundingPoint::PerTotal).gross,
        d("0.50")
    );
    assert_eq!(
        price(RoundingMode::HalfEven, RoundingPoint::PerTotal).gross,
        d("0.50")
    );
    assert_eq!(
        price(RoundingMode::HalfEven, RoundingPoint::PerFee).gross,
        d("0.49")
    );
    assert_eq!(
        price(RoundingMode::HalfUp, RoundingPoint::PerFee).gross,
        d("0.50")
    );
    // Under PerTotal the fee totals are shown unrounded: 1/3 to 28 significant digits.
    let exact = price(RoundingMode::HalfUp, RoundingPoint::PerTotal);
    assert_eq!(exact.time_fee.round_dp(10), d("0.3333333333"));
    assert_eq!(exact.electricity, d("0.165"));
}
