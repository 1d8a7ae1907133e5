//! The ledger as the session sees it.

use core::convert::Infallible;

use meterkit_ledger::{
    Account, Durable, Hold, Id, Journal, Ledger, Op, Reply, Scale, Table, Timestamp,
};

/// What a [`Session`](crate::Session) needs from a ledger: apply an operation, read a hold
/// and a wallet, know the currency scale.
///
/// Implemented for every [`Ledger`] (firmware's `HeaplessLedger`, `MemLedger`, `StdLedger`),
/// for [`Durable`] (each operation is journaled and committed before the session acts on it),
/// and for `&mut` of any implementation. A back office reaching its ledger over a network
/// implements it with its transport error as [`LedgerPort::Error`].
pub trait LedgerPort {
    /// Failure to reach or persist the ledger (not a rejected operation: those are in
    /// [`Reply::result`]).
    type Error: core::error::Error;

    /// Applies `op` at `now`; the reply may be acted on once this returns `Ok`.
    ///
    /// # Errors
    /// When the ledger could not be reached or the operation could not be made durable.
    fn apply(&mut self, op: &Op, now: Timestamp) -> Result<Reply, Self::Error>;

    /// The hold placed by operation `id`.
    fn hold(&self, id: Id) -> Option<Hold>;

    /// The wallet `id`.
    fn account(&self, id: Id) -> Option<Account>;

    /// The ledger's currency scale (minor-unit decimals).
    fn scale(&self) -> Scale;
}

impl<A, H, R> LedgerPort for Ledger<A, H, R>
where
    A: Table<Account>,
    H: Table<Hold>,
    R: Table<meterkit_ledger::Record>,
{
    type Error = Infallible;

    fn apply(&mut self, op: &Op, now: Timestamp) -> Result<Reply, Infallible> {
        Ok(Ledger::apply(self, op, now))
    }

    fn hold(&self, id: Id) -> Option<Hold> {
        Ledger::hold(self, id).copied()
    }

    fn account(&self, id: Id) -> Option<Account> {
        Ledger::account(self, id).copied()
    }

    fn scale(&self) -> Scale {
        Ledger::scale(self)
    }
}

impl<A, H, R, J> LedgerPort for Durable<A, H, R, J>
where
    A: Table<Account>,
    H: Table<Hold>,
    R: Table<meterkit_ledger::Record>,
    J: Journal,
{
    type Error = meterkit_ledger::DurableError<J::Error>;

    /// Submits and commits: one sync per operation, so a capture the session reports is on
    /// disk. (A gateway batching many sessions can implement the port with group commit.)
    fn apply(&mut self, op: &Op, now: Timestamp) -> Result<Reply, Self::Error> {
        Durable::apply(self, op, now)
    }

    fn hold(&self, id: Id) -> Option<Hold> {
        self.ledger().hold(id).copied()
    }

    fn account(&self, id: Id) -> Option<Account> {
        self.ledger().account(id).copied()
    }

    fn scale(&self) -> Scale {
        self.ledger().scale()
    }
}

impl<P: LedgerPort + ?Sized> LedgerPort for &mut P {
    type Error = P::Error;

    fn apply(&mut self, op: &Op, now: Timestamp) -> Result<Reply, Self::Error> {
        (**self).apply(op, now)
    }

    fn hold(&self, id: Id) -> Option<Hold> {
        (**self).hold(id)
    }

    fn account(&self, id: Id) -> Option<Account> {
        (**self).account(id)
    }

    fn scale(&self) -> Scale {
        (**self).scale()
    }
}
