//! File journal: reopen, torn tails at every byte, corruption at every byte,
//! hash-chain edits, checkpoints, fsync failure.

#![cfg(feature = "std")]
// Test data is small and controlled: these casts cannot truncate or wrap.
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]

mod common;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use meterkit_ledger::{
    Durable, DurableError, FileJournal, FrameError, Id, Journal, JournalError, Kind, Op, Scale,
    Status, StdLedger, Storage, Timestamp, crc32c, decode_frame, verify,
};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("meterkit-ledger-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn ops(len: usize) -> Vec<(Op, Timestamp)> {
    common::stream(7, len)
}

/// A fresh ledger that applied `ops` once, without a journal.
fn reference(ops: &[(Op, Timestamp)]) -> StdLedger {
    let mut ledger = StdLedger::new(Scale::default());
    for (op, now) in ops {
        ledger.apply(op, *now);
    }
    ledger
}

fn same_state(a: &StdLedger, b: &StdLedger) -> bool {
    (1_000_000u128..1_000_004)
        .all(|raw| a.account(Id::from_raw(raw)) == b.account(Id::from_raw(raw)))
        && a.system() == b.system()
        && a.seq() == b.seq()
}

/// Writes `ops` to a new journal at `path` in groups of 7 per commit.
fn write_journal(path: &Path, ops: &[(Op, Timestamp)]) -> StdLedger {
    let (ledger, journal) =
        FileJournal::create(path, Scale::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut durable = Durable::new(ledger, journal);
    for group in ops.chunks(7) {
        for (op, now) in group {
            let reply = durable.submit(op, *now).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(reply.status, Status::New);
        }
        durable.commit().unwrap_or_else(|e| panic!("{e}"));
    }
    durable.into_parts().0
}

/// Byte offsets where each record starts, plus the end.
fn boundaries(bytes: &[u8]) -> Vec<usize> {
    let mut offsets = vec![0];
    let mut at = 0;
    while let Ok((_, size)) = decode_frame(&bytes[at..]) {
        at += size;
        offsets.push(at);
    }
    assert_eq!(at, bytes.len(), "the whole file is records");
    offsets
}

fn open(path: &Path) -> (StdLedger, meterkit_ledger::Recovery) {
    let (ledger, _journal, recovery) = FileJournal::open(path).unwrap_or_else(|e| panic!("{e}"));
    (ledger, recovery)
}

#[test]
fn reopen_recovers_every_committed_operation() {
    let dir = scratch("reopen");
    let path = dir.join("ledger.journal");
    let stream = ops(200);
    let written = write_journal(&path, &stream);
    let (recovered, recovery) = open(&path);
    assert_eq!(recovery.truncated, 0);
    assert_eq!(recovery.scan.records, 201, "snapshot + 200 operations");
    assert!(same_state(&recovered, &written));
    assert!(same_state(&recovered, &reference(&stream)));
    let (_, verification) = verify(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(verification.is_ok(), "{verification:?}");
    // Creating over an existing journal is refused.
    assert!(matches!(
        FileJournal::create(&path, Scale::default()),
        Err(JournalError::Exists(_))
    ));
}

#[test]
fn torn_tail_at_every_byte_of_the_last_records() {
    let dir = scratch("torn");
    let path = dir.join("full.journal");
    let stream = ops(40);
    write_journal(&path, &stream);
    let bytes = std::fs::read(&path).unwrap_or_default();
    let offsets = boundaries(&bytes);
    let first_cut = offsets[offsets.len() - 4];
    let cut_path = dir.join("cut.journal");
    for cut in first_cut..=bytes.len() {
        std::fs::write(&cut_path, &bytes[..cut]).unwrap_or_else(|e| panic!("{e}"));
        // Records wholly inside the cut survive; offsets[0] is the snapshot.
        let whole = offsets.iter().filter(|&&end| end <= cut).count() - 1;
        let boundary = offsets[whole];
        let (ledger, recovery) = open(&cut_path);
        assert_eq!(ledger.seq() as usize, whole - 1, "cut at {cut}");
        assert_eq!(recovery.truncated as usize, cut - boundary, "cut at {cut}");
        assert_eq!(
            std::fs::metadata(&cut_path).map_or(0, |m| m.len()) as usize,
            boundary
        );
        assert!(
            same_state(&ledger, &reference(&stream[..whole - 1])),
            "cut at {cut}"
        );
        // A second recovery finds a clean file.
        assert_eq!(open(&cut_path).1.truncated, 0);
    }
}

#[test]
fn corruption_at_every_byte_of_the_last_records_is_never_accepted() {
    let dir = scratch("corrupt");
    let path = dir.join("full.journal");
    let stream = ops(40);
    write_journal(&path, &stream);
    let bytes = std::fs::read(&path).unwrap_or_default();
    let offsets = boundaries(&bytes);
    let bad_path = dir.join("bad.journal");
    for offset in offsets[offsets.len() - 4]..bytes.len() {
        let mut bad = bytes.clone();
        bad[offset] ^= 0x5a;
        std::fs::write(&bad_path, &bad).unwrap_or_else(|e| panic!("{e}"));
        // The damaged record and everything after it are dropped.
        let damaged = offsets.iter().filter(|&&start| start <= offset).count() - 1;
        let (_, verification) = verify(&bad_path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            verification.scan.error.map(|(at, _)| at),
            Some(offsets[damaged]),
            "byte {offset}"
        );
        let (ledger, _) = open(&bad_path);
        assert_eq!(ledger.seq() as usize, damaged - 1, "byte {offset}");
        assert!(same_state(&ledger, &reference(&stream[..damaged - 1])));
    }
}

#[test]
fn intact_records_after_a_bad_one_are_not_accepted() {
    let dir = scratch("middle");
    let path = dir.join("ledger.journal");
    let stream = ops(60);
    write_journal(&path, &stream);
    let mut bytes = std::fs::read(&path).unwrap_or_default();
    let offsets = boundaries(&bytes);
    // Damage the CRC byte of operation record 10; records 11..60 stay intact.
    bytes[offsets[11] - 1] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
    let (ledger, recovery) = open(&path);
    assert_eq!(ledger.seq(), 9);
    assert!(
        matches!(recovery.scan.error, Some((at, FrameError::Checksum { .. })) if at == offsets[10])
    );
    // The cut-off bytes are kept for inspection.
    let preserved = recovery.preserved.unwrap_or_default();
    assert_eq!(
        std::fs::read(preserved).map_or(0, |t| t.len()),
        bytes.len() - offsets[10]
    );
}

#[test]
fn a_careful_edit_breaks_the_hash_chain_at_the_next_record() {
    let dir = scratch("chain");
    let path = dir.join("ledger.journal");
    write_journal(&path, &ops(30));
    let mut bytes = std::fs::read(&path).unwrap_or_default();
    let offsets = boundaries(&bytes);
    // Rewrite record 5's timestamp and recompute its own CRC so it is valid alone.
    let (start, end) = (offsets[5], offsets[6]);
    bytes[start + 17] ^= 0x01;
    let crc = crc32c(&bytes[start..end - 4]).to_le_bytes();
    bytes[end - 4..end].copy_from_slice(&crc);
    assert!(decode_frame(&bytes[start..]).is_ok());
    std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
    let (_, verification) = verify(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(verification.scan.error, Some((at, FrameError::ChainBroken { .. })) if at == end)
    );
    assert!(!verification.is_ok());
}

#[test]
fn checkpoint_bounds_replay_and_keeps_state() {
    let dir = scratch("checkpoint");
    let path = dir.join("ledger.journal");
    let stream = ops(120);
    let (ledger, journal) = FileJournal::create(&path, Scale::new(3).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut durable = Durable::new(ledger, journal);
    for (index, (op, now)) in stream.iter().enumerate() {
        durable.apply(op, *now).unwrap_or_else(|e| panic!("{e}"));
        if index == 79 {
            let (ledger, journal) = durable.parts_mut();
            journal.checkpoint(ledger).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let written = durable.into_parts().0;
    let (recovered, recovery) = open(&path);
    // One snapshot after operation 80, then 40 operations replayed.
    assert_eq!(recovery.scan.records, 41);
    let first = std::fs::read(&path).unwrap_or_default();
    assert!(
        matches!(decode_frame(&first), Ok((frame, _)) if frame.kind == Kind::Snapshot && frame.seq == 80)
    );
    assert!(same_state(&recovered, &written));
    assert_eq!(
        recovered.scale(),
        Scale::new(3).unwrap_or_default(),
        "the scale lives in the journal"
    );
    // Idempotency survives the snapshot: a retried old operation is a repeat.
    let mut recovered = recovered;
    assert_eq!(
        recovered.apply(&stream[3].0, stream[3].1).status,
        Status::Repeat
    );
    assert_eq!(recovered.check_invariants(), Ok(()));
}

/// Storage whose sync fails once `fail` is set; counts sync calls.
struct Flaky {
    file: std::fs::File,
    fail: Arc<AtomicBool>,
    syncs: Arc<AtomicUsize>,
}

impl Write for Flaky {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Storage for Flaky {
    fn sync(&mut self) -> io::Result<()> {
        self.syncs.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected fsync failure"));
        }
        self.file.sync()
    }
}

#[test]
fn fsync_failure_poisons_and_is_never_retried() {
    let dir = scratch("fsync");
    let path = dir.join("ledger.journal");
    let stream = ops(20);
    let (ledger, journal) =
        FileJournal::create(&path, Scale::default()).unwrap_or_else(|e| panic!("{e}"));
    let fail = Arc::new(AtomicBool::new(false));
    let syncs = Arc::new(AtomicUsize::new(0));
    let (f, s) = (fail.clone(), syncs.clone());
    let journal = journal.map_storage(move |file| Flaky {
        file,
        fail: f,
        syncs: s,
    });
    let mut durable = Durable::new(ledger, journal);
    for (op, now) in &stream[..10] {
        durable.apply(op, *now).unwrap_or_else(|e| panic!("{e}"));
    }
    fail.store(true, Ordering::SeqCst);
    let failed = durable.apply(&stream[10].0, stream[10].1);
    assert!(
        matches!(failed, Err(DurableError::Journal(JournalError::Io { .. }))),
        "{failed:?}"
    );
    let syncs_after_failure = syncs.load(Ordering::SeqCst);
    // Even with the disk healthy again, nothing is retried.
    fail.store(false, Ordering::SeqCst);
    assert!(matches!(durable.commit(), Err(DurableError::Poisoned)));
    assert!(matches!(
        durable.submit(&stream[11].0, stream[11].1),
        Err(DurableError::Poisoned)
    ));
    let (_, mut journal) = durable.into_parts();
    assert!(journal.is_poisoned());
    assert!(matches!(journal.commit(), Err(JournalError::Poisoned)));
    assert_eq!(
        syncs.load(Ordering::SeqCst),
        syncs_after_failure,
        "no sync after the failure"
    );
    // Recovery (after the poisoned journal lets go of its lock) keeps every
    // acknowledged operation; the unacknowledged one may or may not have
    // reached the disk.
    assert!(matches!(
        FileJournal::open(&path),
        Err(JournalError::Locked(_))
    ));
    drop(journal);
    let (recovered, _) = open(&path);
    assert!(recovered.seq() == 10 || recovered.seq() == 11);
    for (op, _) in &stream[..10] {
        assert!(recovered.record(op.id()).is_some());
    }
}

#[test]
fn a_file_without_a_checkpoint_is_refused_and_left_alone() {
    let dir = scratch("nocheckpoint");
    let cases: [(&str, Vec<u8>); 3] = [
        ("empty", Vec::new()),
        ("garbage", b"definitely not a journal".to_vec()),
        ("operations-only", {
            let mut memory = meterkit_ledger::MemJournal::<256>::new();
            let op = Op::Expire {
                id: Id::from_raw(1),
            };
            assert!(memory.append(1, Timestamp(0), &op).is_ok() && memory.commit().is_ok());
            memory.bytes().to_vec()
        }),
    ];
    for (name, bytes) in cases {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let opened = FileJournal::open(&path);
        assert!(
            matches!(opened, Err(JournalError::NoCheckpoint(_))),
            "{name}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap_or_default(),
            bytes,
            "{name} must not be truncated"
        );
    }
}

#[test]
fn a_second_opener_is_refused_while_the_first_holds_the_journal() {
    let dir = scratch("lock");
    let path = dir.join("ledger.journal");
    let written = write_journal(&path, &ops(20));
    let (ledger, mut journal, _) = FileJournal::open(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(same_state(&ledger, &written));
    // A torn tail the holder has not cut yet: a refused opener must not
    // "recover" (truncate) the file under the holder's feet.
    let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    bytes.extend_from_slice(&[0xAB; 5]);
    std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
    let refused = |opened: Result<(), JournalError>, how: &str| match opened {
        Err(JournalError::Locked(locked)) => assert_eq!(locked, path, "{how}"),
        other => panic!("{how}: expected Locked, got {other:?}"),
    };
    refused(FileJournal::open(&path).map(drop), "open");
    refused(
        FileJournal::open_or_create(&path, Scale::default()).map(drop),
        "open_or_create",
    );
    // Locked comes before Exists: the lock is taken before anything is looked at.
    refused(
        FileJournal::create(&path, Scale::default()).map(drop),
        "create",
    );
    #[cfg(unix)]
    {
        let link = dir.join("alias.journal");
        std::os::unix::fs::symlink(&path, &link).unwrap_or_else(|e| panic!("{e}"));
        match FileJournal::open(&link) {
            Err(JournalError::Locked(locked)) => assert_eq!(locked, link),
            other => panic!("symlink: expected Locked, got {other:?}"),
        }
    }
    assert_eq!(
        std::fs::read(&path).unwrap_or_default(),
        bytes,
        "a refused opener leaves the file alone"
    );
    // A checkpoint renames a new file into place; the lock must survive it.
    std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap_or_else(|e| panic!("{e}"));
    journal
        .checkpoint(&ledger)
        .unwrap_or_else(|e| panic!("{e}"));
    refused(FileJournal::open(&path).map(drop), "open after checkpoint");
    drop(journal);
    let (reopened, _journal, recovery) =
        FileJournal::open(&path).unwrap_or_else(|e| panic!("released on drop: {e}"));
    assert!(same_state(&reopened, &written));
    assert_eq!(recovery.truncated, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
