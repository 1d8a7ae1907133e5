//! The double-entry state machine: operations in, results out.

use crate::table::Table;
use crate::{Id, Scale, Timestamp};

/// An operation, carrying its client-chosen id. Amounts are minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Opens a wallet.
    Open {
        /// Operation id.
        id: Id,
        /// The new wallet's id.
        account: Id,
        /// Balance holds may not reserve below (a deposit that stays put).
        floor: u64,
        /// How far settle overshoot may take the balance below `floor`
        /// (emergency credit); the only way below the floor.
        credit_line: u64,
        /// A low-credit event is reported when `available` falls below this.
        low_credit: u64,
    },
    /// Moves money from top-up clearing into a wallet, repaying debt first.
    TopUp {
        /// Operation id.
        id: Id,
        /// Wallet credited.
        account: Id,
        /// Amount, greater than zero.
        amount: u64,
    },
    /// Reserves up to `amount` of the wallet's available balance until `expires`.
    Hold {
        /// Operation id; captures, settle and void name the hold by it.
        id: Id,
        /// Wallet debited.
        account: Id,
        /// Most that is reserved; less when less is available.
        amount: u64,
        /// The hold expires at this instant (not before).
        expires: Timestamp,
    },
    /// Captures up to a cumulative total from a hold into revenue.
    Capture {
        /// Operation id.
        id: Id,
        /// The hold's operation id.
        hold: Id,
        /// Total to have been captured from the hold after this operation.
        cumulative: u64,
    },
    /// Final capture at a cumulative total; releases the rest; overshoot
    /// beyond the hold is paid from the wallet, its credit line, then debt.
    Settle {
        /// Operation id.
        id: Id,
        /// The hold's operation id.
        hold: Id,
        /// Final cumulative total.
        cumulative: u64,
    },
    /// Charges a wallet for something already delivered without a usable
    /// hold (a late final reading after the hold expired): paid from the
    /// balance above the floor, then the credit line, the rest recorded as debt.
    Charge {
        /// Operation id.
        id: Id,
        /// Wallet charged.
        account: Id,
        /// Amount, greater than zero.
        amount: u64,
    },
    /// Releases what is left of a hold.
    Void {
        /// Operation id.
        id: Id,
        /// The hold's operation id.
        hold: Id,
    },
    /// Expires every open hold whose expiry is at or before `now`.
    Expire {
        /// Operation id.
        id: Id,
    },
    /// Returns captured money from revenue to the wallet, once per original.
    Refund {
        /// Operation id.
        id: Id,
        /// A successful capture or settle operation.
        of: Id,
        /// Amount, greater than zero, at most what the hold captured minus
        /// what was already refunded.
        amount: u64,
    },
    /// Correcting reversal of a top-up: the whole amount back to clearing, once.
    Reverse {
        /// Operation id.
        id: Id,
        /// A successful top-up operation.
        of: Id,
    },
}

impl Op {
    /// The operation's id.
    pub fn id(&self) -> Id {
        match *self {
            Op::Open { id, .. }
            | Op::TopUp { id, .. }
            | Op::Hold { id, .. }
            | Op::Capture { id, .. }
            | Op::Settle { id, .. }
            | Op::Charge { id, .. }
            | Op::Void { id, .. }
            | Op::Expire { id }
            | Op::Refund { id, .. }
            | Op::Reverse { id, .. } => id,
        }
    }

    /// The operation's name in the JSON contract (`"open"`, `"topup"`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Open { .. } => "open",
            Op::TopUp { .. } => "topup",
            Op::Hold { .. } => "hold",
            Op::Capture { .. } => "capture",
            Op::Settle { .. } => "settle",
            Op::Charge { .. } => "charge",
            Op::Void { .. } => "void",
            Op::Expire { .. } => "expire",
            Op::Refund { .. } => "refund",
            Op::Reverse { .. } => "reverse",
        }
    }

    fn references(&self) -> Option<Id> {
        match *self {
            Op::Open { account, .. }
            | Op::TopUp { account, .. }
            | Op::Hold { account, .. }
            | Op::Charge { account, .. } => Some(account),
            Op::Capture { hold, .. } | Op::Settle { hold, .. } | Op::Void { hold, .. } => {
                Some(hold)
            }
            Op::Refund { of, .. } | Op::Reverse { of, .. } => Some(of),
            Op::Expire { .. } => None,
        }
    }

    fn amount_must_be_positive(&self) -> bool {
        matches!(
            self,
            Op::TopUp { amount: 0, .. }
                | Op::Hold { amount: 0, .. }
                | Op::Refund { amount: 0, .. }
                | Op::Charge { amount: 0, .. }
        )
    }
}

/// What an operation did, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The wallet exists now.
    Opened,
    /// Money arrived; `debt_repaid` of it went to clear debt first.
    ToppedUp {
        /// Part of the top-up that repaid debt.
        debt_repaid: u64,
    },
    /// The hold reserves `amount` (at most the requested amount).
    Held {
        /// Amount reserved.
        amount: u64,
    },
    /// A capture (or a no-op when `delta` is 0).
    Captured {
        /// Newly captured by this operation.
        delta: u64,
        /// Total captured from the hold so far.
        captured: u64,
        /// What is left of the hold; 0 means exhausted: stop delivering.
        remaining: u64,
        /// Requested cumulative beyond the hold, not captured.
        uncovered: u64,
    },
    /// The hold is settled.
    Settled {
        /// Newly captured from the hold.
        delta: u64,
        /// Released back to the wallet.
        released: u64,
        /// Overshoot paid from the wallet's balance above its floor.
        from_wallet: u64,
        /// Overshoot paid from the credit line (balance below the floor).
        from_credit_line: u64,
        /// Overshoot recorded as debt.
        to_debt: u64,
    },
    /// The wallet was charged (see [`Op::Charge`]).
    Charged {
        /// Paid from the balance above the floor.
        from_wallet: u64,
        /// Paid from the credit line.
        from_credit_line: u64,
        /// Recorded as debt.
        to_debt: u64,
    },
    /// The hold is voided.
    Voided {
        /// Released back to the wallet.
        released: u64,
    },
    /// Holds that reached their expiry were released.
    Expired {
        /// Number of holds expired.
        holds: u32,
        /// Total released.
        released: u64,
    },
    /// Money went back to the wallet.
    Refunded {
        /// Amount refunded.
        amount: u64,
        /// Part of it that repaid debt.
        debt_repaid: u64,
    },
    /// The top-up went back to clearing.
    Reversed {
        /// Amount reversed.
        amount: u64,
    },
}

/// A successful operation's result, as first returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// What happened.
    pub outcome: Outcome,
    /// The wallet's available balance afterwards (0 for `expire`).
    pub available: i64,
    /// The operation took a wallet's available balance from at or above its
    /// low-credit threshold to below it.
    pub low_credit: bool,
}

/// Why an operation was rejected. Declaration order is check order: when
/// several apply, the first listed is returned.
///
/// 1. request shape: [`IdZero`](Self::IdZero), [`AmountZero`](Self::AmountZero);
/// 2. id: [`IdExistsWithDifferentFields`](Self::IdExistsWithDifferentFields)
///    (a repeat with the same fields returns the first result instead);
/// 3. capacity: [`StoreFull`](Self::StoreFull);
/// 4. references: [`AccountExists`](Self::AccountExists) … [`NotReversible`](Self::NotReversible);
/// 5. state: [`HoldNotOpen`](Self::HoldNotOpen) … [`ExpiryNotAfterNow`](Self::ExpiryNotAfterNow);
/// 6. arithmetic: [`Overflow`](Self::Overflow);
/// 7. funds: [`ExceedsRefundable`](Self::ExceedsRefundable), [`InsufficientFunds`](Self::InsufficientFunds).
///
/// Errors from group 4 on are recorded under the id: retrying it returns the
/// same error forever (a new attempt needs a new id). Groups 1–3 are not
/// recorded and never move money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// An id (the operation's or a referenced one) is zero.
    #[error("id must not be zero")]
    IdZero,
    /// Top-up, hold and refund amounts must be greater than zero.
    #[error("amount must not be zero")]
    AmountZero,
    /// The id was used by an operation with different fields.
    #[error("id exists with different fields")]
    IdExistsWithDifferentFields,
    /// A fixed-capacity store has no room; nothing was recorded.
    #[error("ledger store is full")]
    StoreFull,
    /// `open` names an account that already exists.
    #[error("account {0} already exists")]
    AccountExists(Id),
    /// The named account does not exist.
    #[error("account {0} not found")]
    AccountNotFound(Id),
    /// The named hold does not exist.
    #[error("hold {0} not found")]
    HoldNotFound(Id),
    /// The refunded or reversed operation does not exist.
    #[error("operation {0} not found")]
    OriginalNotFound(Id),
    /// Only successful captures and settles can be refunded.
    #[error("operation {0} is not a successful capture or settle")]
    NotRefundable(Id),
    /// Only successful top-ups can be reversed.
    #[error("operation {0} is not a successful top-up")]
    NotReversible(Id),
    /// The hold was already settled, voided or expired.
    #[error("hold is not open: {0:?}")]
    HoldNotOpen(HoldState),
    /// The hold's expiry instant has passed.
    #[error("hold expired at {0:?}")]
    HoldExpired(Timestamp),
    /// The original was already refunded.
    #[error("operation {0} was already refunded")]
    AlreadyRefunded(Id),
    /// The top-up was already reversed.
    #[error("operation {0} was already reversed")]
    AlreadyReversed(Id),
    /// A hold's expiry must be later than `now`.
    #[error("expiry is not after now")]
    ExpiryNotAfterNow,
    /// A balance would leave the `i64` range of minor units.
    #[error("arithmetic overflow")]
    Overflow,
    /// The refund is larger than what is left to refund.
    #[error("refund exceeds the refundable {refundable} minor units")]
    ExceedsRefundable {
        /// What is left to refund on the hold.
        refundable: u64,
    },
    /// The wallet's available balance does not cover the operation.
    #[error("insufficient funds: {available} minor units available")]
    InsufficientFunds {
        /// Available balance at the time.
        available: i64,
    },
}

impl LedgerError {
    /// The snake_case code used in result lines and journals.
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::IdZero => "id_zero",
            LedgerError::AmountZero => "amount_zero",
            LedgerError::IdExistsWithDifferentFields => "id_exists_with_different_fields",
            LedgerError::StoreFull => "store_full",
            LedgerError::AccountExists(_) => "account_exists",
            LedgerError::AccountNotFound(_) => "account_not_found",
            LedgerError::HoldNotFound(_) => "hold_not_found",
            LedgerError::OriginalNotFound(_) => "original_not_found",
            LedgerError::NotRefundable(_) => "not_refundable",
            LedgerError::NotReversible(_) => "not_reversible",
            LedgerError::HoldNotOpen(_) => "hold_not_open",
            LedgerError::HoldExpired(_) => "hold_expired",
            LedgerError::AlreadyRefunded(_) => "already_refunded",
            LedgerError::AlreadyReversed(_) => "already_reversed",
            LedgerError::ExpiryNotAfterNow => "expiry_not_after_now",
            LedgerError::Overflow => "overflow",
            LedgerError::ExceedsRefundable { .. } => "exceeds_refundable",
            LedgerError::InsufficientFunds { .. } => "insufficient_funds",
        }
    }

    /// Whether this failure is recorded under the operation's id.
    pub fn is_recorded(&self) -> bool {
        !matches!(
            self,
            LedgerError::IdZero
                | LedgerError::AmountZero
                | LedgerError::IdExistsWithDifferentFields
                | LedgerError::StoreFull
        )
    }
}

/// How a reply relates to the operation's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// First time this id was seen: the result was recorded and the
    /// operation must be journaled before it is acknowledged.
    New,
    /// The id was seen with the same fields: this is the first result again
    /// (`exists` in result lines); nothing changed.
    Repeat,
    /// Rejected without recording anything (shape, different fields, full).
    Rejected,
}

/// The answer to [`Ledger::apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The result (the first one for a repeat).
    pub result: Result<Applied, LedgerError>,
    /// Whether the reply is new, a repeat, or an unrecorded rejection.
    pub status: Status,
}

/// Lifecycle of a hold; it leaves `Open` exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldState {
    /// Captures, settle, void and expiry are possible.
    Open,
    /// Settled with a final cumulative amount.
    Settled,
    /// Voided.
    Voided,
    /// Expired.
    Expired,
}

/// A wallet and its debt. Posted amounts only grow, so
/// `balance = credits − debits` and Σ debits = Σ credits are checkable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    /// Reserve floor, minor units.
    pub floor: u64,
    /// Credit line below the floor, minor units.
    pub credit_line: u64,
    /// Low-credit threshold on `available`.
    pub low_credit: u64,
    /// Posted debits of the wallet.
    pub debits: u128,
    /// Posted credits of the wallet.
    pub credits: u128,
    /// Σ over open holds of (reserved − captured).
    pub held: u64,
    /// Posted debits of the wallet's debt account (debt incurred).
    pub debt_debits: u128,
    /// Posted credits of the wallet's debt account (debt repaid).
    pub debt_credits: u128,
}

impl Account {
    /// Posted balance, `credits − debits`.
    pub fn balance(&self) -> i128 {
        signed_difference(self.credits, self.debits)
    }

    /// Balance minus floor minus open holds; what a new hold may reserve.
    pub fn available(&self) -> i128 {
        self.balance()
            .saturating_sub(i128::from(self.floor))
            .saturating_sub(i128::from(self.held))
    }

    /// Outstanding debt.
    pub fn debt(&self) -> i128 {
        signed_difference(self.debt_debits, self.debt_credits)
    }

    fn lowest_allowed(&self) -> i128 {
        i128::from(self.floor) - i128::from(self.credit_line)
    }
}

fn signed_difference(plus: u128, minus: u128) -> i128 {
    // Posted totals stay far below 2^127: each operation adds at most
    // u64::MAX, so 2^63 operations would be needed to get there.
    i128::try_from(plus).unwrap_or(i128::MAX) - i128::try_from(minus).unwrap_or(i128::MAX)
}

/// A hold and its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// Wallet the hold reserves from.
    pub account: Id,
    /// Amount reserved when the hold was placed.
    pub amount: u64,
    /// Captured so far, never above `amount`.
    pub captured: u64,
    /// Settle overshoot beyond `amount` (paid by wallet, credit line or debt).
    pub overshoot: u64,
    /// Refunded so far, never above `captured + overshoot`.
    pub refunded: u64,
    /// Expiry instant.
    pub expires: Timestamp,
    /// Lifecycle state.
    pub state: HoldState,
}

impl Hold {
    /// What is still reserved: `amount − captured`.
    pub fn remaining(&self) -> u64 {
        // Saturating so that even tables built by hand never make this panic.
        self.amount.saturating_sub(self.captured)
    }
}

/// An operation as recorded under its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Position in the ledger's history, from 1.
    pub seq: u64,
    /// The `now` the operation was applied at.
    pub at: Timestamp,
    /// The operation.
    pub op: Op,
    /// Its result.
    pub result: Result<Applied, LedgerError>,
    /// A refund or reversal of this record succeeded.
    pub undone: bool,
}

/// System accounts' posted totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SystemAccounts {
    /// Revenue: credited by captures and debt, debited by refunds.
    pub revenue_debits: u128,
    /// Revenue credits.
    pub revenue_credits: u128,
    /// Top-up clearing: debited by top-ups, credited by reversals; it goes
    /// negative by design (money from outside the ledger).
    pub clearing_debits: u128,
    /// Top-up clearing credits.
    pub clearing_credits: u128,
}

/// An invariant that does not hold (a bug or a corrupted store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvariantError {
    /// Σ debits ≠ Σ credits over all accounts.
    #[error("debits {debits} differ from credits {credits}")]
    Unbalanced {
        /// Σ debits.
        debits: u128,
        /// Σ credits.
        credits: u128,
    },
    /// A wallet, counting its open holds as spent, is below floor − credit
    /// line (or below 0 when that is lower: a new wallet starts at 0).
    #[error("account {0} is below its floor minus credit line")]
    BelowFloor(Id),
    /// A hold captured more than it reserved, or refunded more than captured.
    #[error("hold {0} captured more than it held")]
    HoldOverCaptured(Id),
    /// The Σ of open holds does not match the wallet's `held`.
    #[error("account {0} held amount does not match its open holds")]
    HeldMismatch(Id),
    /// A hold refers to a missing wallet.
    #[error("hold {0} refers to a missing account")]
    DanglingHold(Id),
}

/// The ledger over three tables (accounts, holds, records).
///
/// Use [`HeaplessLedger`] (no allocation), [`MemLedger`] (`alloc`) or
/// [`StdLedger`] (`std`), or [`Ledger::with_tables`] for your own.
#[derive(Debug, Clone)]
pub struct Ledger<A, H, R> {
    scale: Scale,
    accounts: A,
    holds: H,
    records: R,
    seq: u64,
    system: SystemAccounts,
}

/// A ledger in fixed-capacity maps: `ACCOUNTS`, `HOLDS` and `RECORDS` must be
/// powers of two. Every operation id stays recorded (that is what makes ids
/// idempotent), so `RECORDS` bounds the ledger's lifetime between snapshots.
pub type HeaplessLedger<const ACCOUNTS: usize, const HOLDS: usize, const RECORDS: usize> = Ledger<
    heapless::index_map::FnvIndexMap<Id, Account, ACCOUNTS>,
    heapless::index_map::FnvIndexMap<Id, Hold, HOLDS>,
    heapless::index_map::FnvIndexMap<Id, Record, RECORDS>,
>;

/// A ledger in `BTreeMap`s.
#[cfg(feature = "alloc")]
pub type MemLedger = Ledger<
    alloc::collections::BTreeMap<Id, Account>,
    alloc::collections::BTreeMap<Id, Hold>,
    alloc::collections::BTreeMap<Id, Record>,
>;

/// A ledger in `HashMap`s with [`IdHasher`](crate::IdHasher).
#[cfg(feature = "std")]
pub type StdLedger = Ledger<
    std::collections::HashMap<Id, Account, core::hash::BuildHasherDefault<crate::IdHasher>>,
    std::collections::HashMap<Id, Hold, core::hash::BuildHasherDefault<crate::IdHasher>>,
    std::collections::HashMap<Id, Record, core::hash::BuildHasherDefault<crate::IdHasher>>,
>;

#[cfg(feature = "std")]
impl StdLedger {
    /// An empty ledger with room reserved in each table, so a server does
    /// not pause to rehash a large table while it answers.
    pub fn with_capacity(scale: Scale, accounts: usize, holds: usize, records: usize) -> Self {
        Self::with_tables(
            scale,
            std::collections::HashMap::with_capacity_and_hasher(
                accounts,
                core::hash::BuildHasherDefault::default(),
            ),
            std::collections::HashMap::with_capacity_and_hasher(
                holds,
                core::hash::BuildHasherDefault::default(),
            ),
            std::collections::HashMap::with_capacity_and_hasher(
                records,
                core::hash::BuildHasherDefault::default(),
            ),
        )
    }
}

impl<A, H, R> Ledger<A, H, R>
where
    A: Table<Account> + Default,
    H: Table<Hold> + Default,
    R: Table<Record> + Default,
{
    /// An empty ledger with the given currency scale.
    pub fn new(scale: Scale) -> Self {
        Self::with_tables(scale, A::default(), H::default(), R::default())
    }
}

/// What a validated operation will change; applied without further checks.
struct Plan {
    account: Option<(Id, Account)>,
    hold: Option<(Id, Hold)>,
    system: SystemAccounts,
    undo: Option<Id>,
    outcome: Outcome,
    expire_now: bool,
}

impl<A, H, R> Ledger<A, H, R>
where
    A: Table<Account>,
    H: Table<Hold>,
    R: Table<Record>,
{
    /// A ledger over caller-supplied empty tables (a restored ledger comes
    /// from [`replay`](crate::replay), which checks the invariants). Tables
    /// holding inconsistent state give wrong answers, never a panic.
    pub fn with_tables(scale: Scale, accounts: A, holds: H, records: R) -> Self {
        Ledger {
            scale,
            accounts,
            holds,
            records,
            seq: 0,
            system: SystemAccounts::default(),
        }
    }

    /// The currency scale fixed at creation.
    pub fn scale(&self) -> Scale {
        self.scale
    }

    /// Number of recorded operations (the last sequence number).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// A wallet.
    pub fn account(&self, id: Id) -> Option<&Account> {
        self.accounts.get(id)
    }

    /// A hold, by the id of the operation that placed it.
    pub fn hold(&self, id: Id) -> Option<&Hold> {
        self.holds.get(id)
    }

    /// The record of an operation.
    pub fn record(&self, id: Id) -> Option<&Record> {
        self.records.get(id)
    }

    /// Revenue and top-up clearing totals.
    pub fn system(&self) -> SystemAccounts {
        self.system
    }

    /// The three tables, for snapshots.
    pub fn tables(&self) -> (&A, &H, &R) {
        (&self.accounts, &self.holds, &self.records)
    }

    /// Rebuilds a ledger from snapshot parts; the caller (snapshot replay)
    /// checks the invariants before trusting it.
    pub(crate) fn from_parts(
        scale: Scale,
        tables: (A, H, R),
        seq: u64,
        system: SystemAccounts,
    ) -> Self {
        let (accounts, holds, records) = tables;
        Ledger {
            scale,
            accounts,
            holds,
            records,
            seq,
            system,
        }
    }

    /// Applies `op` at `now`. Validates completely, then applies; never
    /// partially applies. Idempotent by `op.id()`.
    pub fn apply(&mut self, op: &Op, now: Timestamp) -> Reply {
        let rejected = |error| Reply {
            result: Err(error),
            status: Status::Rejected,
        };
        if op.id().is_zero() || op.references().is_some_and(Id::is_zero) {
            return rejected(LedgerError::IdZero);
        }
        if op.amount_must_be_positive() {
            return rejected(LedgerError::AmountZero);
        }
        if let Some(record) = self.records.get(op.id()) {
            return if record.op == *op {
                Reply {
                    result: record.result,
                    status: Status::Repeat,
                }
            } else {
                rejected(LedgerError::IdExistsWithDifferentFields)
            };
        }
        if self.records.is_full()
            || (matches!(op, Op::Open { .. }) && self.accounts.is_full())
            || (matches!(op, Op::Hold { .. }) && self.holds.is_full())
        {
            return rejected(LedgerError::StoreFull);
        }
        let result = match self.plan(op, now) {
            Ok(plan) => Ok(self.commit(&plan, now)),
            Err(error) => Err(error),
        };
        // After this point nothing can fail: the record table has room.
        // 2^64 operations cannot happen; wrapping keeps a crafted snapshot from panicking.
        self.seq = self.seq.wrapping_add(1);
        let record = Record {
            seq: self.seq,
            at: now,
            op: *op,
            result,
            undone: false,
        };
        let stored = self.records.insert(op.id(), record);
        debug_assert!(stored, "room was checked before applying");
        Reply {
            result,
            status: Status::New,
        }
    }

    fn wallet(&self, id: Id) -> Result<Account, LedgerError> {
        self.accounts
            .get(id)
            .copied()
            .ok_or(LedgerError::AccountNotFound(id))
    }

    fn open_hold(&self, id: Id, now: Timestamp) -> Result<(Hold, Account), LedgerError> {
        let hold = *self.holds.get(id).ok_or(LedgerError::HoldNotFound(id))?;
        let account = self.wallet(hold.account)?;
        if hold.state != HoldState::Open {
            return Err(LedgerError::HoldNotOpen(hold.state));
        }
        if now >= hold.expires {
            return Err(LedgerError::HoldExpired(hold.expires));
        }
        Ok((hold, account))
    }

    #[allow(clippy::too_many_lines)] // one arm per operation reads best side by side
    fn plan(&self, op: &Op, now: Timestamp) -> Result<Plan, LedgerError> {
        let mut system = self.system;
        let plan = |account, hold, system, outcome| Plan {
            account,
            hold,
            system,
            undo: None,
            outcome,
            expire_now: false,
        };
        match *op {
            Op::Open {
                account,
                floor,
                credit_line,
                low_credit,
                ..
            } => {
                if self.accounts.get(account).is_some() {
                    return Err(LedgerError::AccountExists(account));
                }
                let wallet = Account {
                    floor,
                    credit_line,
                    low_credit,
                    debits: 0,
                    credits: 0,
                    held: 0,
                    debt_debits: 0,
                    debt_credits: 0,
                };
                Ok(plan(Some((account, wallet)), None, system, Outcome::Opened))
            }
            Op::TopUp {
                account, amount, ..
            } => {
                let mut wallet = self.wallet(account)?;
                system.clearing_debits = add(system.clearing_debits, amount)?;
                let debt_repaid = credit_wallet(&mut wallet, amount)?;
                Ok(plan(
                    Some((account, wallet)),
                    None,
                    system,
                    Outcome::ToppedUp { debt_repaid },
                ))
            }
            Op::Hold {
                id,
                account,
                amount,
                expires,
            } => {
                let mut wallet = self.wallet(account)?;
                if expires <= now {
                    return Err(LedgerError::ExpiryNotAfterNow);
                }
                let available = wallet.available();
                if available <= 0 {
                    return Err(LedgerError::InsufficientFunds {
                        available: clamp(available),
                    });
                }
                let reserved = u64::try_from(available).map_or(amount, |a| a.min(amount));
                wallet.held = wallet
                    .held
                    .checked_add(reserved)
                    .ok_or(LedgerError::Overflow)?;
                let hold = Hold {
                    account,
                    amount: reserved,
                    captured: 0,
                    overshoot: 0,
                    refunded: 0,
                    expires,
                    state: HoldState::Open,
                };
                Ok(plan(
                    Some((account, wallet)),
                    Some((id, hold)),
                    system,
                    Outcome::Held { amount: reserved },
                ))
            }
            Op::Capture {
                hold: hold_id,
                cumulative,
                ..
            } => {
                let (mut hold, mut wallet) = self.open_hold(hold_id, now)?;
                let target = cumulative.min(hold.amount).max(hold.captured);
                let delta = target.saturating_sub(hold.captured);
                wallet.debits = add(wallet.debits, delta)?;
                wallet.held = wallet.held.saturating_sub(delta);
                system.revenue_credits = add(system.revenue_credits, delta)?;
                hold.captured = target;
                let outcome = Outcome::Captured {
                    delta,
                    captured: target,
                    remaining: hold.amount.saturating_sub(target),
                    uncovered: cumulative.saturating_sub(hold.amount),
                };
                Ok(plan(
                    Some((hold.account, wallet)),
                    Some((hold_id, hold)),
                    system,
                    outcome,
                ))
            }
            Op::Settle {
                hold: hold_id,
                cumulative,
                ..
            } => {
                let (mut hold, mut wallet) = self.open_hold(hold_id, now)?;
                let target = cumulative.min(hold.amount).max(hold.captured);
                let delta = target.saturating_sub(hold.captured);
                let released = hold.amount.saturating_sub(target);
                wallet.held = wallet.held.saturating_sub(hold.remaining());
                let overshoot = cumulative.saturating_sub(hold.amount);
                wallet.debits = add(wallet.debits, delta)?;
                system.revenue_credits = add(system.revenue_credits, delta)?;
                let (from_wallet, from_credit_line, to_debt) =
                    charge_wallet(&mut wallet, &mut system, overshoot)?;
                hold.captured = target;
                hold.overshoot = overshoot;
                hold.state = HoldState::Settled;
                let outcome = Outcome::Settled {
                    delta,
                    released,
                    from_wallet,
                    from_credit_line,
                    to_debt,
                };
                Ok(plan(
                    Some((hold.account, wallet)),
                    Some((hold_id, hold)),
                    system,
                    outcome,
                ))
            }
            Op::Charge {
                account, amount, ..
            } => {
                let mut wallet = self.wallet(account)?;
                let (from_wallet, from_credit_line, to_debt) =
                    charge_wallet(&mut wallet, &mut system, amount)?;
                let outcome = Outcome::Charged {
                    from_wallet,
                    from_credit_line,
                    to_debt,
                };
                Ok(plan(Some((account, wallet)), None, system, outcome))
            }
            Op::Void { hold: hold_id, .. } => {
                let hold = *self
                    .holds
                    .get(hold_id)
                    .ok_or(LedgerError::HoldNotFound(hold_id))?;
                let mut wallet = self.wallet(hold.account)?;
                if hold.state != HoldState::Open {
                    return Err(LedgerError::HoldNotOpen(hold.state));
                }
                let released = hold.remaining();
                wallet.held = wallet.held.saturating_sub(released);
                let voided = Hold {
                    state: HoldState::Voided,
                    ..hold
                };
                Ok(plan(
                    Some((hold.account, wallet)),
                    Some((hold_id, voided)),
                    system,
                    Outcome::Voided { released },
                ))
            }
            Op::Expire { .. } => {
                let mut holds = 0u32;
                let mut released = 0u64;
                self.holds.for_each(|_, hold| {
                    if hold.state == HoldState::Open && hold.expires <= now {
                        holds = holds.saturating_add(1);
                        released = released.saturating_add(hold.remaining());
                    }
                });
                let mut expired = plan(None, None, system, Outcome::Expired { holds, released });
                expired.expire_now = true;
                Ok(expired)
            }
            Op::Refund { of, amount, .. } => {
                let original = self
                    .records
                    .get(of)
                    .ok_or(LedgerError::OriginalNotFound(of))?;
                let (Op::Capture { hold: hold_id, .. } | Op::Settle { hold: hold_id, .. }, Ok(_)) =
                    (original.op, original.result)
                else {
                    return Err(LedgerError::NotRefundable(of));
                };
                let mut hold = *self
                    .holds
                    .get(hold_id)
                    .ok_or(LedgerError::HoldNotFound(hold_id))?;
                let mut wallet = self.wallet(hold.account)?;
                if original.undone {
                    return Err(LedgerError::AlreadyRefunded(of));
                }
                let refundable = u64::try_from(
                    u128::from(hold.captured) + u128::from(hold.overshoot)
                        - u128::from(hold.refunded),
                )
                .map_err(|_| LedgerError::Overflow)?;
                if amount > refundable {
                    return Err(LedgerError::ExceedsRefundable { refundable });
                }
                system.revenue_debits = add(system.revenue_debits, amount)?;
                let debt_repaid = credit_wallet(&mut wallet, amount)?;
                hold.refunded = hold
                    .refunded
                    .checked_add(amount)
                    .ok_or(LedgerError::Overflow)?;
                let mut refund = plan(
                    Some((hold.account, wallet)),
                    Some((hold_id, hold)),
                    system,
                    Outcome::Refunded {
                        amount,
                        debt_repaid,
                    },
                );
                refund.undo = Some(of);
                Ok(refund)
            }
            Op::Reverse { of, .. } => {
                let original = self
                    .records
                    .get(of)
                    .ok_or(LedgerError::OriginalNotFound(of))?;
                let (
                    Op::TopUp {
                        account, amount, ..
                    },
                    Ok(_),
                ) = (original.op, original.result)
                else {
                    return Err(LedgerError::NotReversible(of));
                };
                let mut wallet = self.wallet(account)?;
                if original.undone {
                    return Err(LedgerError::AlreadyReversed(of));
                }
                let available = wallet.available();
                if available < i128::from(amount) {
                    return Err(LedgerError::InsufficientFunds {
                        available: clamp(available),
                    });
                }
                wallet.debits = add(wallet.debits, amount)?;
                system.clearing_credits = add(system.clearing_credits, amount)?;
                let mut reverse = plan(
                    Some((account, wallet)),
                    None,
                    system,
                    Outcome::Reversed { amount },
                );
                reverse.undo = Some(of);
                Ok(reverse)
            }
        }
    }

    fn commit(&mut self, plan: &Plan, now: Timestamp) -> Applied {
        self.system = plan.system;
        let mut low_credit = false;
        let mut available = 0;
        if let Some((id, wallet)) = plan.account {
            available = clamp(wallet.available());
            if let Some(slot) = self.accounts.get_mut(id) {
                low_credit = crossed_low(slot.available(), &wallet);
                *slot = wallet;
            } else {
                let stored = self.accounts.insert(id, wallet);
                debug_assert!(stored, "room was checked before applying");
            }
        }
        if let Some((id, hold)) = plan.hold {
            upsert(&mut self.holds, id, hold);
        }
        if let Some(of) = plan.undo
            && let Some(original) = self.records.get_mut(of)
        {
            original.undone = true;
        }
        if plan.expire_now {
            self.expire_holds(now);
        }
        Applied {
            outcome: plan.outcome,
            available,
            low_credit,
        }
    }

    /// Expires open holds due at `now`. A release only raises `available`,
    /// so it never crosses a low-credit threshold.
    fn expire_holds(&mut self, now: Timestamp) {
        let accounts = &mut self.accounts;
        self.holds.for_each_mut(|_, hold| {
            if hold.state == HoldState::Open && hold.expires <= now {
                hold.state = HoldState::Expired;
                if let Some(wallet) = accounts.get_mut(hold.account) {
                    wallet.held = wallet.held.saturating_sub(hold.remaining());
                }
            }
        });
    }

    /// Checks every invariant over the whole state.
    ///
    /// # Errors
    ///
    /// The first [`InvariantError`] found.
    pub fn check_invariants(&self) -> Result<(), InvariantError> {
        // Totals from a restored snapshot are untrusted: wrap instead of
        // panicking; any wrap shows up as an imbalance.
        let mut debits = self
            .system
            .revenue_debits
            .wrapping_add(self.system.clearing_debits);
        let mut credits = self
            .system
            .revenue_credits
            .wrapping_add(self.system.clearing_credits);
        let mut failure = None;
        self.accounts.for_each(|id, wallet| {
            debits = debits
                .wrapping_add(wallet.debits)
                .wrapping_add(wallet.debt_debits);
            credits = credits
                .wrapping_add(wallet.credits)
                .wrapping_add(wallet.debt_credits);
            // A wallet opened with a positive floor starts below it at 0, so
            // the bound is the lower of 0 and floor − credit line.
            if wallet.balance().saturating_sub(i128::from(wallet.held))
                < wallet.lowest_allowed().min(0)
            {
                failure.get_or_insert(InvariantError::BelowFloor(id));
            }
        });
        if debits != credits {
            return Err(InvariantError::Unbalanced { debits, credits });
        }
        if let Some(failure) = failure {
            return Err(failure);
        }
        self.holds.for_each(|id, hold| {
            if hold.captured > hold.amount
                || u128::from(hold.refunded)
                    > u128::from(hold.captured) + u128::from(hold.overshoot)
            {
                failure.get_or_insert(InvariantError::HoldOverCaptured(id));
            }
            if self.accounts.get(hold.account).is_none() {
                failure.get_or_insert(InvariantError::DanglingHold(id));
            }
        });
        if let Some(failure) = failure {
            return Err(failure);
        }
        self.check_held(&mut failure);
        failure.map_or(Ok(()), Err)
    }

    /// Each wallet's `held` must equal the sum over its open holds.
    #[cfg(feature = "alloc")]
    fn check_held(&self, failure: &mut Option<InvariantError>) {
        let mut open = alloc::collections::BTreeMap::<Id, u128>::new();
        self.holds.for_each(|_, hold| {
            if hold.state == HoldState::Open {
                *open.entry(hold.account).or_default() += u128::from(hold.remaining());
            }
        });
        self.accounts.for_each(|id, wallet| {
            if open.get(&id).copied().unwrap_or(0) != u128::from(wallet.held) {
                failure.get_or_insert(InvariantError::HeldMismatch(id));
            }
        });
    }

    /// Without allocation: one pass over the holds per wallet.
    #[cfg(not(feature = "alloc"))]
    fn check_held(&self, failure: &mut Option<InvariantError>) {
        self.accounts.for_each(|id, wallet| {
            let mut open = 0u128;
            self.holds.for_each(|_, hold| {
                if hold.account == id && hold.state == HoldState::Open {
                    open += u128::from(hold.remaining());
                }
            });
            if open != u128::from(wallet.held) {
                failure.get_or_insert(InvariantError::HeldMismatch(id));
            }
        });
    }

    /// Visits every wallet.
    pub fn for_each_account(&self, f: impl FnMut(Id, &Account)) {
        self.accounts.for_each(f);
    }
}

/// Replaces or inserts; room for inserts was checked before applying.
fn upsert<V: Copy>(table: &mut impl Table<V>, id: Id, value: V) {
    if let Some(slot) = table.get_mut(id) {
        *slot = value;
    } else {
        let stored = table.insert(id, value);
        debug_assert!(stored, "room was checked before applying");
    }
}

/// Charges `amount` for something already delivered: from the balance
/// above the floor, then the credit line, the rest as debt — never from
/// money other open holds reserve. Returns the three parts.
fn charge_wallet(
    wallet: &mut Account,
    system: &mut SystemAccounts,
    amount: u64,
) -> Result<(u64, u64, u64), LedgerError> {
    let free = wallet.balance().saturating_sub(i128::from(wallet.held));
    let above_floor = free.saturating_sub(i128::from(wallet.floor));
    let from_wallet = small(above_floor, amount);
    let paid = small(free.saturating_sub(wallet.lowest_allowed()), amount);
    let to_debt = amount - paid;
    wallet.debits = add(wallet.debits, paid)?;
    wallet.debt_debits = add(wallet.debt_debits, to_debt)?;
    system.revenue_credits = add(system.revenue_credits, amount)?;
    Ok((from_wallet, paid - from_wallet, to_debt))
}

/// Credits a wallet with incoming money, repaying debt first; returns the
/// repaid part.
fn credit_wallet(wallet: &mut Account, amount: u64) -> Result<u64, LedgerError> {
    wallet.credits = add(wallet.credits, amount)?;
    let repay = small(wallet.debt(), amount);
    wallet.debits = add(wallet.debits, repay)?;
    wallet.debt_credits = add(wallet.debt_credits, repay)?;
    if i64::try_from(wallet.balance()).is_err() {
        return Err(LedgerError::Overflow);
    }
    Ok(repay)
}

fn add(total: u128, amount: u64) -> Result<u128, LedgerError> {
    total
        .checked_add(u128::from(amount))
        .ok_or(LedgerError::Overflow)
}

/// `min(limit, amount)` for a non-negative `limit`.
fn small(limit: i128, amount: u64) -> u64 {
    u64::try_from(limit.max(0)).map_or(amount, |limit| limit.min(amount))
}

fn clamp(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

fn crossed_low(before: i128, after: &Account) -> bool {
    let threshold = i128::from(after.low_credit);
    before >= threshold && after.available() < threshold
}

/// One line of an account statement: an operation that changed the
/// wallet's balance or debt, with running totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementLine {
    /// Sequence number of the operation.
    pub seq: u64,
    /// When it was applied.
    pub at: Timestamp,
    /// The operation.
    pub op: Op,
    /// Change of the wallet balance, minor units.
    pub change: i128,
    /// Balance after the operation.
    pub balance: i128,
    /// Debt after the operation.
    pub debt: i128,
}

impl<A, H, R> Ledger<A, H, R>
where
    A: Table<Account>,
    H: Table<Hold>,
    R: Table<Record>,
{
    /// The wallet a successful record moved money of, with the balance and
    /// debt changes.
    #[cfg(feature = "alloc")]
    fn effect(&self, record: &Record) -> Option<(Id, i128, i128)> {
        let applied = record.result.ok()?;
        let hold_account = |hold: Id| self.holds.get(hold).map(|h| h.account);
        let wide = i128::from;
        match (record.op, applied.outcome) {
            (Op::Open { account, .. }, Outcome::Opened) => Some((account, 0, 0)),
            (
                Op::TopUp {
                    account, amount, ..
                },
                Outcome::ToppedUp { debt_repaid },
            ) => Some((
                account,
                wide(amount) - wide(debt_repaid),
                -wide(debt_repaid),
            )),
            (Op::Capture { hold, .. }, Outcome::Captured { delta, .. }) if delta > 0 => {
                Some((hold_account(hold)?, -wide(delta), 0))
            }
            (
                Op::Settle { hold, .. },
                Outcome::Settled {
                    delta,
                    from_wallet,
                    from_credit_line,
                    to_debt,
                    ..
                },
            ) => Some((
                hold_account(hold)?,
                -(wide(delta) + wide(from_wallet) + wide(from_credit_line)),
                wide(to_debt),
            )),
            (
                Op::Charge { account, .. },
                Outcome::Charged {
                    from_wallet,
                    from_credit_line,
                    to_debt,
                },
            ) => Some((
                account,
                -(wide(from_wallet) + wide(from_credit_line)),
                wide(to_debt),
            )),
            (
                Op::Refund { of, .. },
                Outcome::Refunded {
                    amount,
                    debt_repaid,
                },
            ) => {
                let (Op::Capture { hold, .. } | Op::Settle { hold, .. }) = self.records.get(of)?.op
                else {
                    return None;
                };
                Some((
                    hold_account(hold)?,
                    wide(amount) - wide(debt_repaid),
                    -wide(debt_repaid),
                ))
            }
            (Op::Reverse { of, .. }, Outcome::Reversed { amount }) => {
                match self.records.get(of)?.op {
                    Op::TopUp { account, .. } => Some((account, -wide(amount), 0)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The wallet's history in operation order with running balance and
    /// debt: the raw material of a fee report. Holds, releases and no-op
    /// captures move no posted money and do not appear.
    #[cfg(feature = "alloc")]
    pub fn statement(&self, account: Id) -> alloc::vec::Vec<StatementLine> {
        let mut lines = alloc::vec::Vec::new();
        self.records.for_each(|_, record| {
            if let Some((owner, change, debt)) = self.effect(record)
                && owner == account
            {
                lines.push(StatementLine {
                    seq: record.seq,
                    at: record.at,
                    op: record.op,
                    change,
                    balance: 0,
                    debt,
                });
            }
        });
        lines.sort_unstable_by_key(|line| line.seq);
        let (mut balance, mut debt) = (0i128, 0i128);
        for line in &mut lines {
            balance += line.change;
            debt += line.debt;
            line.balance = balance;
            line.debt = debt;
        }
        lines
    }
}
