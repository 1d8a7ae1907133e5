//! Hand-computed sessions on the 尖峰平谷 example tariff (`examples-data/cn-tou.toml`).
//!
//! Prices per kWh (electricity + service, 13 % tax included, so gross = subtotal):
//! valley 0.3546 + 0.4000, flat 0.6835 + 0.6000, peak 1.0125 + 0.8000. Default rounding:
//! each fee total (electricity, service) rounded once to 0.01, half up.
#![allow(clippy::unwrap_used)]

mod common;

use common::{cents, cn_tou, local, minutes, wallet};
use meterkit_ledger::{HoldState, Id, MemLedger};
use meterkit_session::{
    Decision, Error, LedgerPort, MeterEvent, Rejection, Session, SessionConfig, StopReason,
};
use meterkit_tariff::{PeriodKind, PricingPolicy, Reading, price_session};

/// Readings every 15 minutes at 7 kW (1 750 Wh per quarter hour), from `from` for `quarters`.
fn quarter_hours(from: chrono::DateTime<chrono::Utc>, base_wh: u64, quarters: u64) -> Vec<Reading> {
    (0..=quarters)
        .map(|n| {
            let offset = i64::try_from(n * 15).unwrap();
            Reading::new(minutes(from, offset), base_wh + n * 1_750)
        })
        .collect()
}

fn session_id(name: &str) -> Id {
    Id::name(name).unwrap()
}

#[test]
fn tou_boundaries_captured_equals_bill_total_to_the_cent() {
    let tariff = cn_tou();
    let mut ledger = MemLedger::new(cents());
    let t0 = local("07:00");
    let alice = wallet(&mut ledger, "alice", 10_000, 0, t0);
    let config = SessionConfig::new(session_id("s-tou"), alice, t0, 8_000, local("13:00"));
    let mut session = Session::start(&mut ledger, &tariff, config, t0).unwrap();
    // 07:00 → 12:00 crosses valley→flat at 08:00 and flat→peak at 10:00.
    let readings = quarter_hours(t0, 1_206_420, 20);
    for reading in &readings {
        let decision = session
            .on_reading(&mut ledger, reading, reading.at)
            .unwrap();
        let Decision::Continue(progress) = decision else {
            panic!("{decision:?}")
        };
        // Every capture is the cost so far, which is below the hold.
        assert_eq!(progress.captured, progress.cost);
        let hold = ledger.hold(session.hold_id()).unwrap();
        assert_eq!(hold.captured, progress.cost);
        // Captures debit the wallet as they happen.
        assert_eq!(progress.balance, 10_000 - i128::from(progress.cost));
        if reading.at == local("08:00") {
            // valley 7 kWh: electricity 7 × 0.3546 = 2.4822 → 2.48, service 2.80: 5.28
            assert_eq!(progress.cost, 528);
            assert_eq!(session.current_period(), Some(&PeriodKind::Valley));
        }
        if reading.at == local("10:00") {
            // + flat 14 kWh: electricity 2.4822 + 9.569 = 12.0512 → 12.05,
            // service 2.80 + 8.40 = 11.20: 23.25
            assert_eq!(progress.cost, 2_325);
        }
    }
    ledger.check_invariants().unwrap();

    let receipt = session.stop(&mut ledger, local("12:00")).unwrap();
    // + peak 14 kWh: electricity 12.0512 + 14.175 = 26.2262 → 26.23,
    // service 11.20 + 11.20 = 22.40: 48.63
    assert_eq!(receipt.total, 4_863);
    assert_eq!(receipt.bill.totals.gross.to_string(), "48.63");
    assert_eq!(receipt.energy_wh, 35_000);
    let periods: Vec<_> = receipt
        .bill
        .lines()
        .iter()
        .map(|l| l.period.clone())
        .collect();
    assert_eq!(
        periods,
        [PeriodKind::Valley, PeriodKind::Flat, PeriodKind::Peak]
    );
    assert_eq!(
        receipt
            .bill
            .lines()
            .iter()
            .map(|l| l.energy_wh)
            .collect::<Vec<_>>(),
        [7_000, 14_000, 14_000]
    );
    // Everything was captured live; the settle captured nothing more, released the rest.
    assert_eq!(receipt.captured_before_settle, 4_863);
    assert_eq!(receipt.settlement.delta, 0);
    assert_eq!(receipt.settlement.released, 8_000 - 4_863);
    assert_eq!(
        (receipt.balance_before, receipt.balance_after),
        (10_000, 5_137)
    );
    assert_eq!(ledger.system().revenue_credits, 4_863);
    let meter = receipt.meters[0];
    assert_eq!((meter.first_wh, meter.last_wh), (1_206_420, 1_241_420));
    assert_eq!(receipt.ops.captures, 20);
    assert_eq!(receipt.ops.hold, session.hold_id());
    assert!(receipt.ops.last_capture.is_some());
    assert_eq!(
        ledger.hold(session.hold_id()).unwrap().state,
        HoldState::Settled
    );
    // Live pricing and batch pricing of the same readings agree.
    let batch = price_session(
        &tariff,
        PricingPolicy::default(),
        t0,
        local("12:00"),
        &readings,
    )
    .unwrap();
    assert_eq!(batch, receipt.bill);
    ledger.check_invariants().unwrap();
}

/// Valley only: after `n` quarter hours the cost is round(n × 0.62055) + n × 0.70.
fn run_until_money_runs_out(top_up: u64, ask: u64, credit_line: u64, expect: StopReason) {
    let tariff = cn_tou();
    let mut ledger = MemLedger::new(cents());
    let t0 = local("00:00");
    let bob = wallet(&mut ledger, "bob", top_up, credit_line, t0);
    let config =
        SessionConfig::new(session_id("s-out"), bob, t0, ask, local("08:00")).with_low_balance(300);
    let mut session = Session::start(&mut ledger, &tariff, config, t0).unwrap();
    for (n, reading) in quarter_hours(t0, 0, 16).iter().enumerate() {
        let decision = session
            .on_reading(&mut ledger, reading, reading.at)
            .unwrap();
        match n {
            // n = 12: 7.4466 → 7.45 + 8.40 = 15.85, 4.15 left of 20.00
            0..=12 => assert!(
                matches!(decision, Decision::Continue(_)),
                "{n}: {decision:?}"
            ),
            // n = 13: 8.06715 → 8.07 + 9.10 = 17.17, 2.83 left ≤ 3.00
            // n = 15: 9.30825 → 9.31 + 10.50 = 19.81, 0.19 left
            13..=15 => assert!(
                matches!(decision, Decision::LowBalance(_)),
                "{n}: {decision:?}"
            ),
            // n = 16: 9.9288 → 9.93 + 11.20 = 21.13 ≥ 20.00: the first reading to reach it
            _ => {
                let Decision::Stop { reason, progress } = decision else {
                    panic!("{n}: {decision:?}")
                };
                assert_eq!(reason, expect);
                assert_eq!(
                    (progress.cost, progress.captured, progress.remaining),
                    (2_113, 2_000, 0)
                );
                assert_eq!(progress.uncovered, 113);
            }
        }
    }
    // Energy delivered while the relay opens is still priced; the decision stays Stop and
    // the exhausted hold gets no further capture.
    let seq = ledger.seq();
    let late = Reading::new(local("04:05"), 16 * 1_750 + 100);
    let decision = session.on_reading(&mut ledger, &late, late.at).unwrap();
    assert!(matches!(decision, Decision::Stop { reason, .. } if reason == expect));
    assert_eq!(ledger.seq(), seq);

    let receipt = session.stop(&mut ledger, late.at).unwrap();
    // 28.1 kWh: electricity 9.96426 → 9.96, service 11.24: 21.20
    assert_eq!(receipt.total, 2_120);
    assert_eq!(receipt.captured_before_settle, 2_000);
    assert_eq!(receipt.stop_reason, Some(expect));
    let s = receipt.settlement;
    assert_eq!(s.from_wallet + s.from_credit_line + s.to_debt, 120);
    if expect == StopReason::BalanceExhausted {
        // The wallet is empty; the credit line (2.00) takes the 1.20 overshoot.
        assert_eq!((s.from_wallet, s.from_credit_line, s.to_debt), (0, 120, 0));
        assert_eq!(receipt.balance_after, -120);
    } else {
        assert_eq!((s.from_wallet, s.from_credit_line, s.to_debt), (120, 0, 0));
        assert_eq!(receipt.balance_after, 10_000 - 2_120);
    }
    assert_eq!(ledger.system().revenue_credits, 2_120);
    ledger.check_invariants().unwrap();
}

#[test]
fn money_runs_out_stop_at_exactly_the_first_reading_reaching_the_balance() {
    // 20.00 in the wallet, 50.00 asked: the hold is limited to 20.00 by the balance.
    run_until_money_runs_out(2_000, 5_000, 200, StopReason::BalanceExhausted);
}

#[test]
fn hold_exhausted_when_the_hold_was_the_limit() {
    run_until_money_runs_out(10_000, 2_000, 0, StopReason::HoldExhausted);
}

#[test]
fn duplicates_are_no_ops_out_of_order_readings_rejected() {
    let tariff = cn_tou();
    let mut ledger = MemLedger::new(cents());
    let t0 = local("00:00");
    let carol = wallet(&mut ledger, "carol", 10_000, 0, t0);
    let config = SessionConfig::new(session_id("s-dup"), carol, t0, 5_000, local("08:00"));
    let mut session = Session::start(&mut ledger, &tariff, config, t0).unwrap();
    let r = quarter_hours(t0, 0, 3);
    session.on_reading(&mut ledger, &r[0], r[0].at).unwrap();
    let first = session.on_reading(&mut ledger, &r[1], r[1].at).unwrap();
    // 1.75 kWh: 0.62055 → 0.62 + 0.70 = 1.32
    assert_eq!(first.progress().captured, 132);
    let seq = ledger.seq();

    let again = session
        .on_reading(&mut ledger, &r[1], minutes(r[1].at, 1))
        .unwrap();
    assert_eq!(again, first, "a duplicate answers the same");
    assert_eq!(ledger.seq(), seq, "and issues no ledger operation");

    let older = session.on_reading(&mut ledger, &r[0], r[1].at).unwrap();
    assert_eq!(
        older,
        Decision::Rejected {
            reason: Rejection::OutOfOrder {
                at: r[0].at,
                previous: r[1].at
            },
            progress: *first.progress(),
        }
    );
    let conflicting = Reading::new(r[1].at, r[1].total_wh + 50);
    let decision = session
        .on_reading(&mut ledger, &conflicting, r[1].at)
        .unwrap();
    assert!(matches!(
        decision,
        Decision::Rejected { reason: Rejection::ConflictingDuplicate { at }, .. } if at == r[1].at
    ));
    let before_start = Reading::new(minutes(t0, -1), 0);
    let decision = session.on_reading(&mut ledger, &before_start, t0).unwrap();
    assert!(matches!(
        decision,
        Decision::Rejected {
            reason: Rejection::BeforeStart { .. },
            ..
        }
    ));
    assert_eq!(ledger.seq(), seq, "rejections issue nothing");

    let next = session.on_reading(&mut ledger, &r[2], r[2].at).unwrap();
    // 3.5 kWh: 1.2411 → 1.24 + 1.40 = 2.64
    assert_eq!(next.progress().captured, 264);
    let receipt = session.stop(&mut ledger, r[2].at).unwrap();
    assert_eq!(receipt.total, 264);
    assert_eq!(receipt.ops.captures, 2);

    let after = session.on_reading(&mut ledger, &r[3], r[3].at).unwrap();
    assert!(matches!(
        after,
        Decision::Rejected {
            reason: Rejection::Ended,
            ..
        }
    ));
    assert_eq!(session.stop(&mut ledger, r[3].at), Err(Error::Ended));
    ledger.check_invariants().unwrap();
}

#[test]
fn register_rollover_is_priced_across_the_wrap() {
    let tariff = cn_tou();
    let mut ledger = MemLedger::new(cents());
    let t0 = local("00:00");
    let dave = wallet(&mut ledger, "dave", 10_000, 0, t0);
    // DL/T 645 registers wrap from 999 999.99 kWh to 0.
    let policy = PricingPolicy::default().with_register_modulus_wh(1_000_000_000);
    let config = SessionConfig::new(session_id("s-roll"), dave, t0, 5_000, local("08:00"))
        .with_policy(policy);
    let mut session = Session::start(&mut ledger, &tariff, config, t0).unwrap();
    let readings = [
        Reading::new(t0, 999_998_000),
        Reading::new(local("00:30"), 999_999_500),
        Reading::new(local("01:00"), 1_000), // 500 Wh to the wrap + 1 000 Wh after it
    ];
    for r in &readings {
        let decision = session.on_reading(&mut ledger, r, r.at).unwrap();
        assert!(matches!(decision, Decision::Continue(_)), "{decision:?}");
    }
    let receipt = session.stop(&mut ledger, local("01:00")).unwrap();
    // 3 kWh valley: 1.0638 → 1.06 + 1.20 = 2.26
    assert_eq!((receipt.energy_wh, receipt.total), (3_000, 226));
    let meter = receipt.meters[0];
    assert_eq!((meter.first_wh, meter.last_wh), (999_998_000, 1_000));
    assert_eq!(receipt.meters.len(), 1);
}

#[test]
fn meter_fault_then_meter_swap() {
    let tariff = cn_tou();
    let mut ledger = MemLedger::new(cents());
    let t0 = local("00:00");
    let erin = wallet(&mut ledger, "erin", 10_000, 0, t0);
    let config = SessionConfig::new(session_id("s-swap"), erin, t0, 5_000, local("08:00"));
    let mut session = Session::start(&mut ledger, &tariff, config, t0).unwrap();
    session
        .on_reading(&mut ledger, &Reading::new(t0, 5_000), t0)
        .unwrap();
    let d = session
        .on_reading(
            &mut ledger,
            &Reading::new(local("00:30"), 8_000),
            local("00:30"),
        )
        .unwrap();
    // 3 kWh: 2.26 (as in the rollover test)
    assert_eq!(d.progress().captured, 226);
    // No modulus configured: a register that goes down is a fault, not priced.
    let fault = session
        .on_reading(
            &mut ledger,
            &Reading::new(local("00:40"), 100),
            local("00:40"),
        )
        .unwrap();
    assert_eq!(
        fault,
        Decision::Stop {
            reason: StopReason::MeterFault {
                register: 0,
                previous_wh: 8_000,
                current_wh: 100
            },
            progress: *d.progress(),
        }
    );
    // The technician reports the swap: old meter ended at 9 000, new one starts at 0.
    let old_final = Reading::new(local("00:45"), 9_000);
    let new_initial = Reading::new(local("00:50"), 0);
    let swapped = session
        .meter_swap(&mut ledger, &old_final, &new_initial, local("00:50"))
        .unwrap();
    // 4 kWh: 1.4184 → 1.42 + 1.60 = 3.02; the fault is cleared.
    assert!(matches!(swapped, Decision::Continue(p) if p.captured == 302));
    let seq = ledger.seq();
    let repeat = session
        .meter_swap(&mut ledger, &old_final, &new_initial, local("00:51"))
        .unwrap();
    assert_eq!(
        (repeat, ledger.seq()),
        (swapped, seq),
        "a repeated swap is a no-op"
    );
    session
        .on_reading(
            &mut ledger,
            &Reading::new(local("01:30"), 2_000),
            local("01:30"),
        )
        .unwrap();
    let receipt = session.stop(&mut ledger, local("01:30")).unwrap();
    // 3 + 1 + 2 = 6 kWh: 2.1276 → 2.13 + 2.40 = 4.53
    assert_eq!((receipt.energy_wh, receipt.total), (6_000, 453));
    let spans: Vec<_> = receipt
        .meters
        .iter()
        .map(|m| (m.first_wh, m.last_wh))
        .collect();
    assert_eq!(spans, [(5_000, 9_000), (0, 2_000)]);
    assert_eq!(receipt.meters[1].first_at, local("00:50"));
    assert_eq!(receipt.stop_reason, None);
    ledger.check_invariants().unwrap();
}

#[test]
fn expired_hold_stops_and_the_rest_is_charged_late() {
    let tariff = cn_tou();
    let mut ledger = MemLedger::new(cents());
    let t0 = local("00:00");
    let fay = wallet(&mut ledger, "fay", 10_000, 0, t0);
    let config = SessionConfig::new(session_id("s-exp"), fay, t0, 5_000, local("01:00"));
    let mut session = Session::start(&mut ledger, &tariff, config, t0).unwrap();
    for (at, wh) in [("00:00", 0), ("00:30", 3_500)] {
        session
            .on_reading(&mut ledger, &Reading::new(local(at), wh), local(at))
            .unwrap();
    }
    let late = Reading::new(local("01:10"), 7_000);
    let decision = session.on_reading(&mut ledger, &late, late.at).unwrap();
    assert!(matches!(
        decision,
        Decision::Stop { reason: StopReason::HoldExpired, progress } if progress.captured == 264
    ));
    let receipt = session.stop(&mut ledger, late.at).unwrap();
    // 7 kWh: 2.4822 → 2.48 + 2.80 = 5.28; 2.64 captured, 2.64 charged late.
    assert_eq!(receipt.total, 528);
    assert!(receipt.settlement.late);
    assert_eq!(receipt.settlement.from_wallet, 264);
    assert!(receipt.ops.late.is_some());
    assert_eq!(receipt.balance_after, 10_000 - 528);
    let wallet_now = ledger.account(fay).unwrap();
    assert_eq!(wallet_now.held, 0, "the expired hold was released");
    ledger.check_invariants().unwrap();
}

#[test]
fn refused_hold_is_an_error_naming_the_ledger_answer() {
    let tariff = cn_tou();
    let mut ledger = MemLedger::new(cents());
    let t0 = local("00:00");
    let gus = Id::name("gus").unwrap();
    let config = SessionConfig::new(session_id("s-none"), gus, t0, 5_000, local("01:00"));
    let error = Session::start(&mut ledger, &tariff, config, t0).unwrap_err();
    assert!(matches!(
        error,
        Error::Ledger {
            op: "hold",
            error: meterkit_ledger::LedgerError::AccountNotFound(id)
        } if id == gus
    ));
    // A ledger keeping fewer decimals than the currency could not capture to the cent.
    let mut coarse = MemLedger::new(meterkit_ledger::Scale::new(0).unwrap());
    let error = Session::start(&mut coarse, &tariff, config, t0).unwrap_err();
    assert_eq!(
        error,
        Error::ScaleMismatch {
            ledger: 0,
            currency: 2
        }
    );
}

/// Feeds `readings` to `session`, each at its own instant, and returns the decisions.
fn feed<P: LedgerPort>(
    session: &mut Session<'_>,
    port: &mut P,
    readings: &[Reading],
) -> Vec<Decision>
where
    P::Error: core::fmt::Debug,
{
    readings
        .iter()
        .map(|r| session.on_reading(port, r, r.at).unwrap())
        .collect()
}

#[test]
fn crash_and_recover_deducts_exactly_once() {
    let tariff = cn_tou();
    let t0 = local("07:00");
    let stop_at = local("12:00");
    let readings = quarter_hours(t0, 0, 20);
    let config =
        |wallet| SessionConfig::new(session_id("s-crash"), wallet, t0, 8_000, local("13:00"));

    // The uninterrupted run.
    let mut reference = MemLedger::new(cents());
    let alice = wallet(&mut reference, "alice", 10_000, 0, t0);
    let mut session = Session::start(&mut reference, &tariff, config(alice), t0).unwrap();
    feed(&mut session, &mut reference, &readings);
    let expected = session.stop(&mut reference, stop_at).unwrap();

    // The same session on a file journal, killed after 8 readings were captured and a 9th
    // was logged but never fed.
    let dir = std::env::temp_dir().join(format!("meterkit-session-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ledger.journal");
    let _ = std::fs::remove_file(&path);
    {
        let (ledger, journal) = meterkit_ledger::FileJournal::create(&path, cents()).unwrap();
        let mut durable = meterkit_ledger::Durable::new(ledger, journal);
        let alice = wallet(&mut durable, "alice", 10_000, 0, t0);
        let mut session = Session::start(&mut durable, &tariff, config(alice), t0).unwrap();
        feed(&mut session, &mut durable, &readings[..8]);
        // Crash: the session and the ledger process are gone; only the journal remains.
    }
    let (ledger, journal, _recovery) = meterkit_ledger::FileJournal::open(&path).unwrap();
    let mut durable = meterkit_ledger::Durable::new(ledger, journal);
    let captured_at_crash = durable.hold(expected.ops.hold).unwrap().captured;
    assert_eq!(
        captured_at_crash,
        expected_cost_after(&tariff, &readings[..8])
    );
    let seq_at_crash = durable.ledger().seq();
    let log = readings[..9].iter().copied().map(MeterEvent::Reading);
    let mut recovered =
        Session::recover(&mut durable, &tariff, config(alice), log, readings[8].at).unwrap();
    // Recovery re-issued only the capture the crash cut off (reading 9).
    assert_eq!(durable.ledger().seq(), seq_at_crash + 1);
    assert_eq!(
        recovered.progress().captured,
        expected_cost_after(&tariff, &readings[..9])
    );
    feed(&mut recovered, &mut durable, &readings[9..]);
    let receipt = recovered.stop(&mut durable, stop_at).unwrap();

    assert_eq!(receipt.total, expected.total);
    assert_eq!(receipt.bill, expected.bill);
    assert_eq!(receipt.settlement, expected.settlement);
    assert_eq!(receipt.balance_before, expected.balance_before);
    assert_eq!(receipt.balance_after, expected.balance_after);
    assert_eq!(receipt.ops.settle, expected.ops.settle);
    assert_eq!(receipt.ops.last_capture, expected.ops.last_capture);
    // No double deduction: the same number of operations and the same money everywhere.
    assert_eq!(durable.ledger().seq(), reference.seq());
    assert_eq!(durable.ledger().system(), reference.system());
    assert_eq!(durable.ledger().account(alice), reference.account(alice));
    durable.ledger().check_invariants().unwrap();

    // A crash after the settle: recovering and stopping again with the same `now` answers
    // the first settle and moves nothing.
    let seq = durable.ledger().seq();
    let log = readings.iter().copied().map(MeterEvent::Reading);
    let mut again = Session::recover(&mut durable, &tariff, config(alice), log, stop_at).unwrap();
    assert!(matches!(
        again.decision(),
        Decision::Stop {
            reason: StopReason::HoldClosed(HoldState::Settled),
            ..
        }
    ));
    let repeat = again.stop(&mut durable, stop_at).unwrap();
    assert_eq!(
        (repeat.total, repeat.settlement),
        (receipt.total, receipt.settlement)
    );
    assert_eq!(durable.ledger().seq(), seq);
    assert_eq!(durable.ledger().account(alice), reference.account(alice));
    drop(durable);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bill total of the session cut at the last of `readings`, in cents.
fn expected_cost_after(tariff: &meterkit_tariff::Tariff, readings: &[Reading]) -> u64 {
    let last = readings.last().unwrap().at;
    let bill = price_session(
        tariff,
        PricingPolicy::default(),
        readings[0].at,
        last,
        readings,
    )
    .unwrap();
    cents().from_decimal(bill.totals.gross).unwrap()
}

#[test]
fn a_capture_refused_for_a_full_store_is_an_error_not_a_decision() {
    // A firmware ledger with room for 4 records: open, top-up, hold, one capture.
    let tariff = cn_tou();
    let mut ledger: meterkit_ledger::HeaplessLedger<2, 2, 4> =
        meterkit_ledger::HeaplessLedger::new(cents());
    let t0 = local("00:00");
    let hal = wallet(&mut ledger, "hal", 10_000, 0, t0);
    let config = SessionConfig::new(session_id("s-full"), hal, t0, 5_000, local("08:00"));
    let mut session = Session::start(&mut ledger, &tariff, config, t0).unwrap();
    let r = quarter_hours(t0, 0, 2);
    session.on_reading(&mut ledger, &r[0], r[0].at).unwrap();
    session.on_reading(&mut ledger, &r[1], r[1].at).unwrap();
    let error = session.on_reading(&mut ledger, &r[2], r[2].at).unwrap_err();
    assert_eq!(
        error,
        Error::Ledger {
            op: "capture",
            error: meterkit_ledger::LedgerError::StoreFull
        }
    );
    // The capture stays pending: the retried reading re-issues it (still full here).
    assert!(session.on_reading(&mut ledger, &r[2], r[2].at).is_err());
    assert_eq!(session.progress().captured, 132);
}

#[test]
fn firmware_ledger_without_heap_journal_replay_and_recovery() {
    // The charge-point configuration: fixed-capacity tables and a RAM journal that the
    // firmware copies to flash; after a reset the journal is replayed into a fresh ledger.
    type Firmware = meterkit_ledger::HeaplessLedger<4, 4, 64>;
    type Journal = meterkit_ledger::MemJournal<8_192>;
    let tariff = cn_tou();
    let t0 = local("09:00");
    let readings = quarter_hours(t0, 500_000, 8); // 09:00 → 11:00, flat then peak
    let config = |wallet| SessionConfig::new(session_id("s-fw"), wallet, t0, 5_000, local("12:00"));

    let mut durable = meterkit_ledger::Durable::new(Firmware::new(cents()), Journal::new());
    let ivy = wallet(&mut durable, "ivy", 10_000, 0, t0);
    let mut session = Session::start(&mut durable, &tariff, config(ivy), t0).unwrap();
    feed(&mut session, &mut durable, &readings[..5]);
    let flash: Vec<u8> = durable.journal().bytes().to_vec();
    drop(session);
    drop(durable);

    let mut restored = Firmware::new(cents());
    let end = meterkit_ledger::replay(&flash, &mut restored);
    assert_eq!(end.error, None);
    let mut durable = meterkit_ledger::Durable::new(restored, Journal::new());
    let log = readings[..5].iter().copied().map(MeterEvent::Reading);
    let mut session = Session::recover(&mut durable, &tariff, config(ivy), log, t0).unwrap();
    assert!(
        durable.journal().bytes().is_empty(),
        "replay issued nothing"
    );
    feed(&mut session, &mut durable, &readings[5..]);
    let receipt = session.stop(&mut durable, local("11:00")).unwrap();
    // flat 09:00–10:00 7 kWh + peak 10:00–11:00 7 kWh:
    // electricity 7 × 0.6835 + 7 × 1.0125 = 4.7845 + 7.0875 = 11.872 → 11.87,
    // service 4.20 + 5.60 = 9.80: 21.67
    assert_eq!(receipt.total, 2_167);
    assert_eq!(receipt.balance_after, 10_000 - 2_167);
    assert_eq!(durable.ledger().system().revenue_credits, 2_167);
    durable.ledger().check_invariants().unwrap();
}

/// A ledger reached over an unreliable link: a call can fail before the ledger sees it, or
/// after it applied the operation (the reply is lost).
struct Flaky {
    inner: MemLedger,
    fail_before: bool,
    lose_reply: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LinkDown;

impl core::fmt::Display for LinkDown {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("link down")
    }
}

impl core::error::Error for LinkDown {}

impl LedgerPort for Flaky {
    type Error = LinkDown;

    fn apply(
        &mut self,
        op: &meterkit_ledger::Op,
        now: meterkit_ledger::Timestamp,
    ) -> Result<meterkit_ledger::Reply, LinkDown> {
        if std::mem::take(&mut self.fail_before) {
            return Err(LinkDown);
        }
        let reply = self.inner.apply(op, now);
        if std::mem::take(&mut self.lose_reply) {
            return Err(LinkDown);
        }
        Ok(reply)
    }

    fn hold(&self, id: Id) -> Option<meterkit_ledger::Hold> {
        self.inner.hold(id).copied()
    }

    fn account(&self, id: Id) -> Option<meterkit_ledger::Account> {
        self.inner.account(id).copied()
    }

    fn scale(&self) -> meterkit_ledger::Scale {
        self.inner.scale()
    }
}

#[test]
fn lost_link_retries_the_same_reading_and_deducts_once() {
    let tariff = cn_tou();
    let t0 = local("00:00");
    let mut port = Flaky {
        inner: MemLedger::new(cents()),
        fail_before: false,
        lose_reply: false,
    };
    let jan = wallet(&mut port, "jan", 10_000, 0, t0);
    let config = SessionConfig::new(session_id("s-flaky"), jan, t0, 5_000, local("08:00"));
    let mut session = Session::start(&mut port, &tariff, config, t0).unwrap();
    let r = quarter_hours(t0, 0, 3);
    session.on_reading(&mut port, &r[0], r[0].at).unwrap();
    session.on_reading(&mut port, &r[1], r[1].at).unwrap();

    // The capture never reached the ledger: an error, and the retry captures.
    port.fail_before = true;
    assert_eq!(
        session.on_reading(&mut port, &r[2], r[2].at),
        Err(Error::Port(LinkDown))
    );
    assert_eq!(port.inner.hold(session.hold_id()).unwrap().captured, 132);
    let retried = session.on_reading(&mut port, &r[2], r[2].at).unwrap();
    // 3.5 kWh: 1.2411 → 1.24 + 1.40 = 2.64
    assert_eq!(retried.progress().captured, 264);

    // The capture was applied but its reply lost: the retry reuses the id, nothing twice.
    port.lose_reply = true;
    assert!(session.on_reading(&mut port, &r[3], r[3].at).is_err());
    let seq = port.inner.seq();
    let retried = session.on_reading(&mut port, &r[3], r[3].at).unwrap();
    assert_eq!(port.inner.seq(), seq, "answered as a repeat");
    // 5.25 kWh: 1.86165 → 1.86 + 2.10 = 3.96
    assert_eq!(retried.progress().captured, 396);
    assert_eq!(port.inner.hold(session.hold_id()).unwrap().captured, 396);

    // A settle whose reply is lost (after a capture left pending): retrying `stop` with the
    // same `now` answers the first settle again.
    let four = Reading::new(minutes(t0, 60), 7_000);
    session.on_reading(&mut port, &four, four.at).unwrap();
    port.fail_before = true; // the capture of the last reading is left pending
    let five = Reading::new(minutes(t0, 75), 8_750);
    assert!(session.on_reading(&mut port, &five, five.at).is_err());
    port.lose_reply = true;
    assert!(session.stop(&mut port, five.at).is_err());
    let receipt = session.stop(&mut port, five.at).unwrap();
    // 8.75 kWh: 3.10275 → 3.10 + 3.50 = 6.60; 5.28 was captured (7 kWh), the settle took 1.32.
    assert_eq!(receipt.total, 660);
    assert_eq!(receipt.captured_before_settle, 528);
    assert_eq!(receipt.settlement.delta, 132);
    assert_eq!(receipt.balance_after, 10_000 - 660);
    assert_eq!(port.inner.system().revenue_credits, 660);
    port.inner.check_invariants().unwrap();
}
