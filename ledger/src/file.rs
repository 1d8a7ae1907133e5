//! The file journal: one append-only file, a snapshot record first.
//!
//! A journal file always starts with a snapshot record (the empty ledger
//! with its scale when new), followed by operation records. Creating and
//! checkpointing write a complete new file beside the old one, sync it,
//! rename it over the old one and sync the directory, so a crash leaves
//! either the old or the new file, never a mix. Appends go to an in-memory
//! queue; [`Journal::commit`] writes the queue and calls `fdatasync` once
//! (group commit). Any write or sync error poisons the journal for good:
//! after a failed fsync the kernel may have dropped the dirty pages, and a
//! retry that "succeeds" would acknowledge lost data (PostgreSQL's fsync
//! lesson).
//!
//! One process at a time: opening or creating a journal takes an exclusive
//! lock ([`File::try_lock`]) on `<file>.lock` beside it, held until the
//! [`FileJournal`] is dropped (or the process dies). The lock lives on a
//! separate file because a checkpoint renames a new journal file into
//! place, which would silently drop a lock held on the old one. A second
//! opener gets [`JournalError::Locked`] instead of interleaving appends.
//! [`verify`] only reads and takes no lock.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::vec::Vec;

use crate::journal::{self, Journal, Kind, ScanEnd};
use crate::{FrameError, InvariantError, Op, Scale, StdLedger, Timestamp};

/// Where journal bytes go: a file, or a test double that fails on demand.
pub trait Storage: Write {
    /// Makes written bytes durable (`fdatasync` for a file).
    ///
    /// # Errors
    ///
    /// The I/O error; the journal treats it as fatal.
    fn sync(&mut self) -> io::Result<()>;
}

impl Storage for File {
    fn sync(&mut self) -> io::Result<()> {
        self.sync_data()
    }
}

/// A file journal error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// An I/O call failed.
    #[error("{context} {path}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// An earlier error made the journal unusable; reopen to recover.
    #[error("journal poisoned by an earlier failure")]
    Poisoned,
    /// `create` found an existing file.
    #[error("journal {0} already exists")]
    Exists(PathBuf),
    /// The file's first record is not a valid snapshot: nothing to recover
    /// from. Carries the record's error, or `None` when it is a valid record
    /// of another kind.
    #[error("journal has no valid checkpoint at its start{}", .0.map(|e| std::format!(": {e}")).unwrap_or_default())]
    NoCheckpoint(Option<FrameError>),
    /// Another [`FileJournal`] (in this or another process) has the journal
    /// open; carries the journal's path.
    #[error("journal {0} is in use by another process (locked)")]
    Locked(PathBuf),
}

/// What recovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Where the scan ended (records, last sequence, first bad record).
    pub scan: ScanEnd,
    /// Bytes cut off after the valid prefix (0 when the file was clean).
    pub truncated: u64,
    /// Where the cut-off bytes were preserved for inspection, if any.
    pub preserved: Option<PathBuf>,
}

/// The file journal. See the module docs for the file layout and rules.
#[derive(Debug)]
pub struct FileJournal<S = File> {
    path: PathBuf,
    /// Holds the exclusive lock on `<path>.lock`; closing it releases the lock.
    lock: File,
    storage: S,
    pending: Vec<u8>,
    chain: u32,
    poisoned: bool,
}

fn io_error<'p>(
    context: &'static str,
    path: &'p Path,
) -> impl FnOnce(io::Error) -> JournalError + 'p {
    move |source| JournalError::Io {
        context,
        path: path.to_path_buf(),
        source,
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = std::ffi::OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

fn sync_parent(path: &Path) -> Result<(), JournalError> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error("syncing directory of", path))
}

/// Writes `ledger` as the single snapshot record of a new file at `path`
/// (atomically: temporary file, sync, rename, directory sync). Returns the
/// record's CRC.
fn write_snapshot_file(path: &Path, ledger: &StdLedger) -> Result<u32, JournalError> {
    let (bytes, crc) = journal::snapshot_record(ledger).ok_or_else(|| JournalError::Io {
        context: "encoding snapshot for",
        path: path.to_path_buf(),
        source: io::Error::other("snapshot larger than the record limit"),
    })?;
    let temporary = sibling(path, ".tmp");
    let mut file = File::create(&temporary).map_err(io_error("creating", &temporary))?;
    file.write_all(&bytes)
        .map_err(io_error("writing", &temporary))?;
    file.sync_all().map_err(io_error("syncing", &temporary))?;
    fs::rename(&temporary, path).map_err(io_error("renaming to", path))?;
    sync_parent(path)?;
    Ok(crc)
}

/// Takes the exclusive lock of the journal at `path`. The lock file is named
/// after the resolved path when the journal exists, so a symlink and its
/// target share one lock.
fn lock(path: &Path) -> Result<File, JournalError> {
    let resolved = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let lock_path = sibling(&resolved, ".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_error("creating lock file", &lock_path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(JournalError::Locked(path.to_path_buf())),
        Err(TryLockError::Error(source)) => Err(io_error("locking", &lock_path)(source)),
    }
}

fn open_append(path: &Path) -> Result<File, JournalError> {
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(io_error("opening", path))
}

impl FileJournal<File> {
    /// Creates a new journal at `path` holding an empty ledger with `scale`.
    ///
    /// # Errors
    ///
    /// [`JournalError::Locked`] if another journal holds the lock;
    /// [`JournalError::Exists`] if `path` exists; I/O errors.
    pub fn create(path: &Path, scale: Scale) -> Result<(StdLedger, Self), JournalError> {
        Self::create_locked(path, scale, lock(path)?)
    }

    fn create_locked(
        path: &Path,
        scale: Scale,
        lock: File,
    ) -> Result<(StdLedger, Self), JournalError> {
        if path.exists() {
            return Err(JournalError::Exists(path.to_path_buf()));
        }
        let ledger = StdLedger::new(scale);
        let chain = write_snapshot_file(path, &ledger)?;
        let storage = open_append(path)?;
        Ok((
            ledger,
            FileJournal {
                path: path.to_path_buf(),
                lock,
                storage,
                pending: Vec::new(),
                chain,
                poisoned: false,
            },
        ))
    }

    /// Opens an existing journal and recovers its ledger: loads the snapshot,
    /// replays operation records up to the first invalid one, and truncates
    /// the file there (the cut-off bytes are kept in `<path>.tail-<offset>`).
    ///
    /// # Errors
    ///
    /// [`JournalError::Locked`] if another journal holds the lock;
    /// [`JournalError::NoCheckpoint`] when the first record is unusable; I/O errors.
    pub fn open(path: &Path) -> Result<(StdLedger, Self, Recovery), JournalError> {
        Self::open_locked(path, lock(path)?)
    }

    fn open_locked(path: &Path, lock: File) -> Result<(StdLedger, Self, Recovery), JournalError> {
        let bytes = fs::read(path).map_err(io_error("reading", path))?;
        match journal::decode_frame(&bytes) {
            Ok((frame, _)) if frame.kind == Kind::Snapshot => {}
            Ok(_) => return Err(JournalError::NoCheckpoint(None)),
            Err(error) => return Err(JournalError::NoCheckpoint(Some(error))),
        }
        let mut ledger = StdLedger::new(Scale::default());
        let scan = journal::replay(&bytes, &mut ledger);
        if scan.records == 0 {
            return Err(JournalError::NoCheckpoint(
                scan.error.map(|(_, error)| error),
            ));
        }
        let mut recovery = Recovery {
            scan,
            truncated: 0,
            preserved: None,
        };
        if let Some(tail) = bytes.get(scan.valid_len..).filter(|tail| !tail.is_empty()) {
            let keep = sibling(path, &std::format!(".tail-{}", scan.valid_len));
            fs::write(&keep, tail).map_err(io_error("preserving tail in", &keep))?;
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(io_error("opening", path))?;
            file.set_len(scan.valid_len as u64)
                .map_err(io_error("truncating", path))?;
            file.sync_all().map_err(io_error("syncing", path))?;
            recovery.truncated = tail.len() as u64;
            recovery.preserved = Some(keep);
        }
        let storage = open_append(path)?;
        let journal = FileJournal {
            path: path.to_path_buf(),
            lock,
            storage,
            pending: Vec::new(),
            chain: scan.chain,
            poisoned: false,
        };
        Ok((ledger, journal, recovery))
    }

    /// Opens `path`, or creates it with `scale` when it does not exist.
    ///
    /// # Errors
    ///
    /// As for [`FileJournal::open`] and [`FileJournal::create`].
    pub fn open_or_create(
        path: &Path,
        scale: Scale,
    ) -> Result<(StdLedger, Self, Recovery), JournalError> {
        // One lock across the existence check and the open or create, so two
        // processes racing on a new path cannot both create it.
        let lock = lock(path)?;
        if path.exists() {
            return Self::open_locked(path, lock);
        }
        let (ledger, journal) = Self::create_locked(path, scale, lock)?;
        let scan = ScanEnd {
            valid_len: 0,
            records: 1,
            last_seq: 0,
            chain: journal.chain,
            error: None,
        };
        Ok((
            ledger,
            journal,
            Recovery {
                scan,
                truncated: 0,
                preserved: None,
            },
        ))
    }

    /// Commits what is queued, then replaces the file with a single
    /// snapshot of `ledger`, bounding the next recovery's replay.
    /// `ledger` must be the state this journal produced.
    ///
    /// # Errors
    ///
    /// I/O errors, which poison the journal.
    pub fn checkpoint(&mut self, ledger: &StdLedger) -> Result<(), JournalError> {
        self.commit()?;
        let replaced = write_snapshot_file(&self.path, ledger)
            .and_then(|chain| Ok((chain, open_append(&self.path)?)));
        match replaced {
            Ok((chain, storage)) => {
                self.chain = chain;
                self.storage = storage;
                Ok(())
            }
            Err(error) => {
                self.poisoned = true;
                Err(error)
            }
        }
    }
}

impl<S: Storage> FileJournal<S> {
    /// Wraps the storage (tests use this to inject sync failures).
    pub fn map_storage<T: Storage>(self, wrap: impl FnOnce(S) -> T) -> FileJournal<T> {
        FileJournal {
            path: self.path,
            lock: self.lock,
            storage: wrap(self.storage),
            pending: self.pending,
            chain: self.chain,
            poisoned: self.poisoned,
        }
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether an error made this journal unusable.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }
}

impl<S: Storage> Journal for FileJournal<S> {
    type Error = JournalError;

    fn append(&mut self, seq: u64, at: Timestamp, op: &Op) -> Result<(), JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        // An operation record is at most ~100 bytes, far below MAX_PAYLOAD,
        // and a Vec sink always has room: `None` cannot happen here.
        if let Some(crc) = journal::put_operation(&mut self.pending, seq, self.chain, at, op) {
            self.chain = crc;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let path = &self.path;
        let written = self
            .storage
            .write_all(&self.pending)
            .map_err(io_error("appending to", path))
            .and_then(|()| self.storage.sync().map_err(io_error("syncing", path)));
        if let Err(error) = written {
            self.poisoned = true;
            return Err(error);
        }
        self.pending.clear();
        Ok(())
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Where the scan ended; `scan.error` is the first bad record.
    pub scan: ScanEnd,
    /// File length in bytes.
    pub file_len: u64,
    /// The invariants of the replayed ledger.
    pub invariants: Result<(), InvariantError>,
}

impl Verification {
    /// Whether every byte belongs to a valid record and the invariants hold.
    pub fn is_ok(&self) -> bool {
        self.scan.error.is_none() && self.scan.records > 0 && self.invariants.is_ok()
    }
}

/// Checks a journal without changing it: CRCs, header checksums, the hash
/// chain, sequence numbers, replay, and the replayed ledger's invariants.
///
/// # Errors
///
/// Only I/O errors reading the file; problems in it are in the result.
pub fn verify(path: &Path) -> Result<(StdLedger, Verification), JournalError> {
    let bytes = fs::read(path).map_err(io_error("reading", path))?;
    let mut ledger = StdLedger::new(Scale::default());
    let scan = journal::replay(&bytes, &mut ledger);
    let invariants = ledger.check_invariants();
    Ok((
        ledger,
        Verification {
            scan,
            file_len: bytes.len() as u64,
            invariants,
        },
    ))
}
