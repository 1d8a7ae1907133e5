//! The model's construction rules and lookups, and parsers that must never panic.
#![cfg(feature = "serde-1")]
#![allow(clippy::unwrap_used)]

mod common;

use chrono::NaiveDate;
use common::{chinese, cst, d, date};
use meterkit_tariff::{
    Currency, DayTable, DayType, Error, LivePricer, MAX_SLOTS, MonthDay, Period, PeriodKind,
    PricingPolicy, Reading, Season, Tariff, TariffVersion, Tax, Tier, Weekdays, Zone,
};
use proptest::prelude::*;

#[test]
fn day_tables_reject_gaps_disorder_and_overflow() {
    let mut t = DayTable::new(None, None);
    assert_eq!(
        t.push_slot(0, 30, 0),
        Err(Error::DayNotCovered { minute: 30 })
    );
    t.push_slot(0, 0, 0).unwrap();
    t.push_slot(7, 0, 1).unwrap();
    assert_eq!(
        t.push_slot(7, 0, 0),
        Err(Error::SlotOrder {
            minute: 420,
            previous: 420
        })
    );
    assert_eq!(
        t.push_slot(6, 59, 0),
        Err(Error::SlotOrder {
            minute: 419,
            previous: 420
        })
    );
    assert!(matches!(
        t.push_slot(24, 0, 0),
        Err(Error::InvalidValue { .. })
    ));
    // 48 half-hour slots fit; a 49th does not.
    let mut full = DayTable::new(None, None);
    for i in 0..48u8 {
        full.push_slot(i / 2, (i % 2) * 30, i % 2).unwrap();
    }
    assert_eq!(full.slots().len(), MAX_SLOTS);
    assert_eq!(
        full.push_slot(23, 45, 0),
        Err(Error::Capacity {
            what: "slots in a day table",
            max: 48
        })
    );
}

#[test]
fn half_hour_tables_merge_equal_neighbours() {
    // YKC layout: 0x03 valley 00:00–08:00 (16 slots), 0x02 flat to 10:00, 0x01 peak to 24:00.
    let mut slots = [1u8; 48];
    slots[..16].fill(3);
    slots[16..20].fill(2);
    let t = DayTable::from_half_hours(None, None, &slots).unwrap();
    let starts: Vec<_> = t
        .slots()
        .iter()
        .map(|s| (s.start_minute, s.period))
        .collect();
    assert_eq!(starts, vec![(0, 3), (480, 2), (600, 1)]);
}

#[test]
fn versions_check_indices_tiers_and_tables() {
    let mut v = TariffVersion::new(None, None);
    let mut t = DayTable::new(None, None);
    t.push_slot(0, 0, 0).unwrap();
    assert_eq!(
        v.add_day_table(t.clone()),
        Err(Error::UnknownIndex {
            what: "period",
            index: 0
        })
    );
    v.add_period(Period::new(PeriodKind::Flat, d("0.3"), d("0")))
        .unwrap();
    assert_eq!(
        v.add_day_table(DayTable::new(Some(0), None)),
        Err(Error::DayNotCovered { minute: 1440 })
    );
    let mut seasonal = t.clone();
    seasonal.season = Some(2);
    assert_eq!(
        v.add_day_table(seasonal),
        Err(Error::UnknownIndex {
            what: "season",
            index: 2
        })
    );
    v.add_tier(Tier {
        from_wh: 10,
        energy_adjust: d("0.1"),
    })
    .unwrap();
    assert_eq!(
        v.add_tier(Tier {
            from_wh: 10,
            energy_adjust: d("0.1")
        }),
        Err(Error::TierOrder {
            from_wh: 10,
            previous_wh: 10
        })
    );
    let mut tariff =
        Tariff::new("x", Currency::new("eur", 2).unwrap(), Zone::UTC, Tax::NONE).unwrap();
    assert_eq!(
        tariff.add_version(v.clone()),
        Err(Error::DayNotCovered { minute: 0 })
    );
    v.add_day_table(t).unwrap();
    tariff.add_version(v).unwrap();
    assert_eq!(tariff.currency().code(), "EUR");
}

#[test]
fn seasons_wrap_over_new_year_and_holidays_override_weekdays() {
    let winter = Season::new(
        "winter",
        MonthDay::new(11, 15).unwrap(),
        MonthDay::new(2, 29).unwrap(),
    )
    .unwrap();
    let mut v = TariffVersion::new(None, None);
    v.add_season(winter).unwrap();
    v.add_day_type(DayType::new("holiday", Weekdays::default(), true).unwrap())
        .unwrap();
    v.add_day_type(DayType::new("weekend", Weekdays::WEEKEND, false).unwrap())
        .unwrap();
    v.add_day_type(DayType::new("workday", Weekdays::WORKDAYS, false).unwrap())
        .unwrap();
    v.add_holiday(date(2025, 1, 1)).unwrap();
    for (day, season) in [
        (date(2024, 11, 15), Some(0)),
        (date(2025, 2, 28), Some(0)),
        (date(2024, 2, 29), Some(0)),
        (date(2025, 3, 1), None),
        (date(2024, 11, 14), None),
    ] {
        assert_eq!(v.season_of(day), season, "{day}");
    }
    // 2025-01-01 is a Wednesday but a holiday; 2025-01-04 a Saturday; 2025-01-06 a Monday.
    assert_eq!(v.day_type_of(date(2025, 1, 1)), Some(0));
    assert_eq!(v.day_type_of(date(2025, 1, 4)), Some(1));
    assert_eq!(v.day_type_of(date(2025, 1, 6)), Some(2));
    assert!(MonthDay::new(2, 30).is_err());
    assert!(MonthDay::new(13, 1).is_err());
}

#[test]
fn names_zones_and_currencies() {
    assert_eq!(PeriodKind::parse("尖").unwrap(), PeriodKind::Sharp);
    assert_eq!(PeriodKind::parse("深谷").unwrap(), PeriodKind::DeepValley);
    assert_eq!(PeriodKind::parse("shoulder").unwrap().as_str(), "shoulder");
    assert!(PeriodKind::parse("").is_err());
    assert!(matches!(
        PeriodKind::parse(&"x".repeat(33)),
        Err(Error::Capacity { .. })
    ));
    assert_eq!(Zone::parse("+08:00").unwrap().to_string(), "+08:00");
    assert_eq!(Zone::parse("-05:30").unwrap().to_string(), "-05:30");
    assert_eq!(
        Zone::parse("Europe/Berlin").unwrap().to_string(),
        "Europe/Berlin"
    );
    for bad in ["+24:00", "+8", "Mars/Base", "", "+08:60"] {
        assert!(Zone::parse(bad).is_err(), "{bad}");
    }
    assert!(Currency::new("EURO", 2).is_err());
    assert!(Currency::new("E1R", 2).is_err());
    assert!(Currency::new("EUR", 7).is_err());
}

#[test]
fn sessions_outside_every_version_are_refused() {
    let mut t = Tariff::new(
        "x",
        Currency::new("CNY", 2).unwrap(),
        Zone::parse("+08:00").unwrap(),
        Tax::NONE,
    )
    .unwrap();
    t.add_version(common::chinese_version(
        Some(date(2025, 1, 1)),
        None,
        "0.40",
    ))
    .unwrap();
    let err = LivePricer::new(&t, cst(2024, 12, 31, 23, 59), PricingPolicy::default()).unwrap_err();
    assert_eq!(
        err,
        Error::NoVersion {
            date: NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()
        }
    );
    // Rate numbers outside 1..=8 are refused.
    assert!(matches!(
        Reading::new(cst(2025, 1, 1, 0, 0), 0).with_rate(9, 1),
        Err(Error::RateNumber { rate: 9, max: 8 })
    ));
    assert!(matches!(
        Reading::new(cst(2025, 1, 1, 0, 0), 0).with_rate(0, 1),
        Err(Error::RateNumber { rate: 0, .. })
    ));
    let _ = chinese();
}

proptest! {
    #[test]
    fn parsers_never_panic(text in ".{0,300}") {
        let _ = meterkit_tariff::parse_readings_csv(&text);
        let _ = meterkit_tariff::file::load_toml(&text);
        let _ = meterkit_tariff::file::load_json(&text);
        let _ = Zone::parse(&text);
        let _ = PeriodKind::parse(&text);
    }

    #[test]
    fn csv_parser_never_panics_on_near_valid_lines(
        fields in proptest::collection::vec("[0-9T:+.,-]{0,30}|charging|idle|", 1..6)
    ) {
        let text = format!("timestamp,energy_kwh,rate1_wh,state\n{}\n", fields.join(","));
        let _ = meterkit_tariff::parse_readings_csv(&text);
    }

    #[test]
    fn tariff_loader_never_panics_on_mutated_examples(cut in 0usize..2000, insert in ".{0,8}") {
        let base = include_str!("../examples-data/cn-tou.toml");
        let at = base.char_indices().map(|(i, _)| i).nth(cut % base.chars().count()).unwrap_or(0);
        let text = format!("{}{insert}{}", &base[..at], &base[at..]);
        let _ = meterkit_tariff::file::load_toml(&text);
    }
}
