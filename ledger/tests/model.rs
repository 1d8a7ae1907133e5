//! Model-based test: random operation streams (duplicate ids, retries,
//! reordered captures, expiries) against a small reference model written
//! independently and plainly, with the invariants checked after every step,
//! then the journal replayed into a fresh ledger that must match.

#![cfg(feature = "alloc")]

use std::collections::BTreeMap;

use meterkit_ledger::{
    Durable, HoldState, Id, LedgerError, MemJournal, MemLedger, Op, Outcome, Scale, Status,
    Timestamp, replay, snapshot_record,
};
use proptest::prelude::*;

#[derive(Clone, Copy, Debug)]
struct Wallet {
    floor: i128,
    credit_line: i128,
    balance: i128,
    held: i128,
    debt: i128,
}

#[derive(Clone, Copy, Debug)]
struct ModelHold {
    account: u128,
    amount: i128,
    captured: i128,
    overshoot: i128,
    refunded: i128,
    expires: i64,
    state: HoldState,
}

#[derive(Default)]
struct Model {
    wallets: BTreeMap<u128, Wallet>,
    holds: BTreeMap<u128, ModelHold>,
    seen: BTreeMap<u128, (Op, Result<Outcome, &'static str>, bool)>,
}

fn n(v: u64) -> i128 {
    i128::from(v)
}
fn u(v: i128) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Model {
    /// Expected result and whether it is recorded (`Status::New`).
    fn apply(&mut self, op: &Op, now: i64) -> (Result<Outcome, &'static str>, Status) {
        if let Some((seen_op, result, _)) = self.seen.get(&op.id().raw()) {
            return if seen_op == op {
                (*result, Status::Repeat)
            } else {
                (Err("id_exists_with_different_fields"), Status::Rejected)
            };
        }
        let result = self.run(op, now);
        self.seen.insert(op.id().raw(), (*op, result, false));
        (result, Status::New)
    }

    fn run(&mut self, op: &Op, now: i64) -> Result<Outcome, &'static str> {
        match *op {
            Op::Open {
                account,
                floor,
                credit_line,
                ..
            } => {
                if self.wallets.contains_key(&account.raw()) {
                    return Err("account_exists");
                }
                let wallet = Wallet {
                    floor: n(floor),
                    credit_line: n(credit_line),
                    balance: 0,
                    held: 0,
                    debt: 0,
                };
                self.wallets.insert(account.raw(), wallet);
                Ok(Outcome::Opened)
            }
            Op::TopUp {
                account, amount, ..
            } => {
                let w = self
                    .wallets
                    .get_mut(&account.raw())
                    .ok_or("account_not_found")?;
                let repaid = w.debt.min(n(amount));
                w.balance += n(amount) - repaid;
                w.debt -= repaid;
                Ok(Outcome::ToppedUp {
                    debt_repaid: u(repaid),
                })
            }
            Op::Hold {
                id,
                account,
                amount,
                expires,
            } => {
                let w = self
                    .wallets
                    .get_mut(&account.raw())
                    .ok_or("account_not_found")?;
                if expires.0 <= now {
                    return Err("expiry_not_after_now");
                }
                let available = w.balance - w.floor - w.held;
                if available <= 0 {
                    return Err("insufficient_funds");
                }
                let reserved = available.min(n(amount));
                w.held += reserved;
                let hold = ModelHold {
                    account: account.raw(),
                    amount: reserved,
                    captured: 0,
                    overshoot: 0,
                    refunded: 0,
                    expires: expires.0,
                    state: HoldState::Open,
                };
                self.holds.insert(id.raw(), hold);
                Ok(Outcome::Held {
                    amount: u(reserved),
                })
            }
            Op::Capture {
                hold, cumulative, ..
            }
            | Op::Settle {
                hold, cumulative, ..
            } => {
                let settle = matches!(op, Op::Settle { .. });
                let h = self.holds.get_mut(&hold.raw()).ok_or("hold_not_found")?;
                if h.state != HoldState::Open {
                    return Err("hold_not_open");
                }
                if now >= h.expires {
                    return Err("hold_expired");
                }
                let w = self
                    .wallets
                    .get_mut(&h.account)
                    .ok_or("account_not_found")?;
                let want = n(cumulative);
                let new_captured = want.min(h.amount).max(h.captured);
                let delta = new_captured - h.captured;
                w.balance -= delta;
                w.held -= delta;
                h.captured = new_captured;
                if !settle {
                    return Ok(Outcome::Captured {
                        delta: u(delta),
                        captured: u(new_captured),
                        remaining: u(h.amount - new_captured),
                        uncovered: u((want - h.amount).max(0)),
                    });
                }
                let released = h.amount - new_captured;
                w.held -= released;
                let overshoot = (want - h.amount).max(0);
                let above_floor = (w.balance - w.held - w.floor).max(0);
                let with_credit = (w.balance - w.held - w.floor + w.credit_line).max(0);
                let from_wallet = overshoot.min(above_floor);
                let paid = overshoot.min(with_credit);
                w.balance -= paid;
                w.debt += overshoot - paid;
                h.overshoot = overshoot;
                h.state = HoldState::Settled;
                Ok(Outcome::Settled {
                    delta: u(delta),
                    released: u(released),
                    from_wallet: u(from_wallet),
                    from_credit_line: u(paid - from_wallet),
                    to_debt: u(overshoot - paid),
                })
            }
            Op::Void { hold, .. } => {
                let h = self.holds.get_mut(&hold.raw()).ok_or("hold_not_found")?;
                if h.state != HoldState::Open {
                    return Err("hold_not_open");
                }
                let released = h.amount - h.captured;
                h.state = HoldState::Voided;
                if let Some(w) = self.wallets.get_mut(&h.account) {
                    w.held -= released;
                }
                Ok(Outcome::Voided {
                    released: u(released),
                })
            }
            Op::Expire { .. } => {
                let (mut count, mut released) = (0u32, 0i128);
                for h in self.holds.values_mut() {
                    if h.state == HoldState::Open && h.expires <= now {
                        h.state = HoldState::Expired;
                        count += 1;
                        released += h.amount - h.captured;
                        if let Some(w) = self.wallets.get_mut(&h.account) {
                            w.held -= h.amount - h.captured;
                        }
                    }
                }
                Ok(Outcome::Expired {
                    holds: count,
                    released: u(released),
                })
            }
            Op::Refund { of, amount, .. } => {
                let (original, result, undone) =
                    *self.seen.get(&of.raw()).ok_or("original_not_found")?;
                let (Op::Capture { hold, .. } | Op::Settle { hold, .. }, Ok(_)) =
                    (original, result)
                else {
                    return Err("not_refundable");
                };
                if undone {
                    return Err("already_refunded");
                }
                let h = self.holds.get_mut(&hold.raw()).ok_or("hold_not_found")?;
                let refundable = h.captured + h.overshoot - h.refunded;
                if n(amount) > refundable {
                    return Err("exceeds_refundable");
                }
                h.refunded += n(amount);
                let w = self
                    .wallets
                    .get_mut(&h.account)
                    .ok_or("account_not_found")?;
                let repaid = w.debt.min(n(amount));
                w.balance += n(amount) - repaid;
                w.debt -= repaid;
                self.mark_undone(of);
                Ok(Outcome::Refunded {
                    amount,
                    debt_repaid: u(repaid),
                })
            }
            Op::Reverse { of, .. } => {
                let (original, result, undone) =
                    *self.seen.get(&of.raw()).ok_or("original_not_found")?;
                let (
                    Op::TopUp {
                        account, amount, ..
                    },
                    Ok(_),
                ) = (original, result)
                else {
                    return Err("not_reversible");
                };
                if undone {
                    return Err("already_reversed");
                }
                let w = self
                    .wallets
                    .get_mut(&account.raw())
                    .ok_or("account_not_found")?;
                if w.balance - w.floor - w.held < n(amount) {
                    return Err("insufficient_funds");
                }
                w.balance -= n(amount);
                self.mark_undone(of);
                Ok(Outcome::Reversed { amount })
            }
            Op::Charge {
                account, amount, ..
            } => {
                let w = self
                    .wallets
                    .get_mut(&account.raw())
                    .ok_or("account_not_found")?;
                let free = w.balance - w.held;
                let from_wallet = n(amount).min((free - w.floor).max(0));
                let paid = n(amount).min((free - w.floor + w.credit_line).max(0));
                w.balance -= paid;
                w.debt += n(amount) - paid;
                Ok(Outcome::Charged {
                    from_wallet: u(from_wallet),
                    from_credit_line: u(paid - from_wallet),
                    to_debt: u(n(amount) - paid),
                })
            }
            _ => Err("unknown"),
        }
    }

    fn mark_undone(&mut self, of: Id) {
        if let Some(entry) = self.seen.get_mut(&of.raw()) {
            entry.2 = true;
        }
    }
}

fn ids() -> impl Strategy<Value = Id> {
    // A small pool so ids repeat: retries and conflicting reuse.
    (1u128..60).prop_map(Id::from_raw)
}

fn accounts() -> impl Strategy<Value = Id> {
    (1000u128..1003).prop_map(Id::from_raw)
}

fn op() -> impl Strategy<Value = Op> {
    let amount = 0u64..3_000;
    prop_oneof![
        1 => (ids(), accounts(), 0u64..200, 0u64..500, 0u64..1_000).prop_map(|(id, account, floor, credit_line, low_credit)| Op::Open { id, account, floor, credit_line, low_credit }),
        3 => (ids(), accounts(), amount.clone()).prop_map(|(id, account, amount)| Op::TopUp { id, account, amount }),
        3 => (ids(), accounts(), amount.clone(), 0i64..2_000).prop_map(|(id, account, amount, e)| Op::Hold { id, account, amount, expires: Timestamp(e) }),
        5 => (ids(), ids(), amount.clone()).prop_map(|(id, hold, cumulative)| Op::Capture { id, hold, cumulative }),
        2 => (ids(), ids(), 0u64..4_000).prop_map(|(id, hold, cumulative)| Op::Settle { id, hold, cumulative }),
        1 => (ids(), ids()).prop_map(|(id, hold)| Op::Void { id, hold }),
        1 => ids().prop_map(|id| Op::Expire { id }),
        1 => (ids(), ids(), amount.clone()).prop_map(|(id, of, amount)| Op::Refund { id, of, amount }),
        1 => (ids(), ids()).prop_map(|(id, of)| Op::Reverse { id, of }),
        1 => (ids(), accounts(), amount).prop_map(|(id, account, amount)| Op::Charge { id, account, amount }),
    ]
}

fn code(result: &Result<Outcome, LedgerError>) -> Result<Outcome, &'static str> {
    result.map_err(|e| e.code())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn ledger_matches_model(steps in proptest::collection::vec((op(), 0i64..40), 1..120)) {
        let mut durable = Durable::new(MemLedger::new(Scale::default()), MemJournal::<65_536>::new());
        let mut model = Model::default();
        let mut now = 0i64;
        for (op, advance) in &steps {
            now += advance;
            let reply = durable.submit(op, Timestamp(now)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let ledger = durable.ledger();
            prop_assert_eq!(ledger.check_invariants(), Ok(()));
            let result = reply.result.map(|a| a.outcome);
            if reply.result == Err(LedgerError::AmountZero) {
                prop_assert_eq!(reply.status, Status::Rejected);
                continue;
            }
            let (expected, status) = model.apply(op, now);
            prop_assert_eq!(code(&result), expected, "op {:?} at {}", op, now);
            prop_assert_eq!(reply.status, status);
            for (raw, wallet) in &model.wallets {
                let actual = ledger.account(Id::from_raw(*raw)).map(|a| (a.balance(), i128::from(a.held), a.debt()));
                prop_assert_eq!(actual, Some((wallet.balance, wallet.held, wallet.debt)));
            }
        }
        durable.commit().map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Replaying the journal rebuilds the same state.
        let mut rebuilt = MemLedger::new(Scale::default());
        let end = replay(durable.journal().bytes(), &mut rebuilt);
        prop_assert_eq!(end.error, None);
        prop_assert_eq!(rebuilt.seq(), durable.ledger().seq());
        for raw in 1000u128..1003 {
            let id = Id::from_raw(raw);
            let original = durable.ledger().account(id);
            prop_assert_eq!(rebuilt.account(id), original);
            // The statement's running balance ends at the balance.
            let last = rebuilt.statement(id).last().map(|line| (line.balance, line.debt));
            prop_assert_eq!(last.unwrap_or((0, 0)), original.map_or((0, 0), |a| (a.balance(), a.debt())));
        }
        for (raw, hold) in &model.holds {
            let actual = rebuilt.hold(Id::from_raw(*raw)).map(|h| (i128::from(h.amount), i128::from(h.captured), h.state));
            prop_assert_eq!(actual, Some((hold.amount, hold.captured, hold.state)));
        }
        // A snapshot carries every record, result and flag exactly.
        let (snapshot, _) = snapshot_record(durable.ledger()).ok_or_else(|| TestCaseError::fail("snapshot"))?;
        let mut restored = MemLedger::new(Scale::default());
        let end = replay(&snapshot, &mut restored);
        prop_assert_eq!((end.records, end.error), (1, None));
        for raw in (1u128..60).chain(1000..1003) {
            let id = Id::from_raw(raw);
            prop_assert_eq!(restored.record(id), durable.ledger().record(id));
            prop_assert_eq!(restored.account(id), durable.ledger().account(id));
            prop_assert_eq!(restored.hold(id), durable.ledger().hold(id));
        }
        prop_assert_eq!(restored.system(), durable.ledger().system());
        // Re-applying the whole stream changes nothing.
        let before = rebuilt.seq();
        for (op, _) in &steps {
            let status = rebuilt.apply(op, Timestamp(now)).status;
            prop_assert!(status != Status::New, "{:?} applied twice", op);
        }
        prop_assert_eq!(rebuilt.seq(), before);
    }
}
