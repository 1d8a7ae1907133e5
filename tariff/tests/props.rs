//! Property tests: live equals batch, cost is monotone in energy, pricing is additive.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{d, dst_tariff, utc, with_fees};
use meterkit_tariff::{
    ChargeState, LivePricer, PricingPolicy, Reading, RoundingMode, RoundingPoint, SessionFees,
    Tariff, Tier, price_session,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// Berlin valley/flat/peak tariff (DST inside the generated range) with every session rule on.
fn full_tariff() -> Tariff {
    let fees = SessionFees {
        flat: d("0.50"),
        time_per_hour: d("0.60"),
        parking_per_hour: d("3.00"),
        parking_grace_secs: 900,
        min_price: Some(d("1.00")),
        max_price: Some(d("40.00")),
    };
    with_fees(
        dst_tariff("Europe/Berlin", (2, 30)),
        fees,
        &[Tier {
            from_wh: 20_000,
            energy_adjust: d("-0.05"),
        }],
    )
}

/// The same tariff with only additive rules: per-kWh and per-hour prices, no grace, no caps.
fn additive_tariff() -> Tariff {
    let fees = SessionFees {
        time_per_hour: d("0.60"),
        parking_per_hour: d("3.00"),
        ..SessionFees::default()
    };
    with_fees(dst_tariff("Europe/Berlin", (2, 30)), fees, &[])
}

fn policy_strategy() -> impl Strategy<Value = PricingPolicy> {
    let mode = prop_oneof![
        Just(RoundingMode::HalfUp),
        Just(RoundingMode::HalfEven),
        Just(RoundingMode::Down)
    ];
    let point = prop_oneof![
        Just(RoundingPoint::PerLine),
        Just(RoundingPoint::PerFee),
        Just(RoundingPoint::PerTotal)
    ];
    (mode, point).prop_map(|(m, p)| PricingPolicy::default().with_rounding(m, p))
}

/// A start near one of the 2025 Berlin DST changes, then readings with gaps of 1 s to 5 h,
/// deltas of 0–6 kWh, and occasional state changes.
fn session_strategy() -> impl Strategy<Value = (DateTime<Utc>, Vec<Reading>)> {
    let start = prop_oneof![
        Just(utc(2025, 3, 29, 20, 0)),
        Just(utc(2025, 10, 25, 20, 0)),
        Just(utc(2025, 7, 1, 0, 0))
    ];
    let step = (
        1i64..18_000,
        0u64..6_000,
        prop_oneof![4 => Just(None), 1 => Just(Some(ChargeState::Idle)), 1 => Just(Some(ChargeState::Charging))],
    );
    (start, 0i64..86_400, proptest::collection::vec(step, 1..30)).prop_map(
        |(start, offset, steps)| {
            let mut at = start + TimeDelta::seconds(offset);
            let mut wh = 1_000_000;
            let mut readings = vec![Reading::new(at, wh)];
            for (gap, delta, state) in steps {
                at += TimeDelta::seconds(gap);
                wh += delta;
                let mut r = Reading::new(at, wh);
                if let Some(s) = state {
                    r = r.with_state(s);
                }
                readings.push(r);
            }
            (start + TimeDelta::seconds(offset), readings)
        },
    )
}

proptest! {
    #[test]
    fn live_equals_batch((start, readings) in session_strategy(), policy in policy_strategy()) {
        let tariff = full_tariff();
        let mut live = LivePricer::new(&tariff, start, policy).unwrap();
        // A second pricer fed the same readings through the gross-only path.
        let mut gross_only = LivePricer::new(&tariff, start, policy).unwrap();
        for (k, reading) in readings.iter().enumerate() {
            let so_far = live.push(reading).unwrap();
            // The cost so far is the batch price of the session stopped at this reading.
            let batch = price_session(&tariff, policy, start, reading.at, &readings[..=k]).unwrap();
            prop_assert_eq!(gross_only.push_gross(reading).unwrap(), so_far.gross);
            prop_assert_eq!(gross_only.energy_wh(), so_far.energy_wh);
            prop_assert_eq!(so_far, batch.totals);
        }
        let stop = readings.last().unwrap().at + TimeDelta::minutes(7);
        prop_assert_eq!(live.finish(stop).unwrap(), price_session(&tariff, policy, start, stop, &readings).unwrap());
    }

    #[test]
    fn cost_never_decreases_as_energy_grows((start, readings) in session_strategy(), at in 0usize..30, extra in 1u64..50_000) {
        let tariff = full_tariff();
        let policy = PricingPolicy::default();
        let mut live = LivePricer::new(&tariff, start, policy).unwrap();
        let mut previous = Decimal::ZERO;
        for reading in &readings {
            let gross = live.push(reading).unwrap().gross;
            prop_assert!(gross >= previous);
            previous = gross;
        }
        // More energy from some reading on never costs less.
        let stop = readings.last().unwrap().at;
        let more: Vec<_> = readings.iter().enumerate().map(|(i, r)| if i >= at.min(readings.len() - 1) { let mut m = *r; m.total_wh += extra; m } else { *r }).collect();
        let base = price_session(&tariff, policy, start, stop, &readings).unwrap().totals.gross;
        let grown = price_session(&tariff, policy, start, stop, &more).unwrap().totals.gross;
        prop_assert!(grown >= base, "{grown} < {base}");
    }

    #[test]
    fn splitting_a_session_is_additive((start, readings) in session_strategy(), cut in 0usize..30) {
        // Exact (unrounded) line amounts of the two parts sum to the whole's.
        let tariff = additive_tariff();
        let policy = PricingPolicy::default().with_rounding(RoundingMode::HalfUp, RoundingPoint::PerFee);
        let cut = cut.min(readings.len() - 1);
        let stop = readings.last().unwrap().at;
        let state_at_cut = readings[..=cut].iter().rev().find_map(|r| r.state).unwrap_or_default();
        let mut second = readings[cut..].to_vec();
        second[0] = second[0].with_state(state_at_cut);
        let whole = price_session(&tariff, policy, start, stop, &readings).unwrap();
        let a = price_session(&tariff, policy, start, readings[cut].at, &readings[..=cut]).unwrap();
        let b = price_session(&tariff, policy, readings[cut].at, stop, &second).unwrap();
        let sums = |bills: &[&meterkit_tariff::Bill]| {
            let mut s = (0u64, TimeDelta::zero(), TimeDelta::zero(), Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
            for l in bills.iter().flat_map(|b| b.lines()) {
                s.0 += l.energy_wh;
                s.1 += l.charging_time;
                s.2 += l.parking_time;
                s.3 += l.electricity;
                s.4 += l.service;
                s.5 += l.time_fee;
                s.6 += l.parking_fee;
            }
            s
        };
        let (w, parts) = (sums(&[&whole]), sums(&[&a, &b]));
        // Time amounts divide by 3 600 000 at 28 digits: compare them at 20 decimals.
        prop_assert_eq!((w.0, w.1, w.2, w.3, w.4), (parts.0, parts.1, parts.2, parts.3, parts.4));
        prop_assert_eq!(w.5.round_dp(20), parts.5.round_dp(20));
        prop_assert_eq!(w.6.round_dp(20), parts.6.round_dp(20));
    }
}
