//! Operation sequences built from `arbitrary` input (ids from a small pool so they repeat,
//! amounts small or near `u64::MAX`, time moving forward) through a journaled ledger: never
//! a panic, the ledger's invariants hold after every step, a repeated operation is answered
//! with its first result and changes nothing, and replaying the journal or restoring a
//! snapshot rebuilds the same state.
//!
//! The proptest in ledger/tests/model.rs compares results with a reference model over small
//! amounts; this target adds amounts where every sum can overflow.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use meterkit_ledger::{
    Durable, Id, MemJournal, MemLedger, Op, Scale, Status, Timestamp, replay, snapshot_record,
};

const ACCOUNTS: u128 = 4;
const IDS: u128 = 48;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Amount {
    Small(u16),
    Huge(u64),
}

impl Amount {
    fn minor(self) -> u64 {
        match self {
            Amount::Small(v) => u64::from(v),
            Amount::Huge(v) => v,
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum AnyOp {
    Open {
        id: u8,
        account: u8,
        floor: Amount,
        credit_line: Amount,
        low_credit: Amount,
    },
    TopUp {
        id: u8,
        account: u8,
        amount: Amount,
    },
    Hold {
        id: u8,
        account: u8,
        amount: Amount,
        expires_in: i16,
    },
    Capture {
        id: u8,
        hold: u8,
        cumulative: Amount,
    },
    Settle {
        id: u8,
        hold: u8,
        cumulative: Amount,
    },
    Void {
        id: u8,
        hold: u8,
    },
    Expire {
        id: u8,
    },
    Refund {
        id: u8,
        of: u8,
        amount: Amount,
    },
    Reverse {
        id: u8,
        of: u8,
    },
    Charge {
        id: u8,
        account: u8,
        amount: Amount,
    },
}

fn id(n: u8) -> Id {
    Id::from_raw(1 + u128::from(n) % IDS)
}

fn account(n: u8) -> Id {
    Id::from_raw(1000 + u128::from(n) % ACCOUNTS)
}

impl AnyOp {
    fn op(self, now: i64) -> Op {
        match self {
            AnyOp::Open {
                id: i,
                account: a,
                floor,
                credit_line,
                low_credit,
            } => Op::Open {
                id: id(i),
                account: account(a),
                floor: floor.minor(),
                credit_line: credit_line.minor(),
                low_credit: low_credit.minor(),
            },
            AnyOp::TopUp {
                id: i,
                account: a,
                amount,
            } => Op::TopUp {
                id: id(i),
                account: account(a),
                amount: amount.minor(),
            },
            AnyOp::Hold {
                id: i,
                account: a,
                amount,
                expires_in,
            } => Op::Hold {
                id: id(i),
                account: account(a),
                amount: amount.minor(),
                expires: Timestamp(now.saturating_add(i64::from(expires_in))),
            },
            AnyOp::Capture {
                id: i,
                hold,
                cumulative,
            } => Op::Capture {
                id: id(i),
                hold: id(hold),
                cumulative: cumulative.minor(),
            },
            AnyOp::Settle {
                id: i,
                hold,
                cumulative,
            } => Op::Settle {
                id: id(i),
                hold: id(hold),
                cumulative: cumulative.minor(),
            },
            AnyOp::Void { id: i, hold } => Op::Void {
                id: id(i),
                hold: id(hold),
            },
            AnyOp::Expire { id: i } => Op::Expire { id: id(i) },
            AnyOp::Refund { id: i, of, amount } => Op::Refund {
                id: id(i),
                of: id(of),
                amount: amount.minor(),
            },
            AnyOp::Reverse { id: i, of } => Op::Reverse {
                id: id(i),
                of: id(of),
            },
            AnyOp::Charge {
                id: i,
                account: a,
                amount,
            } => Op::Charge {
                id: id(i),
                account: account(a),
                amount: amount.minor(),
            },
        }
    }
}

fuzz_target!(|steps: Vec<(AnyOp, u8)>| {
    let mut durable = Durable::new(
        MemLedger::new(Scale::default()),
        MemJournal::<65_536>::new(),
    );
    let mut now = 0i64;
    let mut ops = Vec::new();
    for (any, advance) in steps {
        now += i64::from(advance);
        let op = any.op(now);
        let Ok(reply) = durable.submit(&op, Timestamp(now)) else {
            break; // the journal is full: nothing more can be acknowledged
        };
        assert_eq!(durable.ledger().check_invariants(), Ok(()), "after {op:?}");
        if reply.status == Status::New {
            let seq = durable.ledger().seq();
            let again = durable
                .submit(&op, Timestamp(now))
                .expect("a repeat writes nothing");
            assert_eq!(
                (again.status, again.result),
                (Status::Repeat, reply.result),
                "{op:?} repeated"
            );
            assert_eq!(durable.ledger().seq(), seq);
        }
        ops.push(op);
    }
    if durable.commit().is_err() {
        return;
    }
    let ledger = durable.ledger();
    let ids = || (1..=IDS).chain(1000..1000 + ACCOUNTS).map(Id::from_raw);

    let mut rebuilt = MemLedger::new(Scale::default());
    let end = replay(durable.journal().bytes(), &mut rebuilt);
    assert_eq!(end.error, None);
    assert_eq!(rebuilt.seq(), ledger.seq());
    for id in ids() {
        assert_eq!(rebuilt.account(id), ledger.account(id));
        assert_eq!(rebuilt.hold(id), ledger.hold(id));
    }

    if let Some((snapshot, _)) = snapshot_record(ledger) {
        let mut restored = MemLedger::new(Scale::default());
        let end = replay(&snapshot, &mut restored);
        assert_eq!((end.records, end.error), (1, None));
        for id in ids() {
            assert_eq!(restored.record(id), ledger.record(id));
            assert_eq!(restored.account(id), ledger.account(id));
            assert_eq!(restored.hold(id), ledger.hold(id));
        }
        assert_eq!(restored.system(), ledger.system());
    }
    // Re-applying every operation to the rebuilt ledger is a no-op.
    let seq = rebuilt.seq();
    for op in &ops {
        assert_ne!(
            rebuilt.apply(op, Timestamp(now)).status,
            Status::New,
            "{op:?} applied twice"
        );
    }
    assert_eq!(rebuilt.seq(), seq);
});
