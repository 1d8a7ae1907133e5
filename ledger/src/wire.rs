//! Binary encoding of operations, results and snapshots (little-endian).
//!
//! Used inside journal records, whose frames carry the checksums; this
//! layer only has to reject short or unknown input, never panic.

use crate::ledger::{
    Account, Applied, Hold, HoldState, LedgerError, Op, Outcome, Record, SystemAccounts,
};
use crate::table::Table;
use crate::{Id, Ledger, Scale, Timestamp};

/// Somewhere encoded bytes go.
pub(crate) trait Sink {
    /// Appends `bytes`; `false` when there is no room.
    fn put(&mut self, bytes: &[u8]) -> bool;
}

impl<const N: usize> Sink for heapless::Vec<u8, N> {
    fn put(&mut self, bytes: &[u8]) -> bool {
        self.extend_from_slice(bytes).is_ok()
    }
}

#[cfg(feature = "alloc")]
impl Sink for alloc::vec::Vec<u8> {
    fn put(&mut self, bytes: &[u8]) -> bool {
        self.extend_from_slice(bytes);
        true
    }
}

/// Writes values, remembering whether any did not fit.
pub(crate) struct Writer<'a, S: Sink> {
    sink: &'a mut S,
    ok: bool,
}

impl<'a, S: Sink> Writer<'a, S> {
    pub(crate) fn new(sink: &'a mut S) -> Self {
        Writer { sink, ok: true }
    }
    pub(crate) fn finish(self) -> bool {
        self.ok
    }
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.ok &= self.sink.put(bytes);
    }
    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    pub(crate) fn i64(&mut self, v: i64) {
        self.bytes(&v.to_le_bytes());
    }
    pub(crate) fn u128(&mut self, v: u128) {
        self.bytes(&v.to_le_bytes());
    }
    fn id(&mut self, id: Id) {
        self.u128(id.raw());
    }
}

/// Why stored bytes could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes end before the value does.
    #[error("truncated at byte {offset}")]
    Truncated {
        /// Offset where more bytes were needed.
        offset: usize,
    },
    /// An unknown tag byte.
    #[error("unknown tag {tag} at byte {offset}")]
    UnknownTag {
        /// The tag.
        tag: u8,
        /// Its offset.
        offset: usize,
    },
    /// Bytes left over after the value.
    #[error("{extra} trailing bytes")]
    Trailing {
        /// How many.
        extra: usize,
    },
    /// A snapshot does not fit the ledger's fixed-capacity tables, or holds
    /// a value no valid ledger has.
    #[error("snapshot does not fit or is inconsistent")]
    BadSnapshot,
}

/// Reads values from a byte slice without ever panicking.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, offset: 0 }
    }
    pub(crate) fn take<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let chunk = self
            .bytes
            .get(self.offset..self.offset.saturating_add(N))
            .and_then(|s| <[u8; N]>::try_from(s).ok())
            .ok_or(DecodeError::Truncated {
                offset: self.offset,
            })?;
        self.offset += N;
        Ok(chunk)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take::<1>()?[0])
    }
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.take().map(u32::from_le_bytes)
    }
    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        self.take().map(u64::from_le_bytes)
    }
    pub(crate) fn i64(&mut self) -> Result<i64, DecodeError> {
        self.take().map(i64::from_le_bytes)
    }
    pub(crate) fn u128(&mut self) -> Result<u128, DecodeError> {
        self.take().map(u128::from_le_bytes)
    }
    fn id(&mut self) -> Result<Id, DecodeError> {
        self.u128().map(Id::from_raw)
    }
    fn time(&mut self) -> Result<Timestamp, DecodeError> {
        self.i64().map(Timestamp)
    }
    fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(self.unknown(tag)),
        }
    }
    fn unknown(&self, tag: u8) -> DecodeError {
        DecodeError::UnknownTag {
            tag,
            offset: self.offset.saturating_sub(1),
        }
    }
    pub(crate) fn end(&self) -> Result<(), DecodeError> {
        match self.bytes.len().saturating_sub(self.offset) {
            0 => Ok(()),
            extra => Err(DecodeError::Trailing { extra }),
        }
    }
}

pub(crate) fn put_op<S: Sink>(w: &mut Writer<'_, S>, op: &Op) {
    match *op {
        Op::Open {
            id,
            account,
            floor,
            credit_line,
            low_credit,
        } => {
            w.u8(1);
            w.id(id);
            w.id(account);
            w.u64(floor);
            w.u64(credit_line);
            w.u64(low_credit);
        }
        Op::TopUp {
            id,
            account,
            amount,
        } => {
            w.u8(2);
            w.id(id);
            w.id(account);
            w.u64(amount);
        }
        Op::Hold {
            id,
            account,
            amount,
            expires,
        } => {
            w.u8(3);
            w.id(id);
            w.id(account);
            w.u64(amount);
            w.i64(expires.0);
        }
        Op::Capture {
            id,
            hold,
            cumulative,
        }
        | Op::Settle {
            id,
            hold,
            cumulative,
        } => {
            w.u8(if matches!(op, Op::Capture { .. }) {
                4
            } else {
                5
            });
            w.id(id);
            w.id(hold);
            w.u64(cumulative);
        }
        Op::Charge {
            id,
            account,
            amount,
        } => {
            w.u8(10);
            w.id(id);
            w.id(account);
            w.u64(amount);
        }
        Op::Void { id, hold } => {
            w.u8(6);
            w.id(id);
            w.id(hold);
        }
        Op::Expire { id } => {
            w.u8(7);
            w.id(id);
        }
        Op::Refund { id, of, amount } => {
            w.u8(8);
            w.id(id);
            w.id(of);
            w.u64(amount);
        }
        Op::Reverse { id, of } => {
            w.u8(9);
            w.id(id);
            w.id(of);
        }
    }
}

pub(crate) fn get_op(r: &mut Reader<'_>) -> Result<Op, DecodeError> {
    let tag = r.u8()?;
    let id = r.id()?;
    Ok(match tag {
        1 => Op::Open {
            id,
            account: r.id()?,
            floor: r.u64()?,
            credit_line: r.u64()?,
            low_credit: r.u64()?,
        },
        2 => Op::TopUp {
            id,
            account: r.id()?,
            amount: r.u64()?,
        },
        3 => Op::Hold {
            id,
            account: r.id()?,
            amount: r.u64()?,
            expires: r.time()?,
        },
        4 => Op::Capture {
            id,
            hold: r.id()?,
            cumulative: r.u64()?,
        },
        5 => Op::Settle {
            id,
            hold: r.id()?,
            cumulative: r.u64()?,
        },
        6 => Op::Void { id, hold: r.id()? },
        7 => Op::Expire { id },
        8 => Op::Refund {
            id,
            of: r.id()?,
            amount: r.u64()?,
        },
        9 => Op::Reverse { id, of: r.id()? },
        10 => Op::Charge {
            id,
            account: r.id()?,
            amount: r.u64()?,
        },
        _ => return Err(DecodeError::UnknownTag { tag, offset: 0 }),
    })
}

#[cfg_attr(not(feature = "alloc"), allow(dead_code))] // snapshots need a growable buffer
fn hold_state_tag(state: HoldState) -> u8 {
    match state {
        HoldState::Open => 0,
        HoldState::Settled => 1,
        HoldState::Voided => 2,
        HoldState::Expired => 3,
    }
}

fn get_hold_state(r: &mut Reader<'_>) -> Result<HoldState, DecodeError> {
    Ok(match r.u8()? {
        0 => HoldState::Open,
        1 => HoldState::Settled,
        2 => HoldState::Voided,
        3 => HoldState::Expired,
        tag => return Err(r.unknown(tag)),
    })
}

#[cfg_attr(not(feature = "alloc"), allow(dead_code))] // snapshots need a growable buffer
fn put_result<S: Sink>(w: &mut Writer<'_, S>, result: &Result<Applied, LedgerError>) {
    match result {
        Ok(applied) => {
            let (tag, values): (u8, [u64; 5]) = match applied.outcome {
                Outcome::Opened => (1, [0; 5]),
                Outcome::ToppedUp { debt_repaid } => (2, [debt_repaid, 0, 0, 0, 0]),
                Outcome::Held { amount } => (3, [amount, 0, 0, 0, 0]),
                Outcome::Captured {
                    delta,
                    captured,
                    remaining,
                    uncovered,
                } => (4, [delta, captured, remaining, uncovered, 0]),
                Outcome::Settled {
                    delta,
                    released,
                    from_wallet,
                    from_credit_line,
                    to_debt,
                } => (5, [delta, released, from_wallet, from_credit_line, to_debt]),
                Outcome::Voided { released } => (6, [released, 0, 0, 0, 0]),
                Outcome::Expired { holds, released } => (7, [u64::from(holds), released, 0, 0, 0]),
                Outcome::Refunded {
                    amount,
                    debt_repaid,
                } => (8, [amount, debt_repaid, 0, 0, 0]),
                Outcome::Reversed { amount } => (9, [amount, 0, 0, 0, 0]),
                Outcome::Charged {
                    from_wallet,
                    from_credit_line,
                    to_debt,
                } => (10, [from_wallet, from_credit_line, to_debt, 0, 0]),
            };
            w.u8(tag);
            for value in values {
                w.u64(value);
            }
            w.i64(applied.available);
            w.u8(u8::from(applied.low_credit));
        }
        Err(error) => {
            w.u8(0);
            let (code, data): (u8, u128) = match *error {
                LedgerError::IdZero => (1, 0),
                LedgerError::AmountZero => (2, 0),
                LedgerError::IdExistsWithDifferentFields => (3, 0),
                LedgerError::StoreFull => (4, 0),
                LedgerError::AccountExists(id) => (5, id.raw()),
                LedgerError::AccountNotFound(id) => (6, id.raw()),
                LedgerError::HoldNotFound(id) => (7, id.raw()),
                LedgerError::OriginalNotFound(id) => (8, id.raw()),
                LedgerError::NotRefundable(id) => (9, id.raw()),
                LedgerError::NotReversible(id) => (10, id.raw()),
                LedgerError::HoldNotOpen(state) => (11, u128::from(hold_state_tag(state))),
                LedgerError::HoldExpired(at) => (12, u128::from(at.0.cast_unsigned())),
                LedgerError::AlreadyRefunded(id) => (13, id.raw()),
                LedgerError::AlreadyReversed(id) => (14, id.raw()),
                LedgerError::ExpiryNotAfterNow => (15, 0),
                LedgerError::Overflow => (16, 0),
                LedgerError::ExceedsRefundable { refundable } => (17, u128::from(refundable)),
                LedgerError::InsufficientFunds { available } => {
                    (18, u128::from(available.cast_unsigned()))
                }
            };
            w.u8(code);
            w.u128(data);
        }
    }
}

fn get_result(r: &mut Reader<'_>) -> Result<Result<Applied, LedgerError>, DecodeError> {
    let tag = r.u8()?;
    if tag == 0 {
        let code = r.u8()?;
        let data = r.u128()?;
        let id = Id::from_raw(data);
        // Truncation is the inverse of the widening in `put_result`.
        #[allow(clippy::cast_possible_truncation)]
        let low = data as u64;
        return Ok(Err(match code {
            1 => LedgerError::IdZero,
            2 => LedgerError::AmountZero,
            3 => LedgerError::IdExistsWithDifferentFields,
            4 => LedgerError::StoreFull,
            5 => LedgerError::AccountExists(id),
            6 => LedgerError::AccountNotFound(id),
            7 => LedgerError::HoldNotFound(id),
            8 => LedgerError::OriginalNotFound(id),
            9 => LedgerError::NotRefundable(id),
            10 => LedgerError::NotReversible(id),
            11 => LedgerError::HoldNotOpen(get_hold_state(&mut Reader::new(&low.to_le_bytes()))?),
            12 => LedgerError::HoldExpired(Timestamp(low.cast_signed())),
            13 => LedgerError::AlreadyRefunded(id),
            14 => LedgerError::AlreadyReversed(id),
            15 => LedgerError::ExpiryNotAfterNow,
            16 => LedgerError::Overflow,
            17 => LedgerError::ExceedsRefundable { refundable: low },
            18 => LedgerError::InsufficientFunds {
                available: low.cast_signed(),
            },
            _ => return Err(r.unknown(code)),
        }));
    }
    let v = [r.u64()?, r.u64()?, r.u64()?, r.u64()?, r.u64()?];
    let outcome = match tag {
        1 => Outcome::Opened,
        2 => Outcome::ToppedUp { debt_repaid: v[0] },
        3 => Outcome::Held { amount: v[0] },
        4 => Outcome::Captured {
            delta: v[0],
            captured: v[1],
            remaining: v[2],
            uncovered: v[3],
        },
        5 => Outcome::Settled {
            delta: v[0],
            released: v[1],
            from_wallet: v[2],
            from_credit_line: v[3],
            to_debt: v[4],
        },
        6 => Outcome::Voided { released: v[0] },
        7 => Outcome::Expired {
            holds: u32::try_from(v[0]).map_err(|_| DecodeError::BadSnapshot)?,
            released: v[1],
        },
        8 => Outcome::Refunded {
            amount: v[0],
            debt_repaid: v[1],
        },
        9 => Outcome::Reversed { amount: v[0] },
        10 => Outcome::Charged {
            from_wallet: v[0],
            from_credit_line: v[1],
            to_debt: v[2],
        },
        _ => return Err(r.unknown(tag)),
    };
    Ok(Ok(Applied {
        outcome,
        available: r.i64()?,
        low_credit: r.bool()?,
    }))
}

/// Writes the whole ledger state.
#[cfg_attr(not(feature = "alloc"), allow(dead_code))] // snapshots need a growable buffer
pub(crate) fn put_snapshot<S: Sink, A, H, R>(w: &mut Writer<'_, S>, ledger: &Ledger<A, H, R>)
where
    A: Table<Account>,
    H: Table<Hold>,
    R: Table<Record>,
{
    let (accounts, holds, records) = ledger.tables();
    let system = ledger.system();
    w.u8(ledger.scale().places());
    w.u64(ledger.seq());
    for total in [
        system.revenue_debits,
        system.revenue_credits,
        system.clearing_debits,
        system.clearing_credits,
    ] {
        w.u128(total);
    }
    w.u64(accounts.len() as u64);
    accounts.for_each(|id, a| {
        w.id(id);
        for v in [a.floor, a.credit_line, a.low_credit, a.held] {
            w.u64(v);
        }
        for v in [a.debits, a.credits, a.debt_debits, a.debt_credits] {
            w.u128(v);
        }
    });
    w.u64(holds.len() as u64);
    holds.for_each(|id, h| {
        w.id(id);
        w.id(h.account);
        for v in [h.amount, h.captured, h.overshoot, h.refunded] {
            w.u64(v);
        }
        w.i64(h.expires.0);
        w.u8(hold_state_tag(h.state));
    });
    w.u64(records.len() as u64);
    records.for_each(|_, record| put_record(w, record));
}

#[cfg_attr(not(feature = "alloc"), allow(dead_code))] // snapshots need a growable buffer
pub(crate) fn put_record<S: Sink>(w: &mut Writer<'_, S>, record: &Record) {
    w.u64(record.seq);
    w.i64(record.at.0);
    put_op(w, &record.op);
    put_result(w, &record.result);
    w.u8(u8::from(record.undone));
}

fn get_record(r: &mut Reader<'_>) -> Result<Record, DecodeError> {
    Ok(Record {
        seq: r.u64()?,
        at: r.time()?,
        op: get_op(r)?,
        result: get_result(r)?,
        undone: r.bool()?,
    })
}

/// Rebuilds a ledger from [`put_snapshot`] bytes.
pub(crate) fn get_snapshot<A, H, R>(r: &mut Reader<'_>) -> Result<Ledger<A, H, R>, DecodeError>
where
    A: Table<Account> + Default,
    H: Table<Hold> + Default,
    R: Table<Record> + Default,
{
    let scale = Scale::new(r.u8()?).ok_or(DecodeError::BadSnapshot)?;
    let seq = r.u64()?;
    let system = SystemAccounts {
        revenue_debits: r.u128()?,
        revenue_credits: r.u128()?,
        clearing_debits: r.u128()?,
        clearing_credits: r.u128()?,
    };
    let mut accounts = A::default();
    for _ in 0..r.u64()? {
        let id = r.id()?;
        let account = Account {
            floor: r.u64()?,
            credit_line: r.u64()?,
            low_credit: r.u64()?,
            held: r.u64()?,
            debits: r.u128()?,
            credits: r.u128()?,
            debt_debits: r.u128()?,
            debt_credits: r.u128()?,
        };
        insert(&mut accounts, id, account)?;
    }
    let mut holds = H::default();
    for _ in 0..r.u64()? {
        let id = r.id()?;
        let hold = Hold {
            account: r.id()?,
            amount: r.u64()?,
            captured: r.u64()?,
            overshoot: r.u64()?,
            refunded: r.u64()?,
            expires: r.time()?,
            state: get_hold_state(r)?,
        };
        insert(&mut holds, id, hold)?;
    }
    let mut records = R::default();
    for _ in 0..r.u64()? {
        let record = get_record(r)?;
        insert(&mut records, record.op.id(), record)?;
    }
    r.end()?;
    Ok(Ledger::from_parts(
        scale,
        (accounts, holds, records),
        seq,
        system,
    ))
}

fn insert<V>(table: &mut impl Table<V>, id: Id, value: V) -> Result<(), DecodeError> {
    if table.get(id).is_some() || table.is_full() || !table.insert(id, value) {
        return Err(DecodeError::BadSnapshot);
    }
    Ok(())
}
