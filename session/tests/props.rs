//! Property tests: for random reading sequences (gaps, duplicates, stale readings, TOU,
//! season and day boundaries), captures never exceed the hold and never decrease, the stop
//! comes at the first reading whose cost reaches the hold, and the settle equals the bill
//! total — which equals batch pricing of the accepted readings.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::TimeDelta;
use common::{cents, cn_tou, wallet};
use meterkit_ledger::{Id, MemLedger};
use meterkit_session::{Decision, MeterEvent, Rejection, Session, SessionConfig, StopReason};
use meterkit_tariff::{PricingPolicy, Reading, price_session};
use proptest::prelude::*;

#[derive(Debug, Clone, Copy)]
enum Step {
    /// A new reading `secs` after the last with `wh` more energy.
    Next { secs: i64, wh: u64 },
    /// The last reading again (a retry).
    Repeat,
    /// A reading older than the last one.
    Stale,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (1i64..=5_400, 0u64..=12_000).prop_map(|(secs, wh)| Step::Next { secs, wh }),
        1 => Just(Step::Repeat),
        1 => Just(Step::Stale),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn captures_bounded_monotone_and_settle_equals_bill(
        start_min in 0i64..2_880,
        top_up in 100u64..=30_000,
        ask in 100u64..=20_000,
        credit_line in 0u64..=1_000,
        steps in proptest::collection::vec(step(), 1..40),
        tail_secs in 0i64..=900,
    ) {
        let tariff = cn_tou();
        // Two days around the start of the summer season (sharp period at noon from 07-01).
        let base: chrono::DateTime<chrono::Utc> = "2025-06-30T00:00:00+08:00".parse().unwrap();
        let t0 = base + TimeDelta::minutes(start_min);
        let mut ledger = MemLedger::new(cents());
        let who = wallet(&mut ledger, "prop", top_up, credit_line, t0);
        let config = SessionConfig::new(Id::name("s-prop").unwrap(), who, t0, ask,
            t0 + TimeDelta::days(30)).with_low_balance(50);
        let mut session = Session::start(&mut ledger, &tariff, config, t0).unwrap();

        let mut accepted: Vec<Reading> = Vec::new();
        let mut last = Reading::new(t0 + TimeDelta::minutes(1), 1_000_000);
        let mut previous_captured = 0;
        let mut first = true;
        for step in steps {
            let reading = match step {
                Step::Next { secs, wh } if !first => Reading::new(last.at + TimeDelta::seconds(secs), last.total_wh + wh),
                Step::Stale if !first => Reading::new(last.at - TimeDelta::seconds(1), last.total_wh),
                _ => last,
            };
            let stale = matches!(step, Step::Stale) && !first;
            let decision = session.on_reading(&mut ledger, &reading, reading.at).unwrap();
            let progress = *decision.progress();
            if stale {
                let rejected = matches!(decision, Decision::Rejected { reason: Rejection::OutOfOrder { .. }, .. });
                prop_assert!(rejected, "{:?}", decision);
            } else {
                prop_assert!(!matches!(decision, Decision::Rejected { .. }), "{:?}", decision);
                if accepted.last() != Some(&reading) {
                    accepted.push(reading);
                }
                last = reading;
                first = false;
            }
            prop_assert!(progress.captured <= progress.held);
            prop_assert!(progress.captured >= previous_captured, "captures never decrease");
            previous_captured = progress.captured;
            let hold = ledger.hold(session.hold_id()).unwrap();
            prop_assert_eq!(hold.captured, progress.captured);
            // Captured is the cost so far, up to the hold.
            prop_assert_eq!(progress.captured, progress.cost.min(progress.held));
            // Stop no later than the first reading whose cost reaches the hold, never before.
            // (A rejected reading does not restate the stop; the standing decision does.)
            let exhausted = matches!(session.decision(), Decision::Stop {
                reason: StopReason::HoldExhausted | StopReason::BalanceExhausted, .. });
            prop_assert_eq!(exhausted, progress.cost >= progress.held);
        }
        let stop = last.at + TimeDelta::seconds(tail_secs);
        let receipt = session.stop(&mut ledger, stop).unwrap();

        let batch = price_session(&tariff, PricingPolicy::default(), t0, stop, &accepted).unwrap();
        prop_assert_eq!(&receipt.bill, &batch);
        prop_assert_eq!(receipt.total, cents().from_decimal(batch.totals.gross).unwrap());
        let hold = ledger.hold(session.hold_id()).unwrap();
        prop_assert_eq!(hold.captured + hold.overshoot, receipt.total, "settle = bill total");
        prop_assert!(hold.captured <= hold.amount);
        let paid = receipt.balance_before - receipt.balance_after
            + (receipt.debt_after - receipt.debt_before);
        prop_assert_eq!(paid, i128::from(receipt.total), "the wallet paid the bill exactly once");
        prop_assert_eq!(ledger.system().revenue_credits, u128::from(receipt.total));
        prop_assert!(ledger.check_invariants().is_ok());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A crash after `fed` readings, with `logged` ≥ `fed` readings in the event log, then
    /// recovery and the rest of the session: the ledger ends exactly where an uninterrupted
    /// run ends (same operations, same balances, same revenue).
    #[test]
    fn recovery_at_any_point_matches_the_uninterrupted_run(
        start_min in 0i64..1_440,
        ask in 500u64..=6_000,
        increments in proptest::collection::vec((60i64..=1_800, 0u64..=8_000), 2..30),
        crash in any::<proptest::sample::Index>(),
        logged_extra in 0usize..3,
    ) {
        let tariff = cn_tou();
        let base: chrono::DateTime<chrono::Utc> = "2025-03-03T00:00:00+08:00".parse().unwrap();
        let t0 = base + TimeDelta::minutes(start_min);
        let mut readings = vec![Reading::new(t0, 42_000)];
        for (secs, wh) in increments {
            let last = *readings.last().unwrap();
            readings.push(Reading::new(last.at + TimeDelta::seconds(secs), last.total_wh + wh));
        }
        let stop = readings.last().unwrap().at;
        let mut ledger = MemLedger::new(cents());
        let who = wallet(&mut ledger, "prop", 5_000, 300, t0);
        let config = SessionConfig::new(Id::name("s-crash").unwrap(), who, t0, ask,
            t0 + TimeDelta::days(2));
        let start = ledger.clone();

        let mut reference = start.clone();
        let mut session = Session::start(&mut reference, &tariff, config, t0).unwrap();
        for r in &readings {
            session.on_reading(&mut reference, r, r.at).unwrap();
        }
        let expected = session.stop(&mut reference, stop).unwrap();

        let fed = crash.index(readings.len());
        let logged = (fed + logged_extra).min(readings.len());
        let mut crashed = start;
        {
            let mut session = Session::start(&mut crashed, &tariff, config, t0).unwrap();
            for r in &readings[..fed] {
                session.on_reading(&mut crashed, r, r.at).unwrap();
            }
        }
        let log = readings[..logged].iter().copied().map(MeterEvent::Reading);
        let now = readings[logged.saturating_sub(1)].at;
        let mut recovered = Session::recover(&mut crashed, &tariff, config, log, now).unwrap();
        for r in &readings[logged..] {
            recovered.on_reading(&mut crashed, r, r.at).unwrap();
        }
        let receipt = recovered.stop(&mut crashed, stop).unwrap();
        prop_assert_eq!(receipt.total, expected.total);
        prop_assert_eq!(receipt.settlement, expected.settlement);
        prop_assert_eq!(receipt.balance_before, expected.balance_before);
        prop_assert_eq!(receipt.balance_after, expected.balance_after);
        prop_assert_eq!(crashed.seq(), reference.seq(), "no extra ledger operation");
        prop_assert_eq!(crashed.system(), reference.system());
        prop_assert_eq!(crashed.account(who), reference.account(who));
        prop_assert!(crashed.check_invariants().is_ok());
    }
}
