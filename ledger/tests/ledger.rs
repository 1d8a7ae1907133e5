//! Hand-computed ledger scenarios; amounts in cents (scale 2).

#![cfg(feature = "alloc")]
// Short names (l, h, c, s, t, w) keep the arithmetic in view.
#![allow(clippy::many_single_char_names)]

use meterkit_ledger::{
    Applied, HeaplessLedger, HoldState, Id, LedgerError, MemLedger, Op, Outcome, Scale, Status,
    Timestamp,
};

fn id(name: &str) -> Id {
    Id::name(name).unwrap_or_else(|_| Id::from_raw(1))
}

const T0: Timestamp = Timestamp(1_000);
const LATER: Timestamp = Timestamp(1_000_000);

fn ok(ledger: &mut MemLedger, op: Op) -> Applied {
    let reply = ledger.apply(&op, T0);
    assert_eq!(reply.status, Status::New, "{op:?}");
    let applied = reply
        .result
        .unwrap_or_else(|e| panic!("{op:?} failed: {e}"));
    assert_eq!(ledger.check_invariants(), Ok(()));
    applied
}

fn err(ledger: &mut MemLedger, op: Op) -> LedgerError {
    let error = ledger.apply(&op, T0).result.err();
    assert_eq!(ledger.check_invariants(), Ok(()));
    error.unwrap_or_else(|| panic!("{op:?} succeeded"))
}

/// alice: floor 1.00, credit line 5.00, low credit 20.00, topped up 100.00.
fn alice() -> MemLedger {
    let mut ledger = MemLedger::new(Scale::default());
    let open = Op::Open {
        id: id("o1"),
        account: id("alice"),
        floor: 100,
        credit_line: 500,
        low_credit: 2_000,
    };
    ok(&mut ledger, open);
    ok(
        &mut ledger,
        Op::TopUp {
            id: id("t1"),
            account: id("alice"),
            amount: 10_000,
        },
    );
    ledger
}

#[test]
fn hold_capture_settle_release() {
    let mut l = alice();
    // available = 100.00 − floor 1.00 = 99.00; the hold reserves 50.00.
    let held = ok(
        &mut l,
        Op::Hold {
            id: id("h"),
            account: id("alice"),
            amount: 5_000,
            expires: LATER,
        },
    );
    assert_eq!(held.outcome, Outcome::Held { amount: 5_000 });
    assert_eq!(held.available, 4_900);
    let c1 = ok(
        &mut l,
        Op::Capture {
            id: id("c1"),
            hold: id("h"),
            cumulative: 1_234,
        },
    );
    assert_eq!(
        c1.outcome,
        Outcome::Captured {
            delta: 1_234,
            captured: 1_234,
            remaining: 3_766,
            uncovered: 0
        }
    );
    // A reordered, older reading is a no-op: cumulative 10.00 < 12.34.
    let c0 = ok(
        &mut l,
        Op::Capture {
            id: id("c0"),
            hold: id("h"),
            cumulative: 1_000,
        },
    );
    assert_eq!(
        c0.outcome,
        Outcome::Captured {
            delta: 0,
            captured: 1_234,
            remaining: 3_766,
            uncovered: 0
        }
    );
    // Settle at 20.00: captures 7.66 more, releases 50.00 − 20.00 = 30.00.
    let s = ok(
        &mut l,
        Op::Settle {
            id: id("s"),
            hold: id("h"),
            cumulative: 2_000,
        },
    );
    assert_eq!(
        s.outcome,
        Outcome::Settled {
            delta: 766,
            released: 3_000,
            from_wallet: 0,
            from_credit_line: 0,
            to_debt: 0
        }
    );
    // balance 100.00 − 20.00 = 80.00; available 80.00 − 1.00 = 79.00.
    assert_eq!(s.available, 7_900);
    let wallet = l.account(id("alice")).copied();
    assert_eq!(
        wallet.map(|w| (w.balance(), w.held, w.debt())),
        Some((8_000, 0, 0))
    );
    assert_eq!(l.system().revenue_credits, 2_000);
    assert_eq!(l.hold(id("h")).map(|h| h.state), Some(HoldState::Settled));
    // A hold resolves once.
    assert_eq!(
        err(
            &mut l,
            Op::Void {
                id: id("v"),
                hold: id("h")
            }
        ),
        LedgerError::HoldNotOpen(HoldState::Settled)
    );
}

#[test]
fn exhaustion_then_overshoot_goes_to_wallet_credit_line_then_debt() {
    let mut l = alice();
    // Another open hold of 90.00 protects that money from overshoot.
    ok(
        &mut l,
        Op::Hold {
            id: id("other"),
            account: id("alice"),
            amount: 9_000,
            expires: LATER,
        },
    );
    // available 99.00 − 90.00 = 9.00: the second hold asks 50.00, gets 9.00.
    let h = ok(
        &mut l,
        Op::Hold {
            id: id("h"),
            account: id("alice"),
            amount: 5_000,
            expires: LATER,
        },
    );
    assert_eq!(h.outcome, Outcome::Held { amount: 900 });
    let c = ok(
        &mut l,
        Op::Capture {
            id: id("c"),
            hold: id("h"),
            cumulative: 1_000,
        },
    );
    // 10.00 requested, 9.00 held: capture 9.00, 1.00 uncovered, exhausted.
    assert_eq!(
        c.outcome,
        Outcome::Captured {
            delta: 900,
            captured: 900,
            remaining: 0,
            uncovered: 100
        }
    );
    // Settle at 20.00: overshoot 11.00. Balance 91.00, other hold 90.00, floor 1.00:
    // above floor 0; credit line 5.00 pays 5.00; 6.00 becomes debt.
    let s = ok(
        &mut l,
        Op::Settle {
            id: id("s"),
            hold: id("h"),
            cumulative: 2_000,
        },
    );
    assert_eq!(
        s.outcome,
        Outcome::Settled {
            delta: 0,
            released: 0,
            from_wallet: 0,
            from_credit_line: 500,
            to_debt: 600
        }
    );
    let w = l.account(id("alice")).copied();
    // balance 100.00 − 9.00 − 5.00 = 86.00 = floor − credit line + held (1 − 5 + 90).
    assert_eq!(
        w.map(|w| (w.balance(), w.held, w.debt())),
        Some((8_600, 9_000, 600))
    );
    // revenue: 9.00 captured + 11.00 overshoot.
    assert_eq!(l.system().revenue_credits, 2_000);
    // A top-up of 10.00 repays the 6.00 debt first.
    let t = ok(
        &mut l,
        Op::TopUp {
            id: id("t2"),
            account: id("alice"),
            amount: 1_000,
        },
    );
    assert_eq!(t.outcome, Outcome::ToppedUp { debt_repaid: 600 });
    assert_eq!(
        l.account(id("alice")).map(|w| (w.balance(), w.debt())),
        Some((9_000, 0))
    );
}

#[test]
fn idempotency_and_burned_ids() {
    let mut l = alice();
    let op = Op::TopUp {
        id: id("t9"),
        account: id("alice"),
        amount: 500,
    };
    let first = l.apply(&op, T0);
    let again = l.apply(&op, LATER);
    assert_eq!((first.status, again.status), (Status::New, Status::Repeat));
    assert_eq!(first.result, again.result);
    // Same id, different amount.
    let changed = Op::TopUp {
        id: id("t9"),
        account: id("alice"),
        amount: 501,
    };
    let reply = l.apply(&changed, T0);
    assert_eq!(
        (reply.result, reply.status),
        (
            Err(LedgerError::IdExistsWithDifferentFields),
            Status::Rejected
        )
    );
    // A failure burns the id: even once bob exists, the retry fails the same way.
    let to_bob = Op::TopUp {
        id: id("tb"),
        account: id("bob"),
        amount: 100,
    };
    assert_eq!(err(&mut l, to_bob), LedgerError::AccountNotFound(id("bob")));
    ok(
        &mut l,
        Op::Open {
            id: id("ob"),
            account: id("bob"),
            floor: 0,
            credit_line: 0,
            low_credit: 0,
        },
    );
    let retry = l.apply(&to_bob, T0);
    assert_eq!(
        (retry.result, retry.status),
        (Err(LedgerError::AccountNotFound(id("bob"))), Status::Repeat)
    );
    // Balance: 100.00 + 5.00 once.
    assert_eq!(
        l.account(id("alice"))
            .map(meterkit_ledger::Account::balance),
        Some(10_500)
    );
}

#[test]
fn precedence_shape_before_id_before_references_before_funds() {
    let mut l = alice();
    // Zero amount is a shape error even though the account is also missing.
    let reply = l.apply(
        &Op::TopUp {
            id: id("z"),
            account: id("nobody"),
            amount: 0,
        },
        T0,
    );
    assert_eq!(
        (reply.result, reply.status),
        (Err(LedgerError::AmountZero), Status::Rejected)
    );
    assert_eq!(
        l.apply(
            &Op::Expire {
                id: Id::from_raw(0)
            },
            T0
        )
        .result,
        Err(LedgerError::IdZero)
    );
    // Missing hold beats everything about the capture.
    assert_eq!(
        err(
            &mut l,
            Op::Capture {
                id: id("c"),
                hold: id("nohold"),
                cumulative: 1
            }
        ),
        LedgerError::HoldNotFound(id("nohold"))
    );
    // Expired hold: state error.
    ok(
        &mut l,
        Op::Hold {
            id: id("h"),
            account: id("alice"),
            amount: 100,
            expires: Timestamp(2_000),
        },
    );
    let late = l.apply(
        &Op::Capture {
            id: id("c2"),
            hold: id("h"),
            cumulative: 1,
        },
        Timestamp(2_000),
    );
    assert_eq!(late.result, Err(LedgerError::HoldExpired(Timestamp(2_000))));
    // Expiry is never early: at 1999 nothing expires, at 2000 the hold does.
    let early = l.apply(&Op::Expire { id: id("e1") }, Timestamp(1_999));
    assert_eq!(
        early.result.map(|a| a.outcome),
        Ok(Outcome::Expired {
            holds: 0,
            released: 0
        })
    );
    let due = l.apply(&Op::Expire { id: id("e2") }, Timestamp(2_000));
    assert_eq!(
        due.result.map(|a| a.outcome),
        Ok(Outcome::Expired {
            holds: 1,
            released: 100
        })
    );
    assert_eq!(l.check_invariants(), Ok(()));
    // Funds last: reversing more than available.
    ok(
        &mut l,
        Op::Hold {
            id: id("big"),
            account: id("alice"),
            amount: 9_900,
            expires: LATER,
        },
    );
    assert_eq!(
        err(
            &mut l,
            Op::Reverse {
                id: id("r"),
                of: id("t1")
            }
        ),
        LedgerError::InsufficientFunds { available: 0 }
    );
}

#[test]
fn refunds_once_and_never_more_than_captured() {
    let mut l = alice();
    ok(
        &mut l,
        Op::Hold {
            id: id("h"),
            account: id("alice"),
            amount: 3_000,
            expires: LATER,
        },
    );
    ok(
        &mut l,
        Op::Capture {
            id: id("c1"),
            hold: id("h"),
            cumulative: 1_000,
        },
    );
    ok(
        &mut l,
        Op::Settle {
            id: id("s"),
            hold: id("h"),
            cumulative: 2_500,
        },
    );
    // Captured 25.00 in total; refund 30.00 is too much.
    assert_eq!(
        err(
            &mut l,
            Op::Refund {
                id: id("r0"),
                of: id("s"),
                amount: 3_000
            }
        ),
        LedgerError::ExceedsRefundable { refundable: 2_500 }
    );
    ok(
        &mut l,
        Op::Refund {
            id: id("r1"),
            of: id("s"),
            amount: 2_000,
        },
    );
    assert_eq!(
        err(
            &mut l,
            Op::Refund {
                id: id("r2"),
                of: id("s"),
                amount: 1
            }
        ),
        LedgerError::AlreadyRefunded(id("s"))
    );
    // Another original of the same hold can refund only the 5.00 left.
    assert_eq!(
        err(
            &mut l,
            Op::Refund {
                id: id("r3"),
                of: id("c1"),
                amount: 600
            }
        ),
        LedgerError::ExceedsRefundable { refundable: 500 }
    );
    assert_eq!(
        err(
            &mut l,
            Op::Refund {
                id: id("r4"),
                of: id("t1"),
                amount: 1
            }
        ),
        LedgerError::NotRefundable(id("t1"))
    );
    // 100.00 − 25.00 + 20.00
    assert_eq!(
        l.account(id("alice"))
            .map(meterkit_ledger::Account::balance),
        Some(9_500)
    );
    // Statement: top-up +100, capture −10, settle −15, refund +20.
    let lines: Vec<(i128, i128)> = l
        .statement(id("alice"))
        .iter()
        .map(|s| (s.change, s.balance))
        .collect();
    assert_eq!(
        lines,
        [
            (0, 0),
            (10_000, 10_000),
            (-1_000, 9_000),
            (-1_500, 7_500),
            (2_000, 9_500)
        ]
    );
}

#[test]
fn low_credit_event_on_crossing_only() {
    let mut l = alice();
    // available 99.00 ≥ 20.00; a hold of 80.00 leaves 19.00 < 20.00.
    let h = ok(
        &mut l,
        Op::Hold {
            id: id("h"),
            account: id("alice"),
            amount: 8_000,
            expires: LATER,
        },
    );
    assert!(h.low_credit);
    let h2 = ok(
        &mut l,
        Op::Hold {
            id: id("h2"),
            account: id("alice"),
            amount: 100,
            expires: LATER,
        },
    );
    assert!(!h2.low_credit, "already below: no second event");
}

#[test]
fn heapless_store_reports_full_without_recording() {
    let mut l: HeaplessLedger<2, 2, 4> = HeaplessLedger::new(Scale::default());
    for n in 1..=4u128 {
        let op = Op::Open {
            id: Id::from_raw(n),
            account: Id::from_raw(100 + n),
            floor: 0,
            credit_line: 0,
            low_credit: 0,
        };
        let reply = l.apply(&op, T0);
        let expected = if n <= 2 {
            Ok(())
        } else {
            Err(LedgerError::StoreFull)
        };
        assert_eq!(reply.result.map(|_| ()), expected, "open {n}");
    }
    assert_eq!(l.seq(), 2);
    assert_eq!(l.check_invariants(), Ok(()));
}

#[test]
fn late_charge_after_expiry_is_paid_from_wallet_then_credit_line_then_debt() {
    let mut l = alice();
    // The hold expires before the final reading arrives.
    ok(
        &mut l,
        Op::Hold {
            id: id("h"),
            account: id("alice"),
            amount: 5_000,
            expires: Timestamp(2_000),
        },
    );
    let late = l.apply(
        &Op::Settle {
            id: id("s"),
            hold: id("h"),
            cumulative: 3_000,
        },
        Timestamp(2_000),
    );
    assert_eq!(late.result, Err(LedgerError::HoldExpired(Timestamp(2_000))));
    let expired = l.apply(&Op::Expire { id: id("e") }, Timestamp(2_000));
    assert_eq!(
        expired.result.map(|a| a.outcome),
        Ok(Outcome::Expired {
            holds: 1,
            released: 5_000
        })
    );
    // Charge 105.00 on a balance of 100.00, floor 1.00, credit line 5.00:
    // 99.00 above the floor, 5.00 from the credit line, 1.00 debt.
    let charged = ok(
        &mut l,
        Op::Charge {
            id: id("late"),
            account: id("alice"),
            amount: 10_500,
        },
    );
    assert_eq!(
        charged.outcome,
        Outcome::Charged {
            from_wallet: 9_900,
            from_credit_line: 500,
            to_debt: 100
        }
    );
    let w = l.account(id("alice")).copied();
    // balance 100.00 − 104.00 = −4.00 = floor 1.00 − credit line 5.00.
    assert_eq!(w.map(|w| (w.balance(), w.debt())), Some((-400, 100)));
    assert_eq!(l.system().revenue_credits, 10_500);
    assert!(charged.low_credit);
}
