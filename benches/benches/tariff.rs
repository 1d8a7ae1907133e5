//! meterkit-tariff: pricing 24 h of 1-minute readings (1,440) against a 4-period TOU tariff
//! with service fee, in batch and live (per reading).
//!
//! Baseline in the same run: the least a time-of-use engine must do per reading — convert the
//! instant to local time (chrono-tz), look the period up in a 48-slot table, and add
//! `energy × (electricity + service)` in `Decimal` — without splitting intervals, tiers,
//! time fees or rounding. Results read as ratios to it on any machine.

use std::hint::black_box;

use chrono::{DateTime, TimeDelta, TimeZone, Timelike, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use meterkit_tariff::file::load_toml;
use meterkit_tariff::{LivePricer, PricingPolicy, Reading, Tariff, price_session};
use rust_decimal::Decimal;

const TARIFF: &str = include_str!("../../tariff/examples-data/cn-tou.toml");

fn session() -> (DateTime<Utc>, Vec<Reading>) {
    // 2025-03-03 00:00 Beijing; ~7 kW with a little variation, 1-minute readings.
    let start = Utc
        .with_ymd_and_hms(2025, 3, 2, 16, 0, 0)
        .single()
        .unwrap_or_default();
    let mut wh = 1_206_420;
    let readings = (0..1440)
        .map(|i: u64| {
            let r = Reading::new(
                start + TimeDelta::minutes(i64::try_from(i).unwrap_or(0)),
                wh,
            );
            wh += 110 + (i * 7) % 13;
            r
        })
        .collect();
    (start, readings)
}

/// Price per Wh-scaled kWh of each of the 48 half hours (flat sum electricity + service).
fn baseline_table(tariff: &Tariff) -> [Decimal; 48] {
    let v = &tariff.versions()[0];
    let table = v.day_tables().last().unwrap_or(&v.day_tables()[0]);
    let mut prices = [Decimal::ZERO; 48];
    for (half, price) in (0u16..).zip(prices.iter_mut()) {
        let minute = half * 30;
        let slot = table
            .slots()
            .iter()
            .rev()
            .find(|s| s.start_minute <= minute)
            .unwrap_or(&table.slots()[0]);
        let p = &v.periods()[usize::from(slot.period)];
        *price = p.energy_price + p.service_price;
    }
    prices
}

fn baseline(prices: &[Decimal; 48], readings: &[Reading]) -> Decimal {
    let tz = chrono_tz::Asia::Shanghai;
    let mut total = Decimal::ZERO;
    for pair in readings.windows(2) {
        let local = pair[0].at.with_timezone(&tz);
        let half = (local.hour() * 2 + local.minute() / 30) as usize;
        let wh = Decimal::from(pair[1].total_wh - pair[0].total_wh);
        total += wh * prices[half] / Decimal::ONE_THOUSAND;
    }
    total
}

fn bench(c: &mut Criterion) {
    let tariff = load_toml(TARIFF).unwrap_or_else(|r| panic!("{r}"));
    let (start, readings) = session();
    let stop = readings[readings.len() - 1].at;
    let policy = PricingPolicy::default();
    let prices = baseline_table(&tariff);

    let mut g = c.benchmark_group("tariff_24h_1440_readings");
    g.throughput(Throughput::Elements(readings.len() as u64));
    g.bench_function("baseline_lookup_and_multiply", |b| {
        b.iter(|| baseline(&prices, black_box(&readings)));
    });
    g.bench_function("batch_price_session", |b| {
        b.iter(|| {
            price_session(&tariff, policy, start, stop, black_box(&readings))
                .map(|bill| bill.totals.gross)
        });
    });
    g.bench_function("live_push_each_reading", |b| {
        b.iter(|| {
            let mut live = LivePricer::new(&tariff, start, policy).ok()?;
            let mut last = None;
            for r in black_box(&readings) {
                last = live.push(r).ok();
            }
            last.map(|c| c.gross)
        });
    });
    // What a prepaid session does per reading: the gross cost so far, not the itemised totals.
    g.bench_function("live_push_gross_each_reading", |b| {
        b.iter(|| {
            let mut live = LivePricer::new(&tariff, start, policy).ok()?;
            let mut last = None;
            for r in black_box(&readings) {
                last = live.push_gross(r).ok();
            }
            last
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
