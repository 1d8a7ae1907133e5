//! JSON Lines: operation lines in, result lines out (the `meterkit ledger`
//! command contract).
//!
//! Operation lines (amounts are decimal strings at the ledger's scale, ids
//! are strings of at most 15 bytes or non-negative integers, instants RFC 3339):
//!
//! ```text
//! {"op":"open","id":…,"account":…,"floor":"0","credit_line":"0","low_credit":"5.00"}
//! {"op":"topup","id":…,"account":…,"amount":"100.00"}
//! {"op":"hold","id":…,"account":…,"amount":"50.00","expires":"2026-01-01T10:00:00Z"}
//! {"op":"capture","id":…,"hold":…,"cumulative":"12.34"}
//! {"op":"settle","id":…,"hold":…,"cumulative":"20.00"}
//! {"op":"void","id":…,"hold":…}
//! {"op":"expire","id":…}
//! {"op":"refund","id":…,"of":…,"amount":"5.00"}
//! {"op":"reverse","id":…,"of":…}
//! {"op":"charge","id":…,"account":…,"amount":"1.50"}
//! ```
//!
//! `reverse` and `charge` extend the contract of issue 6: a correcting
//! reversal of a top-up, and a late charge after a hold expired.
//!
//! Result lines: `{"id":…,"result":"ok"|"exists"|<error code>,…}` with the
//! amounts of the outcome. A line that cannot become an operation gets
//! `"result":"bad_request"` with the offending `"field"` and an `"error"`
//! message; it is never journaled.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::string::{String, ToString};
use std::vec::Vec;

use serde_json::{Map, Value, json};

use crate::journal::{Durable, DurableError, Journal};
use crate::ledger::{
    Account, Applied, Hold, LedgerError, Op, Outcome, Record, StatementLine, Status,
};
use crate::table::Table;
use crate::{AmountError, Id, IdError, Ledger, Reply, Scale, Timestamp};

/// Why an operation line was rejected before reaching the ledger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Not JSON.
    #[error("invalid JSON at column {column}: {message}")]
    Json {
        /// 1-based column of the error.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// JSON, but not an object.
    #[error("line is not a JSON object")]
    NotAnObject,
    /// The line is not UTF-8.
    #[error("line is not UTF-8 (invalid byte at column {column})")]
    NotUtf8 {
        /// 1-based column of the first invalid byte.
        column: usize,
    },
    /// The line is longer than [`MAX_LINE`] bytes (the rest was skipped).
    #[error("line longer than {limit} bytes")]
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// A required field is absent.
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// A field that this operation does not have (a typo is never ignored).
    #[error("unknown field `{0}`")]
    UnknownField(String),
    /// `op` names no operation.
    #[error("unknown op `{0}`")]
    UnknownOp(String),
    /// A field has the wrong type or value.
    #[error("field `{field}`: {problem}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: Problem,
    },
}

impl RequestError {
    /// The field the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            RequestError::Missing(field) | RequestError::Invalid { field, .. } => Some(field),
            RequestError::UnknownField(field) => Some(field),
            RequestError::UnknownOp(_) => Some("op"),
            RequestError::Json { .. }
            | RequestError::NotAnObject
            | RequestError::NotUtf8 { .. }
            | RequestError::TooLong { .. } => None,
        }
    }
}

/// What is wrong with a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Amounts are decimal strings.
    #[error("expected a decimal string")]
    NotAString,
    /// The decimal is not a valid amount.
    #[error("{0}")]
    Amount(AmountError),
    /// Ids are strings or non-negative integers.
    #[error("expected a string or a non-negative integer id")]
    NotAnId,
    /// The id does not fit.
    #[error("{0}")]
    Id(IdError),
    /// Not an RFC 3339 instant.
    #[error("expected an RFC 3339 instant")]
    Time,
}

/// Parses an RFC 3339 instant into ledger time (milliseconds).
///
/// # Errors
///
/// [`Problem::Time`] when `text` is not RFC 3339.
pub fn parse_time(text: &str) -> Result<Timestamp, Problem> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| Timestamp(t.timestamp_millis()))
        .map_err(|_| Problem::Time)
}

/// Formats ledger time as RFC 3339 UTC with milliseconds.
pub fn format_time(at: Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(at.0).map_or_else(
        || at.0.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

/// An id as JSON: a string for names, a number for numbers.
pub fn id_value(id: Id) -> Value {
    match id.as_number().map(u64::try_from) {
        Some(Ok(number)) => Value::from(number),
        _ => Value::from(id.to_string()),
    }
}

struct Fields<'a> {
    object: &'a Map<String, Value>,
    scale: Scale,
}

impl Fields<'_> {
    fn get(&self, field: &'static str) -> Result<&Value, RequestError> {
        self.object.get(field).ok_or(RequestError::Missing(field))
    }

    fn id(&self, field: &'static str) -> Result<Id, RequestError> {
        let invalid = |problem| RequestError::Invalid { field, problem };
        match self.get(field)? {
            Value::String(name) => Id::name(name).map_err(|e| invalid(Problem::Id(e))),
            Value::Number(number) => number
                .as_u64()
                .and_then(|n| Id::number(u128::from(n)))
                .ok_or(invalid(Problem::NotAnId)),
            _ => Err(invalid(Problem::NotAnId)),
        }
    }

    fn text(&self, field: &'static str) -> Result<Option<&str>, RequestError> {
        match self.object.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(RequestError::Invalid {
                field,
                problem: Problem::NotAString,
            }),
        }
    }

    fn amount_or_zero(&self, field: &'static str) -> Result<u64, RequestError> {
        self.text(field)?.map_or(Ok(0), |text| {
            self.scale.parse(text).map_err(|e| RequestError::Invalid {
                field,
                problem: Problem::Amount(e),
            })
        })
    }

    fn amount(&self, field: &'static str) -> Result<u64, RequestError> {
        self.text(field)?.ok_or(RequestError::Missing(field))?;
        self.amount_or_zero(field)
    }

    fn time(&self, field: &'static str) -> Result<Timestamp, RequestError> {
        let text = self.text(field)?.ok_or(RequestError::Missing(field))?;
        parse_time(text).map_err(|problem| RequestError::Invalid { field, problem })
    }

    fn only(&self, allowed: &[&str]) -> Result<(), RequestError> {
        match self
            .object
            .keys()
            .find(|key| !allowed.contains(&key.as_str()) && *key != "op" && *key != "id")
        {
            Some(key) => Err(RequestError::UnknownField(key.clone())),
            None => Ok(()),
        }
    }
}

/// Parses one operation line.
///
/// # Errors
///
/// [`RequestError`] naming the field at fault.
pub fn parse_op(line: &str, scale: Scale) -> Result<Op, RequestError> {
    let value: Value = serde_json::from_str(line).map_err(|e| RequestError::Json {
        column: e.column(),
        message: e.to_string(),
    })?;
    let object = value.as_object().ok_or(RequestError::NotAnObject)?;
    let f = Fields { object, scale };
    let name = match f.get("op")? {
        Value::String(name) => name.as_str(),
        _ => {
            return Err(RequestError::Invalid {
                field: "op",
                problem: Problem::NotAString,
            });
        }
    };
    let id = f.id("id")?;
    let op = match name {
        "open" => {
            f.only(&["account", "floor", "credit_line", "low_credit"])?;
            Op::Open {
                id,
                account: f.id("account")?,
                floor: f.amount_or_zero("floor")?,
                credit_line: f.amount_or_zero("credit_line")?,
                low_credit: f.amount_or_zero("low_credit")?,
            }
        }
        "topup" => {
            f.only(&["account", "amount"])?;
            Op::TopUp {
                id,
                account: f.id("account")?,
                amount: f.amount("amount")?,
            }
        }
        "hold" => {
            f.only(&["account", "amount", "expires"])?;
            Op::Hold {
                id,
                account: f.id("account")?,
                amount: f.amount("amount")?,
                expires: f.time("expires")?,
            }
        }
        "capture" => {
            f.only(&["hold", "cumulative"])?;
            Op::Capture {
                id,
                hold: f.id("hold")?,
                cumulative: f.amount("cumulative")?,
            }
        }
        "settle" => {
            f.only(&["hold", "cumulative"])?;
            Op::Settle {
                id,
                hold: f.id("hold")?,
                cumulative: f.amount("cumulative")?,
            }
        }
        "charge" => {
            f.only(&["account", "amount"])?;
            Op::Charge {
                id,
                account: f.id("account")?,
                amount: f.amount("amount")?,
            }
        }
        "void" => {
            f.only(&["hold"])?;
            Op::Void {
                id,
                hold: f.id("hold")?,
            }
        }
        "expire" => {
            f.only(&[])?;
            Op::Expire { id }
        }
        "refund" => {
            f.only(&["of", "amount"])?;
            Op::Refund {
                id,
                of: f.id("of")?,
                amount: f.amount("amount")?,
            }
        }
        "reverse" => {
            f.only(&["of"])?;
            Op::Reverse {
                id,
                of: f.id("of")?,
            }
        }
        other => return Err(RequestError::UnknownOp(other.to_string())),
    };
    Ok(op)
}

/// The operation line for `op` (the inverse of [`parse_op`]).
pub fn op_value(op: &Op, scale: Scale) -> Value {
    let mut line = Map::new();
    line.insert("op".into(), op.name().into());
    line.insert("id".into(), id_value(op.id()));
    let mut id = |key: &str, value: Id| {
        line.insert(key.into(), id_value(value));
    };
    let mut amounts: [(&str, u64); 3] = [("", 0); 3];
    match *op {
        Op::Open {
            account,
            floor,
            credit_line,
            low_credit,
            ..
        } => {
            id("account", account);
            amounts = [
                ("floor", floor),
                ("credit_line", credit_line),
                ("low_credit", low_credit),
            ];
        }
        Op::TopUp {
            account, amount, ..
        }
        | Op::Charge {
            account, amount, ..
        } => {
            id("account", account);
            amounts[0] = ("amount", amount);
        }
        Op::Hold {
            account,
            amount,
            expires,
            ..
        } => {
            id("account", account);
            amounts[0] = ("amount", amount);
            line.insert("expires".into(), format_time(expires).into());
        }
        Op::Capture {
            hold, cumulative, ..
        }
        | Op::Settle {
            hold, cumulative, ..
        } => {
            id("hold", hold);
            amounts[0] = ("cumulative", cumulative);
        }
        Op::Void { hold, .. } => id("hold", hold),
        Op::Expire { .. } => {}
        Op::Refund { of, amount, .. } => {
            id("of", of);
            amounts[0] = ("amount", amount);
        }
        Op::Reverse { of, .. } => id("of", of),
    }
    for (key, minor) in amounts {
        if !key.is_empty() {
            line.insert(key.into(), money(scale, minor));
        }
    }
    Value::Object(line)
}

fn money(scale: Scale, minor: impl Into<i128>) -> Value {
    Value::from(scale.display(minor.into()).to_string())
}

/// The result line object for a reply.
pub fn result_value(id: Id, reply: &Reply, scale: Scale) -> Value {
    let mut line = Map::new();
    line.insert("id".into(), id_value(id));
    match reply.result {
        Ok(applied) => {
            let word = if reply.status == Status::Repeat {
                "exists"
            } else {
                "ok"
            };
            line.insert("result".into(), word.into());
            outcome_fields(&mut line, &applied, scale);
        }
        Err(error) => {
            line.insert("result".into(), error.code().into());
            error_fields(&mut line, &error, scale);
        }
    }
    Value::Object(line)
}

fn outcome_fields(line: &mut Map<String, Value>, applied: &Applied, scale: Scale) {
    let mut put = |key: &str, minor: u64| {
        line.insert(key.into(), money(scale, minor));
    };
    let wallet = match applied.outcome {
        Outcome::Opened => true,
        Outcome::ToppedUp { debt_repaid } => {
            put("debt_repaid", debt_repaid);
            true
        }
        Outcome::Held { amount } => {
            put("held", amount);
            true
        }
        Outcome::Captured {
            delta,
            captured,
            remaining,
            uncovered,
        } => {
            put("delta", delta);
            put("captured", captured);
            put("remaining", remaining);
            put("uncovered", uncovered);
            line.insert("exhausted".into(), (remaining == 0).into());
            true
        }
        Outcome::Settled {
            delta,
            released,
            from_wallet,
            from_credit_line,
            to_debt,
        } => {
            put("delta", delta);
            put("released", released);
            put("from_wallet", from_wallet);
            put("from_credit_line", from_credit_line);
            put("to_debt", to_debt);
            true
        }
        Outcome::Charged {
            from_wallet,
            from_credit_line,
            to_debt,
        } => {
            put("from_wallet", from_wallet);
            put("from_credit_line", from_credit_line);
            put("to_debt", to_debt);
            true
        }
        Outcome::Voided { released } => {
            put("released", released);
            true
        }
        Outcome::Expired { holds, released } => {
            put("released", released);
            line.insert("holds".into(), holds.into());
            false
        }
        Outcome::Refunded {
            amount,
            debt_repaid,
        } => {
            put("refunded", amount);
            put("debt_repaid", debt_repaid);
            true
        }
        Outcome::Reversed { amount } => {
            put("reversed", amount);
            true
        }
    };
    if wallet {
        line.insert("available".into(), money(scale, applied.available));
    }
    if applied.low_credit {
        line.insert("low_credit".into(), true.into());
    }
}

fn error_fields(line: &mut Map<String, Value>, error: &LedgerError, scale: Scale) {
    match *error {
        LedgerError::AccountExists(id)
        | LedgerError::AccountNotFound(id)
        | LedgerError::HoldNotFound(id)
        | LedgerError::OriginalNotFound(id)
        | LedgerError::NotRefundable(id)
        | LedgerError::NotReversible(id)
        | LedgerError::AlreadyRefunded(id)
        | LedgerError::AlreadyReversed(id) => {
            line.insert("ref".into(), id_value(id));
        }
        LedgerError::HoldNotOpen(state) => {
            line.insert(
                "state".into(),
                std::format!("{state:?}").to_lowercase().into(),
            );
        }
        LedgerError::HoldExpired(at) => {
            line.insert("expired".into(), format_time(at).into());
        }
        LedgerError::ExceedsRefundable { refundable } => {
            line.insert("refundable".into(), money(scale, refundable));
        }
        LedgerError::InsufficientFunds { available } => {
            line.insert("available".into(), money(scale, available));
        }
        _ => {}
    }
    line.insert("error".into(), error.to_string().into());
}

/// The result line object for a line that did not parse. The id is echoed
/// when the line had a usable one.
pub fn bad_request_value(line: &str, error: &RequestError) -> Value {
    let id = serde_json::from_str::<Value>(line)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .filter(|id| id.is_string() || id.is_u64());
    let mut out = Map::new();
    out.insert("id".into(), id.unwrap_or(Value::Null));
    out.insert("result".into(), "bad_request".into());
    if let Some(field) = error.field() {
        out.insert("field".into(), field.into());
    }
    out.insert("error".into(), error.to_string().into());
    Value::Object(out)
}

/// A balance object: `account`, `balance`, `held`, `available`, `debt`,
/// plus `floor` and `credit_line`.
pub fn balance_value(id: Id, account: &Account, scale: Scale) -> Value {
    json!({
        "account": id_value(id),
        "balance": money(scale, account.balance()),
        "held": money(scale, account.held),
        "available": money(scale, account.available()),
        "debt": money(scale, account.debt()),
        "floor": money(scale, account.floor),
        "credit_line": money(scale, account.credit_line),
    })
}

/// A statement line object.
pub fn statement_value(line: &StatementLine, scale: Scale) -> Value {
    json!({
        "seq": line.seq,
        "at": format_time(line.at),
        "op": line.op.name(),
        "id": id_value(line.op.id()),
        "change": money(scale, line.change),
        "balance": money(scale, line.balance),
        "debt": money(scale, line.debt),
    })
}

/// Balance objects of every wallet, numeric ids first in numeric order, then
/// names in byte order (the `balance --json` output).
pub fn balance_values<A, H, R>(ledger: &Ledger<A, H, R>) -> Vec<Value>
where
    A: Table<Account>,
    H: Table<Hold>,
    R: Table<Record>,
{
    let mut wallets = Vec::new();
    ledger.for_each_account(|id, account| wallets.push((id, *account)));
    // Raw id order would put names by length first ("bob" before "alice").
    wallets.sort_by_cached_key(|(id, _)| (id.is_name(), id.as_number(), id.to_string()));
    wallets
        .iter()
        .map(|(id, account)| balance_value(*id, account, ledger.scale()))
        .collect()
}

/// Statement objects of one wallet in operation order (the `statement` output);
/// empty for an unknown account.
pub fn statement_values<A, H, R>(ledger: &Ledger<A, H, R>, account: Id) -> Vec<Value>
where
    A: Table<Account>,
    H: Table<Hold>,
    R: Table<Record>,
{
    ledger
        .statement(account)
        .iter()
        .map(|line| statement_value(line, ledger.scale()))
        .collect()
}

/// Parses an account or operation id given on a command line: digits are a
/// number, anything else a name.
///
/// # Errors
///
/// [`IdError`] when a name is longer than 15 bytes or a number too large.
pub fn parse_id(text: &str) -> Result<Id, IdError> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u128>()
            .ok()
            .and_then(Id::number)
            .ok_or(IdError::NumberTooLarge);
    }
    Id::name(text)
}

/// The longest operation line [`apply_lines`] reads, newline included; a
/// longer line is answered with [`RequestError::TooLong`] and skipped, so
/// input never makes memory grow without bound. Real lines are < 300 bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// Reads through the next `\n` (or to the end of input), keeping at most
/// `limit` bytes in `line` and dropping the rest. Returns the bytes consumed
/// (0 at end of input) and whether the line was cut.
fn read_line_bounded(
    input: &mut impl BufRead,
    line: &mut Vec<u8>,
    limit: usize,
) -> io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut cut = false;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok((consumed, cut));
        }
        let end = available.iter().position(|&b| b == b'\n');
        let chunk = end
            .and_then(|newline| available.get(..=newline))
            .unwrap_or(available);
        let room = limit.saturating_sub(line.len());
        cut |= chunk.len() > room;
        line.extend_from_slice(chunk.get(..room).unwrap_or(chunk));
        let taken = chunk.len();
        input.consume(taken);
        consumed += taken;
        if end.is_some() {
            return Ok((consumed, cut));
        }
    }
}

/// One input line as text, or why it cannot be an operation.
fn line_text(raw: &[u8], cut: bool) -> Result<&str, RequestError> {
    if cut {
        return Err(RequestError::TooLong { limit: MAX_LINE });
    }
    core::str::from_utf8(raw).map_err(|error| RequestError::NotUtf8 {
        column: error.valid_up_to() + 1,
    })
}

/// Counts from [`apply_lines`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplySummary {
    /// Lines answered.
    pub lines: u64,
    /// Lines rejected as bad requests.
    pub bad: u64,
    /// Journal commits (syncs).
    pub commits: u64,
}

/// Why [`apply_lines`] stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError<E: core::error::Error + 'static> {
    /// Reading input or writing results failed.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// The journal failed; nothing after the last printed result is durable.
    #[error("journal: {0}")]
    Journal(#[source] DurableError<E>),
}

/// Reads operation lines from `input`, applies them, and writes one result
/// line per operation line to `output` — each only after its operation is
/// durable. Lines that arrived together share one commit (group commit, at
/// most `max_group` operations); blank lines are skipped. `now` is asked
/// once per line. A line that is not UTF-8 or longer than [`MAX_LINE`] gets
/// a `bad_request` result like any malformed line; only I/O stops the stream.
///
/// # Errors
///
/// [`ApplyError`]: I/O on the streams, or a journal failure (fatal: the
/// results of the uncommitted group are not printed).
pub fn apply_lines<A, H, R, J>(
    input: &mut BufReader<impl Read>,
    output: &mut impl Write,
    durable: &mut Durable<A, H, R, J>,
    mut now: impl FnMut() -> Timestamp,
    max_group: usize,
) -> Result<ApplySummary, ApplyError<J::Error>>
where
    A: Table<Account>,
    H: Table<Hold>,
    R: Table<Record>,
    J: Journal,
    J::Error: 'static,
{
    let scale = durable.ledger().scale();
    let mut summary = ApplySummary::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut grouped = 0usize;
    let mut raw: Vec<u8> = Vec::new();
    loop {
        raw.clear();
        let (read, cut) = read_line_bounded(input, &mut raw, MAX_LINE)?;
        let line = line_text(&raw, cut).map(str::trim);
        if line != Ok("") {
            let value = match line.clone().and_then(|text| parse_op(text, scale)) {
                Ok(op) => {
                    let reply = durable.submit(&op, now()).map_err(ApplyError::Journal)?;
                    grouped += 1;
                    result_value(op.id(), &reply, scale)
                }
                Err(error) => {
                    summary.bad += 1;
                    bad_request_value(line.as_deref().unwrap_or(""), &error)
                }
            };
            serde_json::to_writer(&mut pending, &value).map_err(io::Error::from)?;
            pending.push(b'\n');
            summary.lines += 1;
        }
        // Commit when nothing more is waiting in the input buffer (so an
        // interactive caller is answered at once), at end of input, or when
        // the group is full.
        let idle = read == 0 || input.buffer().is_empty() || grouped >= max_group;
        if idle && !pending.is_empty() {
            if grouped > 0 {
                durable.commit().map_err(ApplyError::Journal)?;
                summary.commits += 1;
            }
            output.write_all(&pending)?;
            output.flush()?;
            pending.clear();
            grouped = 0;
        }
        if read == 0 {
            return Ok(summary);
        }
    }
}
