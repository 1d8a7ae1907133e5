//! meterkit-ledger: captures per second in memory and durably (group commit),
//! side by side with SQLite (WAL, `synchronous=FULL`) doing the same capture:
//! record the capture id (idempotency key), advance the hold's captured
//! amount, debit the wallet.
//!
//! SQLite runs twice: one transaction per capture (each acknowledged when
//! durable, the usual use) and 256 captures per transaction (group commit,
//! like the journal), so the ratio is visible both ways. The journal runs
//! with groups of 256 and 4096 captures per `fdatasync`: under load, a group
//! is whatever arrived during the previous sync.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use meterkit_ledger::{
    Durable, FileJournal, Id, IdHasher, Op, Record, Scale, StdLedger, Timestamp,
};

const GROUP: u64 = 256;
const NOW: Timestamp = Timestamp(0);
const WALLET: u128 = 1;
const HOLD: u128 = 3;

/// A ledger with one wallet and an open hold large enough for every capture.
fn funded(ledger: &mut impl FnMut(&Op)) {
    let amount = u64::MAX / 4;
    let account = Id::from_raw(WALLET);
    ledger(&Op::Open {
        id: Id::from_raw(100),
        account,
        floor: 0,
        credit_line: 0,
        low_credit: 0,
    });
    ledger(&Op::TopUp {
        id: Id::from_raw(101),
        account,
        amount,
    });
    ledger(&Op::Hold {
        id: Id::from_raw(HOLD),
        account,
        amount,
        expires: Timestamp(i64::MAX),
    });
}

fn capture(n: u64) -> Op {
    Op::Capture {
        id: Id::from_raw(1_000 + u128::from(n)),
        hold: Id::from_raw(HOLD),
        cumulative: n + 1,
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("meterkit-ledger-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(dir.join(format!("{name}-wal")));
    path
}

type Records = HashMap<Id, Record, BuildHasherDefault<IdHasher>>;

/// A funded ledger with room for `captures` more records, built outside the
/// timed loop.
fn in_memory_ledger(captures: u64, records: Records) -> StdLedger {
    let mut ledger = StdLedger::with_tables(
        Scale::default(),
        HashMap::default(),
        HashMap::default(),
        records,
    );
    funded(&mut |op| {
        ledger.apply(op, NOW);
    });
    debug_assert!(ledger.record(capture(captures).id()).is_none());
    ledger
}

/// A record table with room reserved up front, as a server would size it,
/// so no rehash lands in the timed loop.
fn reserved(captures: u64) -> Records {
    let room = usize::try_from(captures)
        .unwrap_or(usize::MAX)
        .saturating_add(16);
    HashMap::with_capacity_and_hasher(room, BuildHasherDefault::default())
}

fn time_captures(ledger: &mut StdLedger, iters: u64) -> Duration {
    let start = Instant::now();
    for n in 0..iters {
        black_box(ledger.apply(&capture(n), NOW));
    }
    start.elapsed()
}

/// Steady state: the record table's memory is already resident, as in a
/// server that has been running for a while. A fresh reservation is only
/// address space; the first write to each of its pages costs a page fault
/// (the kernel's work, not the ledger's, and about a third of the time per
/// capture when measured that way). So the table is written once in the
/// very slots the captures will use, then cleared, which keeps the
/// allocation and its pages.
fn in_memory(iters: u64) -> Duration {
    let mut scratch = in_memory_ledger(1, reserved(1));
    scratch.apply(&capture(0), NOW);
    let filler = scratch
        .record(capture(0).id())
        .copied()
        .unwrap_or_else(|| panic!("capture recorded"));
    let mut records = reserved(iters);
    for n in 0..iters {
        records.insert(capture(n).id(), filler);
    }
    records.clear();
    let mut ledger = in_memory_ledger(iters, records);
    time_captures(&mut ledger, iters)
}

/// The same on a freshly reserved table per sample, page faults included:
/// what the first pass over new memory costs.
fn in_memory_fresh_table(iters: u64) -> Duration {
    let mut ledger = in_memory_ledger(iters, reserved(iters));
    time_captures(&mut ledger, iters)
}

fn durable(iters: u64, group: u64) -> Duration {
    let path = scratch("journal");
    let (ledger, journal) =
        FileJournal::create(&path, Scale::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut durable = Durable::new(ledger, journal);
    funded(&mut |op| {
        let _ = durable.apply(op, NOW);
    });
    let start = Instant::now();
    for n in 0..iters {
        black_box(
            durable
                .submit(&capture(n), NOW)
                .unwrap_or_else(|e| panic!("{e}")),
        );
        if (n + 1) % group == 0 {
            durable.commit().unwrap_or_else(|e| panic!("{e}"));
        }
    }
    durable.commit().unwrap_or_else(|e| panic!("{e}"));
    start.elapsed()
}

fn sqlite(path: &Path) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(path).unwrap_or_else(|e| panic!("{e}"));
    db.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE accounts(id INTEGER PRIMARY KEY, debits INTEGER NOT NULL, credits INTEGER NOT NULL);
         CREATE TABLE holds(id INTEGER PRIMARY KEY, account INTEGER NOT NULL, amount INTEGER NOT NULL, captured INTEGER NOT NULL);
         CREATE TABLE ops(id INTEGER PRIMARY KEY, hold INTEGER NOT NULL, cumulative INTEGER NOT NULL);
         INSERT INTO accounts VALUES (1, 0, 4611686018427387903);
         INSERT INTO holds VALUES (3, 1, 4611686018427387903, 0);",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    db
}

/// The same capture in SQL: idempotency key, hold progress, wallet debit.
fn sqlite_capture(tx: &rusqlite::Connection, n: u64) {
    let id = i64::try_from(1_000 + n).unwrap_or(i64::MAX);
    let cumulative = i64::try_from(n + 1).unwrap_or(i64::MAX);
    let inserted = tx
        .prepare_cached("INSERT OR IGNORE INTO ops(id, hold, cumulative) VALUES (?1, 3, ?2)")
        .and_then(|mut s| s.execute((id, cumulative)))
        .unwrap_or_else(|e| panic!("{e}"));
    if inserted == 1 {
        let captured: i64 = tx
            .prepare_cached("SELECT captured FROM holds WHERE id = 3")
            .and_then(|mut s| s.query_row([], |row| row.get(0)))
            .unwrap_or_else(|e| panic!("{e}"));
        let delta = (cumulative - captured).max(0);
        tx.prepare_cached("UPDATE holds SET captured = captured + ?1 WHERE id = 3")
            .and_then(|mut s| s.execute([delta]))
            .and_then(|_| {
                tx.prepare_cached("UPDATE accounts SET debits = debits + ?1 WHERE id = 1")
            })
            .and_then(|mut s| s.execute([delta]))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

fn sqlite_run(iters: u64, per_transaction: u64) -> Duration {
    let path = scratch("sqlite.db");
    let mut db = sqlite(&path);
    let start = Instant::now();
    let mut n = 0;
    while n < iters {
        let tx = db.transaction().unwrap_or_else(|e| panic!("{e}"));
        for _ in 0..per_transaction.min(iters - n) {
            sqlite_capture(&tx, n);
            n += 1;
        }
        tx.commit().unwrap_or_else(|e| panic!("{e}"));
    }
    start.elapsed()
}

fn captures(c: &mut Criterion) {
    let mut group = c.benchmark_group("ledger_capture");
    group.throughput(Throughput::Elements(1));
    group.bench_function("meterkit_in_memory", |b| b.iter_custom(in_memory));
    group.bench_function("meterkit_in_memory_fresh_table", |b| {
        b.iter_custom(in_memory_fresh_table);
    });
    group.bench_function("meterkit_durable_group_256", |b| {
        b.iter_custom(|iters| durable(iters, GROUP));
    });
    group.bench_function("meterkit_durable_group_4096", |b| {
        b.iter_custom(|iters| durable(iters, 4_096));
    });
    group.bench_function("sqlite_wal_full_tx_per_capture", |b| {
        b.iter_custom(|iters| sqlite_run(iters, 1));
    });
    group.bench_function("sqlite_wal_full_tx_per_256", |b| {
        b.iter_custom(|iters| sqlite_run(iters, GROUP));
    });
    group.finish();
}

criterion_group!(benches, captures);
criterion_main!(benches);
