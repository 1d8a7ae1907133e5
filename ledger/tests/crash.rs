//! Crash test: a child process (this test binary, re-invoked) streams
//! operations into a file journal with group commit and prints each
//! acknowledgement; the parent SIGKILLs it at random points, recovers, and
//! checks that every acknowledged operation is present exactly once, that
//! re-applying the stream changes nothing, and that the end state equals a
//! crash-free run.

#![cfg(feature = "std")]
// Test data is small and controlled: these casts cannot truncate or wrap.
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use meterkit_ledger::{Durable, FileJournal, Id, Scale, Status, StdLedger, verify};

const CHILD_ENV: &str = "METERKIT_LEDGER_CRASH_CHILD";
const STREAM_SEED: u64 = 0x5eed;
const STREAM_LEN: usize = 1_500;

/// The child's body; a no-op unless started by the parent.
#[test]
fn child_process_entry() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let path = Path::new(&path);
    let stream = common::stream(STREAM_SEED, STREAM_LEN);
    let (ledger, journal, _) =
        FileJournal::open_or_create(path, Scale::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut durable = Durable::new(ledger, journal);
    let mut rng = common::Rng(std::process::id().into());
    let stdout = std::io::stdout();
    let mut index = 0;
    while index < stream.len() {
        let group = 1 + rng.below(16) as usize;
        let end = (index + group).min(stream.len());
        for (op, now) in &stream[index..end] {
            durable.submit(op, *now).unwrap_or_else(|e| panic!("{e}"));
        }
        durable.commit().unwrap_or_else(|e| panic!("{e}"));
        // Acknowledge only after the group is durable.
        let mut out = stdout.lock();
        for position in index..end {
            let _ = writeln!(out, "ack {position}");
        }
        let _ = out.flush();
        index = end;
    }
    let _ = writeln!(stdout.lock(), "done");
}

/// When the parent kills the child.
#[derive(Clone, Copy)]
enum Kill {
    /// After reading this many new acknowledgements.
    AfterAcks(usize),
    /// After this much time, wherever the child is (maybe mid-write or mid-sync).
    After(Duration),
    /// Never: let it finish.
    Never,
}

/// Runs the child until `kill` says so (SIGKILL) or it finishes; returns
/// the acknowledged positions and whether it finished.
fn run_child(path: &Path, kill: Kill) -> (Vec<usize>, bool) {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let (sender, receiver) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest may print its "test … " prefix on the first line.
            let ack = line.find("ack ").and_then(|at| line.get(at + 4..));
            let event = match ack.and_then(|p| p.parse::<usize>().ok()) {
                Some(position) => Some(position),
                None if line.ends_with("done") => None,
                None => continue,
            };
            if sender.send(event).is_err() {
                break;
            }
        }
    });
    let mut acked = Vec::new();
    let mut done = false;
    let deadline = match kill {
        Kill::After(delay) => Some(Instant::now() + delay),
        _ => None,
    };
    loop {
        let wait = deadline.map_or(Duration::from_secs(60), |d| {
            d.saturating_duration_since(Instant::now())
        });
        match receiver.recv_timeout(wait) {
            Ok(Some(position)) => {
                acked.push(position);
                if matches!(kill, Kill::AfterAcks(limit) if acked.len() >= limit) {
                    let _ = child.kill();
                    break;
                }
            }
            Ok(None) => done = true,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = child.wait();
    // Acknowledgements already printed before the kill still count.
    let _ = reader.join();
    acked.extend(receiver.try_iter().flatten());
    (acked, done)
}

fn reference() -> StdLedger {
    let mut ledger = StdLedger::new(Scale::default());
    for (op, now) in common::stream(STREAM_SEED, STREAM_LEN) {
        ledger.apply(&op, now);
    }
    ledger
}

#[test]
fn killed_at_random_points_loses_nothing_acknowledged() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("meterkit-ledger-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("ledger.journal");
    let stream = common::stream(STREAM_SEED, STREAM_LEN);
    let mut rng = common::Rng(0x00c0_ffee);
    let mut acknowledged = BTreeSet::new();
    let mut kills = 0;
    // Each restart re-submits the stream from the start: recorded operations
    // come back as repeats, so the child resumes where the journal ends.
    for round in 0..25 {
        // Alternate kills at a random acknowledgement and at a random instant.
        let kill = if round % 2 == 0 {
            Kill::AfterAcks(1 + rng.below(120) as usize)
        } else {
            Kill::After(Duration::from_micros(500 + rng.below(20_000)))
        };
        let (acked, done) = run_child(&path, kill);
        acknowledged.extend(acked);
        if done {
            break;
        }
        kills += 1;
        let (ledger, _journal, recovery) =
            FileJournal::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ledger.check_invariants(), Ok(()));
        for &position in &acknowledged {
            let op = stream[position].0;
            let record = ledger.record(op.id());
            assert!(
                record.is_some_and(|r| r.op == op),
                "acknowledged op {position} lost (recovery {recovery:?})"
            );
        }
    }
    assert!(kills >= 5, "the child was killed mid-stream {kills} times");
    let (acked, done) = run_child(&path, Kill::Never);
    acknowledged.extend(acked);
    assert!(done);
    assert_eq!(
        acknowledged.len(),
        STREAM_LEN,
        "every operation acknowledged at least once"
    );
    let (mut recovered, verification) = verify(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(verification.is_ok(), "{verification:?}");
    // Exactly once: one record per operation, and the same state as a run
    // without crashes.
    let expected = reference();
    assert_eq!(recovered.seq(), expected.seq());
    for raw in 1_000_000u128..1_000_004 {
        assert_eq!(
            recovered.account(Id::from_raw(raw)),
            expected.account(Id::from_raw(raw))
        );
    }
    assert_eq!(recovered.system(), expected.system());
    for (op, now) in &stream {
        assert_ne!(
            recovered.apply(op, *now).status,
            Status::New,
            "{op:?} applied twice"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
