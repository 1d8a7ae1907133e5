#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

#[cfg(any(feature = "alloc", test))]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod amount;
#[cfg(any(test, not(feature = "std")))]
mod crc;
#[cfg(feature = "std")]
mod file;
mod id;
mod journal;
#[cfg(feature = "std")]
pub mod json;
mod ledger;
mod table;
mod wire;

pub use amount::{AmountError, Money, Scale};
#[cfg(feature = "std")]
pub use file::{FileJournal, JournalError, Recovery, Storage, Verification, verify};
pub use id::{Id, IdError, Timestamp};
#[cfg(feature = "alloc")]
pub use journal::snapshot_record;
pub use journal::{
    BufferFull, Durable, DurableError, FRAME_OVERHEAD, Frame, FrameError, Journal, Kind,
    MAX_PAYLOAD, MemJournal, ScanEnd, crc32c, decode_frame, decode_operation, replay, scan,
};
#[cfg(feature = "alloc")]
pub use ledger::MemLedger;
#[cfg(feature = "std")]
pub use ledger::StdLedger;
pub use ledger::{
    Account, Applied, HeaplessLedger, Hold, HoldState, InvariantError, Ledger, LedgerError, Op,
    Outcome, Record, Reply, StatementLine, Status, SystemAccounts,
};
#[cfg(feature = "std")]
pub use table::IdHasher;
pub use table::Table;
pub use wire::DecodeError;
