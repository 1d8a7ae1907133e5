//! Tariffs built in code, shared by the integration tests.
#![allow(dead_code, clippy::missing_panics_doc, clippy::unwrap_used)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use meterkit_tariff::{
    Currency, DayTable, DayType, MonthDay, Period, PeriodKind, Season, SessionFees, Tariff,
    TariffVersion, Tax, Tier, Weekdays, Zone,
};
use rust_decimal::Decimal;

pub(crate) fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub(crate) fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub(crate) fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}

/// Beijing wall time (UTC+8) as a UTC instant.
pub(crate) fn cst(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    utc(y, m, day, h, min) - chrono::TimeDelta::hours(8)
}

/// The teaching 尖峰平谷 table (spec §7.3) with a summer sharp period and a holiday type:
/// valley 00–07, flat 07–10, peak 10–15 (summer: peak 10–11, sharp 11–13, peak 13–15),
/// flat 15–18, peak 18–21, flat 21–23, valley 23–24; holidays valley all day.
/// Electricity 尖 1.20 峰 1.00 平 0.70 谷 0.40, service 0.80 everywhere.
pub(crate) fn chinese_version(
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
    valley_price: &str,
) -> TariffVersion {
    let mut v = TariffVersion::new(from, until);
    let svc = d("0.80");
    let sharp = v
        .add_period(Period::new(PeriodKind::Sharp, d("1.20"), svc).with_meter_rate(1))
        .unwrap();
    let peak = v
        .add_period(Period::new(PeriodKind::Peak, d("1.00"), svc).with_meter_rate(2))
        .unwrap();
    let flat = v
        .add_period(Period::new(PeriodKind::Flat, d("0.70"), svc).with_meter_rate(3))
        .unwrap();
    let valley = v
        .add_period(Period::new(PeriodKind::Valley, d(valley_price), svc).with_meter_rate(4))
        .unwrap();
    let summer = v
        .add_season(
            Season::new(
                "summer",
                MonthDay::new(7, 1).unwrap(),
                MonthDay::new(8, 31).unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
    let holiday = v
        .add_day_type(DayType::new("holiday", Weekdays::default(), true).unwrap())
        .unwrap();
    v.add_day_type(DayType::new("any day", Weekdays::ALL, false).unwrap())
        .unwrap();
    v.add_holiday(date(2025, 10, 1)).unwrap();
    let mut h = DayTable::new(None, Some(holiday));
    h.push_slot(0, 0, valley).unwrap();
    v.add_day_table(h).unwrap();
    let day = |sharp_noon: bool| {
        let mut t = DayTable::new(if sharp_noon { Some(summer) } else { None }, None);
        for (hh, p) in [(0, valley), (7, flat), (10, peak)] {
            t.push_slot(hh, 0, p).unwrap();
        }
        if sharp_noon {
            t.push_slot(11, 0, sharp).unwrap();
            t.push_slot(13, 0, peak).unwrap();
        }
        for (hh, p) in [(15, flat), (18, peak), (21, flat), (23, valley)] {
            t.push_slot(hh, 0, p).unwrap();
        }
        t
    };
    v.add_day_table(day(true)).unwrap();
    v.add_day_table(day(false)).unwrap();
    v
}

pub(crate) fn chinese() -> Tariff {
    let mut t = Tariff::new(
        "test 尖峰平谷",
        Currency::new("CNY", 2).unwrap(),
        Zone::parse("+08:00").unwrap(),
        Tax::NONE,
    )
    .unwrap();
    t.add_version(chinese_version(None, None, "0.40")).unwrap();
    t
}

/// One period all day at `energy` + `service` per kWh, in `zone`.
pub(crate) fn single(zone: &str, energy: &str, service: &str) -> Tariff {
    let mut t = Tariff::new(
        "single",
        Currency::new("EUR", 2).unwrap(),
        Zone::parse(zone).unwrap(),
        Tax::NONE,
    )
    .unwrap();
    let mut v = TariffVersion::new(None, None);
    let p = v
        .add_period(Period::new(PeriodKind::Flat, d(energy), d(service)))
        .unwrap();
    let mut table = DayTable::new(None, None);
    table.push_slot(0, 0, p).unwrap();
    v.add_day_table(table).unwrap();
    t.add_version(v).unwrap();
    t
}

/// Valley 00:00, flat from `flat_at`, peak 06:00, valley 22:00 in `zone` (the DST test table).
pub(crate) fn dst_tariff(zone: &str, flat_at: (u8, u8)) -> Tariff {
    let mut t = Tariff::new(
        "dst",
        Currency::new("EUR", 2).unwrap(),
        Zone::parse(zone).unwrap(),
        Tax::NONE,
    )
    .unwrap();
    let mut v = TariffVersion::new(None, None);
    let valley = v
        .add_period(Period::new(PeriodKind::Valley, d("0.10"), Decimal::ZERO))
        .unwrap();
    let flat = v
        .add_period(Period::new(PeriodKind::Flat, d("0.20"), Decimal::ZERO))
        .unwrap();
    let peak = v
        .add_period(Period::new(PeriodKind::Peak, d("0.30"), Decimal::ZERO))
        .unwrap();
    let mut table = DayTable::new(None, None);
    table.push_slot(0, 0, valley).unwrap();
    table.push_slot(flat_at.0, flat_at.1, flat).unwrap();
    table.push_slot(6, 0, peak).unwrap();
    table.push_slot(22, 0, valley).unwrap();
    v.add_day_table(table).unwrap();
    t.add_version(v).unwrap();
    t
}

/// `t`'s only version with other session fees and tiers added.
pub(crate) fn with_fees(mut t: Tariff, fees: SessionFees, tiers: &[Tier]) -> Tariff {
    let mut v = t.versions()[0].clone();
    v.fees = fees;
    for tier in tiers {
        v.add_tier(*tier).unwrap();
    }
    let mut fresh = Tariff::new(t.name(), t.currency(), t.zone(), t.tax()).unwrap();
    fresh.add_version(v).unwrap();
    t = fresh;
    t
}
