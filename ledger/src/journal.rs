//! Journal records: framing, hash chain, replay, and the [`Journal`] trait.
//!
//! # Record layout
//!
//! ```text
//! offset  size  field
//! 0       4     payload length n (u32 LE)
//! 4       4     CRC32C of bytes 0..4: a torn or garbage header never
//!               yields a plausible length
//! 8       8     sequence number (u64 LE), +1 per record
//! 16      1     kind: 1 = operation, 2 = snapshot (checkpoint)
//! 17      n     payload
//! 17+n    4     chain: the CRC field of the previous record (0 for the first)
//! 21+n    4     CRC32C of bytes 0..21+n
//! ```
//!
//! Because every record's CRC covers the previous record's CRC, the CRCs form
//! a chain: changing, removing, inserting or reordering any record breaks
//! the chain at that point, and [`scan`] reports the first broken position.
//! The chain is CRC32C, not a cryptographic hash: it detects accidental
//! corruption and naive edits, not a forger who recomputes every later
//! record (that would need a keyed MAC).
//!
//! # Recovery
//!
//! [`scan`] stops at the first record that is incomplete, fails a check or
//! does not continue the chain and sequence, and never looks past it: a
//! record after a bad one is never accepted, even if it is intact.

use crate::ledger::{Account, Hold, Op, Record};
use crate::table::Table;
use crate::wire::{self, DecodeError, Reader, Sink, Writer};
use crate::{Ledger, Reply, Status, Timestamp};

/// Bytes around the payload.
pub const FRAME_OVERHEAD: usize = 25;
/// Largest payload accepted (a snapshot of a big ledger fits).
pub const MAX_PAYLOAD: u32 = 1 << 30;

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// One operation and the `now` it was applied at.
    Operation,
    /// The full ledger state after `seq` records (a checkpoint).
    Snapshot,
}

impl Kind {
    fn tag(self) -> u8 {
        match self {
            Kind::Operation => 1,
            Kind::Snapshot => 2,
        }
    }
}

/// One decoded record frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Sequence number.
    pub seq: u64,
    /// Kind.
    pub kind: Kind,
    /// Payload bytes.
    pub payload: &'a [u8],
    /// The previous record's CRC as stored in this one.
    pub chain: u32,
    /// This record's CRC (the next record's `chain`).
    pub crc: u32,
}

/// Why a record is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The bytes end inside the record: a torn write.
    #[error("incomplete record ({available} of {needed} bytes)")]
    Incomplete {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// The length field fails its own CRC.
    #[error("record header checksum mismatch")]
    HeaderChecksum,
    /// The length exceeds [`MAX_PAYLOAD`].
    #[error("record length {0} too large")]
    TooLong(u32),
    /// The record CRC does not match its bytes.
    #[error("record checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// CRC stored in the record.
        stored: u32,
        /// CRC of the bytes.
        computed: u32,
    },
    /// Unknown kind byte.
    #[error("unknown record kind {0}")]
    UnknownKind(u8),
    /// The record does not continue the previous one's CRC chain.
    #[error("hash chain broken: expected {expected:#010x}, found {found:#010x}")]
    ChainBroken {
        /// Previous record's CRC.
        expected: u32,
        /// The chain value stored.
        found: u32,
    },
    /// The sequence number is not the previous one plus one.
    #[error("sequence {found} where {expected} was expected")]
    Sequence {
        /// Expected sequence number.
        expected: u64,
        /// Found sequence number.
        found: u64,
    },
    /// The payload does not decode.
    #[error("bad payload: {0}")]
    Payload(DecodeError),
    /// Replaying the operation did not reproduce a new record (a duplicate id
    /// or an unrecorded rejection cannot be in a valid journal).
    #[error("record does not replay")]
    Replay,
    /// A snapshot record that is not the first record.
    #[error("snapshot in the middle of a journal")]
    MisplacedSnapshot,
}

/// CRC32C (Castagnoli), hardware-accelerated with `std`.
pub fn crc32c(bytes: &[u8]) -> u32 {
    #[cfg(feature = "std")]
    {
        crc32c::crc32c(bytes)
    }
    #[cfg(not(feature = "std"))]
    {
        crate::crc::crc32c(bytes)
    }
}

/// Encodes one record into `sink`; `false` when it does not fit.
pub(crate) fn put_frame<S>(
    sink: &mut S,
    seq: u64,
    kind: Kind,
    chain: u32,
    payload: impl FnOnce(&mut Writer<'_, S>),
) -> Option<u32>
where
    S: Sink + AsRef<[u8]>,
{
    let start = sink.as_ref().len();
    let mut w = Writer::new(sink);
    // Length is patched once the payload is written.
    w.u32(0);
    w.u32(0);
    w.u64(seq);
    w.u8(kind.tag());
    payload(&mut w);
    w.u32(chain);
    if !w.finish() {
        return None;
    }
    let bytes = sink.as_ref();
    let len = u32::try_from(bytes.len().checked_sub(start + FRAME_OVERHEAD - 4)?).ok()?;
    if len > MAX_PAYLOAD {
        return None;
    }
    Some(len)
}

/// Patches header fields in place and appends the CRC. Split from
/// [`put_frame`] because sinks are append-only.
pub(crate) fn seal_frame(record: &mut [u8], len: u32) -> Option<u32> {
    let len_bytes = len.to_le_bytes();
    record.get_mut(0..4)?.copy_from_slice(&len_bytes);
    record
        .get_mut(4..8)?
        .copy_from_slice(&crc32c(&len_bytes).to_le_bytes());
    Some(crc32c(record))
}

/// Decodes the record at the start of `bytes`.
///
/// # Errors
///
/// Any [`FrameError`] except the chain and sequence checks, which need the
/// previous record (see [`scan`]).
pub fn decode_frame(bytes: &[u8]) -> Result<(Frame<'_>, usize), FrameError> {
    let incomplete = |needed| FrameError::Incomplete {
        needed,
        available: bytes.len(),
    };
    let header = bytes.get(0..8).ok_or(incomplete(8))?;
    let mut r = Reader::new(header);
    let len = r.u32().map_err(FrameError::Payload)?;
    let header_crc = r.u32().map_err(FrameError::Payload)?;
    if crc32c(header.get(0..4).unwrap_or_default()) != header_crc {
        return Err(FrameError::HeaderChecksum);
    }
    if len > MAX_PAYLOAD {
        return Err(FrameError::TooLong(len));
    }
    let total = FRAME_OVERHEAD + len as usize;
    let record = bytes.get(0..total).ok_or(incomplete(total))?;
    let (body, tail) = record.split_at(total - 4);
    let stored = u32::from_le_bytes(<[u8; 4]>::try_from(tail).map_err(|_| incomplete(total))?);
    let computed = crc32c(body);
    if stored != computed {
        return Err(FrameError::Checksum { stored, computed });
    }
    let mut r = Reader::new(body.get(8..).unwrap_or_default());
    let seq = r.u64().map_err(FrameError::Payload)?;
    let kind = match r.u8().map_err(FrameError::Payload)? {
        1 => Kind::Operation,
        2 => Kind::Snapshot,
        other => return Err(FrameError::UnknownKind(other)),
    };
    let payload = body.get(17..17 + len as usize).unwrap_or_default();
    let chain_bytes = body.get(17 + len as usize..).unwrap_or_default();
    let chain = Reader::new(chain_bytes)
        .u32()
        .map_err(FrameError::Payload)?;
    Ok((
        Frame {
            seq,
            kind,
            payload,
            chain,
            crc: stored,
        },
        total,
    ))
}

/// Where a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanEnd {
    /// Length of the valid prefix: truncate here before appending.
    pub valid_len: usize,
    /// Valid records.
    pub records: u64,
    /// Sequence number of the last valid record (0 if none).
    pub last_seq: u64,
    /// CRC of the last valid record: the next record's chain value.
    pub chain: u32,
    /// The first invalid record's offset and why, if the bytes did not end
    /// exactly at a record boundary.
    pub error: Option<(usize, FrameError)>,
}

/// Walks records from the start of `bytes`, checking CRCs, the chain and
/// the sequence, and hands each valid one to `visit`; stops for good at the
/// first invalid record or when `visit` refuses one.
pub fn scan<'a>(
    bytes: &'a [u8],
    mut visit: impl FnMut(&Frame<'a>) -> Result<(), FrameError>,
) -> ScanEnd {
    let mut end = ScanEnd {
        valid_len: 0,
        records: 0,
        last_seq: 0,
        chain: 0,
        error: None,
    };
    while end.valid_len < bytes.len() {
        let rest = bytes.get(end.valid_len..).unwrap_or_default();
        let checked = decode_frame(rest).and_then(|(frame, size)| {
            if frame.chain != end.chain {
                return Err(FrameError::ChainBroken {
                    expected: end.chain,
                    found: frame.chain,
                });
            }
            if end.records > 0 && frame.seq != end.last_seq.wrapping_add(1) {
                return Err(FrameError::Sequence {
                    expected: end.last_seq.wrapping_add(1),
                    found: frame.seq,
                });
            }
            visit(&frame)?;
            Ok((frame, size))
        });
        match checked {
            Ok((frame, size)) => {
                end.valid_len += size;
                end.records += 1;
                end.last_seq = frame.seq;
                end.chain = frame.crc;
            }
            Err(error) => {
                end.error = Some((end.valid_len, error));
                break;
            }
        }
    }
    end
}

/// Decodes an operation record's payload: the `now` it ran at and the op.
///
/// # Errors
///
/// [`DecodeError`] for short, unknown or trailing bytes.
pub fn decode_operation(payload: &[u8]) -> Result<(Timestamp, Op), DecodeError> {
    let mut r = Reader::new(payload);
    let at = Timestamp(r.i64()?);
    let op = wire::get_op(&mut r)?;
    r.end()?;
    Ok((at, op))
}

/// Replays a journal into `ledger`: a first snapshot record replaces the
/// ledger's state; each operation record is applied again and must produce
/// a new record with the same sequence number. Stops at the first invalid
/// record; the returned [`ScanEnd`] says where.
pub fn replay<A, H, R>(bytes: &[u8], ledger: &mut Ledger<A, H, R>) -> ScanEnd
where
    A: Table<Account> + Default,
    H: Table<Hold> + Default,
    R: Table<Record> + Default,
{
    let mut first = true;
    scan(bytes, |frame| {
        let was_first = core::mem::replace(&mut first, false);
        match frame.kind {
            Kind::Snapshot if was_first => {
                let mut r = Reader::new(frame.payload);
                let restored = wire::get_snapshot(&mut r).map_err(FrameError::Payload)?;
                // A snapshot is external input: an inconsistent one would make
                // later arithmetic underflow, so it is refused like a bad CRC.
                if restored.seq() != frame.seq || restored.check_invariants().is_err() {
                    return Err(FrameError::Payload(DecodeError::BadSnapshot));
                }
                *ledger = restored;
                Ok(())
            }
            Kind::Snapshot => Err(FrameError::MisplacedSnapshot),
            Kind::Operation => {
                let (at, op) = decode_operation(frame.payload).map_err(FrameError::Payload)?;
                let expected = ledger.seq().wrapping_add(1);
                if frame.seq != expected {
                    return Err(FrameError::Sequence {
                        expected,
                        found: frame.seq,
                    });
                }
                match ledger.apply(&op, at) {
                    Reply {
                        status: Status::New,
                        ..
                    } => Ok(()),
                    _ => Err(FrameError::Replay),
                }
            }
        }
    })
}

/// Durable storage of operation records. An operation may be acknowledged
/// only after [`Journal::commit`] returned `Ok` for it.
pub trait Journal {
    /// The storage error.
    type Error: core::error::Error;

    /// Queues the record of `op`, applied at `at` as number `seq`.
    ///
    /// # Errors
    ///
    /// When the record cannot be queued; the journal is then unusable.
    fn append(&mut self, seq: u64, at: Timestamp, op: &Op) -> Result<(), Self::Error>;

    /// Makes every queued record durable (one sync for the whole group).
    ///
    /// # Errors
    ///
    /// When durability cannot be confirmed. The journal is then poisoned:
    /// this and every later call fail; recover by reopening.
    fn commit(&mut self) -> Result<(), Self::Error>;
}

/// Encodes an operation record into `sink`; returns its CRC.
pub(crate) fn put_operation<S>(
    sink: &mut S,
    seq: u64,
    chain: u32,
    at: Timestamp,
    op: &Op,
) -> Option<u32>
where
    S: Sink + AsRef<[u8]> + AsMut<[u8]>,
{
    let start = sink.as_ref().len();
    let len = put_frame(sink, seq, Kind::Operation, chain, |w| {
        w.i64(at.0);
        wire::put_op(w, op);
    })?;
    finish(sink, start, len)
}

/// Seals the record that starts at `start` and appends its CRC.
pub(crate) fn finish<S>(sink: &mut S, start: usize, len: u32) -> Option<u32>
where
    S: Sink + AsMut<[u8]>,
{
    let crc = seal_frame(sink.as_mut().get_mut(start..)?, len)?;
    sink.put(&crc.to_le_bytes()).then_some(crc)
}

/// Encodes `ledger` as a snapshot record that starts a new journal
/// (chain 0, sequence = `ledger.seq()`); returns the bytes and the record's
/// CRC, or `None` when the snapshot exceeds [`MAX_PAYLOAD`].
/// [`replay`] of bytes starting with it restores the ledger.
#[cfg(feature = "alloc")]
pub fn snapshot_record<A, H, R>(ledger: &Ledger<A, H, R>) -> Option<(alloc::vec::Vec<u8>, u32)>
where
    A: Table<Account>,
    H: Table<Hold>,
    R: Table<Record>,
{
    let mut bytes = alloc::vec::Vec::new();
    let len = put_frame(&mut bytes, ledger.seq(), Kind::Snapshot, 0, |w| {
        wire::put_snapshot(w, ledger);
    })?;
    let crc = finish(&mut bytes, 0, len)?;
    Some((bytes, crc))
}

/// A journal in a fixed RAM buffer (no allocation): for tests and for
/// firmware that copies [`MemJournal::bytes`] to its own storage.
#[derive(Debug, Clone, Default)]
pub struct MemJournal<const N: usize> {
    committed: usize,
    bytes: heapless::Vec<u8, N>,
    chain: u32,
}

/// The [`MemJournal`] buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("journal buffer full")]
pub struct BufferFull;

impl<const N: usize> MemJournal<N> {
    /// An empty journal.
    pub fn new() -> Self {
        MemJournal {
            committed: 0,
            bytes: heapless::Vec::new(),
            chain: 0,
        }
    }

    /// The committed records.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.get(..self.committed).unwrap_or_default()
    }
}

impl<const N: usize> Journal for MemJournal<N> {
    type Error = BufferFull;

    fn append(&mut self, seq: u64, at: Timestamp, op: &Op) -> Result<(), BufferFull> {
        let before = self.bytes.len();
        if let Some(crc) = put_operation(&mut self.bytes, seq, self.chain, at, op) {
            self.chain = crc;
            Ok(())
        } else {
            self.bytes.truncate(before);
            Err(BufferFull)
        }
    }

    fn commit(&mut self) -> Result<(), BufferFull> {
        self.committed = self.bytes.len();
        Ok(())
    }
}

/// A ledger whose every recorded operation goes through a journal.
///
/// [`Durable::submit`] applies and queues; [`Durable::commit`] makes the
/// queue durable with one sync. Replies may be acknowledged after `commit`
/// returns `Ok`: that is group commit. After a journal error the pair is
/// poisoned (the in-memory state may be ahead of the durable one) and every
/// later call fails: drop it and recover from the journal.
#[derive(Debug)]
pub struct Durable<A, H, R, J> {
    ledger: Ledger<A, H, R>,
    journal: J,
    poisoned: bool,
}

/// Why a [`Durable`] call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurableError<E> {
    /// The journal failed now.
    #[error("journal failed: {0}")]
    Journal(E),
    /// The journal failed earlier; recover from it.
    #[error("journal poisoned by an earlier failure")]
    Poisoned,
}

impl<A, H, R, J> Durable<A, H, R, J>
where
    A: Table<Account>,
    H: Table<Hold>,
    R: Table<Record>,
    J: Journal,
{
    /// Pairs a ledger (recovered from `journal`, or new) with its journal.
    pub fn new(ledger: Ledger<A, H, R>, journal: J) -> Self {
        Durable {
            ledger,
            journal,
            poisoned: false,
        }
    }

    /// Applies `op` at `now` and queues its record if it recorded anything.
    /// The reply must not be acknowledged before [`Durable::commit`].
    ///
    /// # Errors
    ///
    /// [`DurableError`] when the journal failed (now or before).
    pub fn submit(&mut self, op: &Op, now: Timestamp) -> Result<Reply, DurableError<J::Error>> {
        if self.poisoned {
            return Err(DurableError::Poisoned);
        }
        let reply = self.ledger.apply(op, now);
        if reply.status == Status::New
            && let Err(error) = self.journal.append(self.ledger.seq(), now, op)
        {
            self.poisoned = true;
            return Err(DurableError::Journal(error));
        }
        Ok(reply)
    }

    /// Makes every submitted operation durable.
    ///
    /// # Errors
    ///
    /// [`DurableError`]; the pair is poisoned and never retries.
    pub fn commit(&mut self) -> Result<(), DurableError<J::Error>> {
        if self.poisoned {
            return Err(DurableError::Poisoned);
        }
        self.journal.commit().map_err(|error| {
            self.poisoned = true;
            DurableError::Journal(error)
        })
    }

    /// [`submit`](Self::submit) then [`commit`](Self::commit): one sync per operation.
    ///
    /// # Errors
    ///
    /// As for those two.
    pub fn apply(&mut self, op: &Op, now: Timestamp) -> Result<Reply, DurableError<J::Error>> {
        let reply = self.submit(op, now)?;
        self.commit()?;
        Ok(reply)
    }

    /// The ledger (read-only: changes go through the journal).
    pub fn ledger(&self) -> &Ledger<A, H, R> {
        &self.ledger
    }

    /// The journal.
    pub fn journal(&self) -> &J {
        &self.journal
    }

    /// The journal, mutably (e.g. to checkpoint a file journal).
    pub fn parts_mut(&mut self) -> (&Ledger<A, H, R>, &mut J) {
        (&self.ledger, &mut self.journal)
    }

    /// Takes the pair apart.
    pub fn into_parts(self) -> (Ledger<A, H, R>, J) {
        (self.ledger, self.journal)
    }

    /// Whether a journal failure poisoned this pair.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HeaplessLedger, Id, Scale};

    type Small = HeaplessLedger<4, 4, 16>;

    fn ops() -> [Op; 5] {
        let (account, hold) = (Id::from_raw(10), Id::from_raw(3));
        [
            Op::Open {
                id: Id::from_raw(1),
                account,
                floor: 0,
                credit_line: 0,
                low_credit: 0,
            },
            Op::TopUp {
                id: Id::from_raw(2),
                account,
                amount: 1_000,
            },
            Op::Hold {
                id: hold,
                account,
                amount: 600,
                expires: Timestamp(100),
            },
            Op::Capture {
                id: Id::from_raw(4),
                hold,
                cumulative: 250,
            },
            Op::Settle {
                id: Id::from_raw(5),
                hold,
                cumulative: 300,
            },
        ]
    }

    #[test]
    fn heapless_ledger_and_memory_journal_replay_without_allocation() {
        let mut durable = Durable::new(Small::new(Scale::default()), MemJournal::<2048>::new());
        for op in &ops() {
            assert!(durable.submit(op, Timestamp(0)).is_ok());
        }
        // Nothing is visible as durable before the commit.
        assert!(durable.journal().bytes().is_empty());
        assert!(durable.commit().is_ok());
        let mut rebuilt = Small::new(Scale::default());
        let end = replay(durable.journal().bytes(), &mut rebuilt);
        assert_eq!((end.records, end.error), (5, None));
        let account = Id::from_raw(10);
        assert_eq!(rebuilt.account(account), durable.ledger().account(account));
        // 10.00 − 3.00 settled = 7.00
        assert_eq!(rebuilt.account(account).map(Account::balance), Some(700));
    }

    #[test]
    fn a_full_buffer_poisons_the_pair() {
        // Room for the open record (90 bytes) but not the top-up after it.
        let mut durable = Durable::new(Small::new(Scale::default()), MemJournal::<128>::new());
        let [open, top_up, ..] = ops();
        assert!(durable.submit(&open, Timestamp(0)).is_ok());
        assert_eq!(
            durable.submit(&top_up, Timestamp(0)),
            Err(DurableError::Journal(BufferFull))
        );
        assert!(durable.is_poisoned());
        assert_eq!(durable.commit(), Err(DurableError::Poisoned));
    }

    #[test]
    fn frames_reject_every_kind_of_damage() {
        let mut journal = MemJournal::<512>::new();
        assert!(journal.append(1, Timestamp(5), &ops()[1]).is_ok());
        assert!(journal.commit().is_ok());
        let bytes = journal.bytes();
        let (frame, size) = decode_frame(bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (size, frame.seq, frame.kind, frame.chain),
            (bytes.len(), 1, Kind::Operation, 0)
        );
        assert_eq!(
            decode_operation(frame.payload),
            Ok((Timestamp(5), ops()[1]))
        );
        for cut in 0..bytes.len() {
            let error = decode_frame(&bytes[..cut]).err();
            assert!(
                matches!(
                    error,
                    Some(FrameError::Incomplete { .. } | FrameError::HeaderChecksum)
                ),
                "cut {cut}"
            );
        }
        // Erased NOR flash reads 0xFF, and CRC32C(ff ff ff ff) = ffffffff, so
        // its header checksum passes: the length limit is what rejects it.
        assert_eq!(
            decode_frame(&[0xff; 64]).err(),
            Some(FrameError::TooLong(u32::MAX))
        );
        assert_eq!(
            decode_frame(&[0x00; 64]).err(),
            Some(FrameError::HeaderChecksum)
        );
    }
}
