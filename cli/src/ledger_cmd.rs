//! `meterkit ledger`: the prepaid ledger over a journal file.
//!
//! A thin wrapper over `meterkit_ledger`: `apply` recovers (or creates) the
//! journal and streams JSON Lines through it with group commit; `balance`,
//! `statement` and `verify` replay the file read-only and never write it.
//!
//! Exit statuses: 0 success; 1 the journal is broken or failed (verify found a
//! bad record, a sync failed, another process holds the journal); 2 unusable
//! arguments (bad `--now`, unknown account, unreadable file).

use std::io::{self, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use meterkit_ledger::{
    Durable, FileJournal, JournalError, Recovery, Scale, StatementLine, StdLedger, Timestamp,
    Verification, json, verify,
};

use crate::fail;

/// Operations per `fdatasync` at most; under a steady stream a group is
/// whatever arrived while the previous sync ran.
const MAX_GROUP: usize = 4_096;

#[derive(Debug, Args)]
pub(crate) struct LedgerArgs {
    /// The journal file (`apply` creates it, with two decimal places, when missing).
    #[arg(long, value_name = "FILE")]
    journal: PathBuf,
    #[command(subcommand)]
    command: LedgerCommand,
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Apply operations read as JSON Lines on stdin; print one result line per
    /// operation once it is durable, in input order.
    Apply {
        /// The instant every operation is applied at (RFC 3339); default: the
        /// wall clock, read once per line.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
    },
    /// Print every account's balance, held, available and debt.
    Balance {
        /// One JSON object per account (JSON Lines), the scripting contract.
        #[arg(long)]
        json: bool,
    },
    /// Print an account's history with the running balance.
    Statement {
        /// The account id (digits are a number id, anything else a name).
        account: String,
        /// One JSON object per line (JSON Lines).
        #[arg(long)]
        json: bool,
    },
    /// Check checksums, the hash chain, sequence numbers and the invariants;
    /// exit 1 naming the first bad record's byte offset when broken.
    Verify,
}

pub(crate) fn run(args: &LedgerArgs) -> ExitCode {
    let path = args.journal.as_path();
    match &args.command {
        LedgerCommand::Apply { now } => apply(path, now.as_deref()),
        LedgerCommand::Balance { json } => balance(path, *json),
        LedgerCommand::Statement { account, json } => statement(path, account, *json),
        LedgerCommand::Verify => verify_command(path),
    }
}

/// A runtime failure of the journal (not of the arguments): one line, exit 1.
fn broken(message: &str) -> ExitCode {
    eprintln!("meterkit: {message}");
    ExitCode::FAILURE
}

fn wall_clock() -> Timestamp {
    // A clock before 1970 or beyond year 292 million is broken either way;
    // saturating keeps the command running and the journal consistent.
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        });
    Timestamp(millis)
}

fn apply(path: &Path, now: Option<&str>) -> ExitCode {
    let fixed = match now.map(json::parse_time).transpose() {
        Ok(fixed) => fixed,
        Err(problem) => return fail(&format!("--now: {problem}, got {:?}", now.unwrap_or(""))),
    };
    let (ledger, journal, recovery) = match FileJournal::open_or_create(path, Scale::default()) {
        Ok(opened) => opened,
        Err(error) => return open_failure(&error),
    };
    report_recovery(path, &recovery);
    let mut durable = Durable::new(ledger, journal);
    let clock = || fixed.unwrap_or_else(wall_clock);
    let mut input = BufReader::new(io::stdin().lock());
    let mut output = io::stdout().lock();
    match json::apply_lines(&mut input, &mut output, &mut durable, clock, MAX_GROUP) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => broken(&format!(
            "{}: {error}; operations after the last printed result are not acknowledged",
            path.display()
        )),
    }
}

fn open_failure(error: &JournalError) -> ExitCode {
    match error {
        // The file named cannot be read or created at all: an unusable argument.
        JournalError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
            fail(&error.to_string())
        }
        _ => broken(&error.to_string()),
    }
}

fn report_recovery(path: &Path, recovery: &Recovery) {
    if recovery.truncated == 0 {
        return;
    }
    let kept = recovery
        .preserved
        .as_deref()
        .map_or_else(String::new, |kept| format!(", kept in {}", kept.display()));
    let reason = recovery
        .scan
        .error
        .map_or_else(String::new, |(_, error)| format!(" ({error})"));
    eprintln!(
        "meterkit: recovered {}: cut {} bytes after byte {}{reason}{kept}",
        path.display(),
        recovery.truncated,
        recovery.scan.valid_len,
    );
}

/// Replays the journal read-only for `balance` and `statement`. A damaged
/// tail does not hide the valid records before it, but is reported.
fn replay_for_reading(path: &Path) -> Result<StdLedger, ExitCode> {
    let (ledger, verification) = verify(path).map_err(|error| fail(&error.to_string()))?;
    if verification.scan.records == 0 {
        return Err(broken(&format!(
            "{}: no valid checkpoint at the start of the journal",
            path.display()
        )));
    }
    if let Some((offset, error)) = verification.scan.error {
        eprintln!(
            "meterkit: warning: {}: invalid record at byte {offset} ({error}); showing the {} valid records before it",
            path.display(),
            verification.scan.records,
        );
    }
    Ok(ledger)
}

fn balance(path: &Path, as_json: bool) -> ExitCode {
    let ledger = match replay_for_reading(path) {
        Ok(ledger) => ledger,
        Err(status) => return status,
    };
    let mut out = Lines::new();
    if as_json {
        for value in json::balance_values(&ledger) {
            out.line(&value.to_string());
        }
        return out.finish();
    }
    out.line(&format!(
        "{:<16} {:>14} {:>14} {:>14} {:>14}",
        "account", "balance", "held", "available", "debt"
    ));
    for value in json::balance_values(&ledger) {
        let text = |key: &str| match &value[key] {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        out.line(&format!(
            "{:<16} {:>14} {:>14} {:>14} {:>14}",
            text("account"),
            text("balance"),
            text("held"),
            text("available"),
            text("debt"),
        ));
    }
    out.finish()
}

fn statement(path: &Path, account: &str, as_json: bool) -> ExitCode {
    let id = match json::parse_id(account) {
        Ok(id) => id,
        Err(error) => return fail(&format!("account {account:?}: {error}")),
    };
    let ledger = match replay_for_reading(path) {
        Ok(ledger) => ledger,
        Err(status) => return status,
    };
    if ledger.account(id).is_none() {
        return fail(&format!("no account {account:?} in {}", path.display()));
    }
    let mut out = Lines::new();
    if as_json {
        for value in json::statement_values(&ledger, id) {
            out.line(&value.to_string());
        }
        return out.finish();
    }
    for line in statement_lines(&ledger, id) {
        out.line(&line);
    }
    out.finish()
}

/// An account's history as an aligned table with running balance and debt.
pub(crate) fn statement_lines(ledger: &StdLedger, id: meterkit_ledger::Id) -> Vec<String> {
    let scale = ledger.scale();
    let mut lines = vec![format!(
        "{:>6}  {:<24}  {:<8}  {:<16} {:>14} {:>14} {:>14}",
        "seq", "at", "op", "id", "change", "balance", "debt"
    )];
    for StatementLine {
        seq,
        at,
        op,
        change,
        balance,
        debt,
    } in ledger.statement(id)
    {
        lines.push(format!(
            "{seq:>6}  {:<24}  {:<8}  {:<16} {:>14} {:>14} {:>14}",
            json::format_time(at),
            op.name(),
            op.id().to_string(),
            scale.display(change).to_string(),
            scale.display(balance).to_string(),
            scale.display(debt).to_string(),
        ));
    }
    lines
}

fn verify_command(path: &Path) -> ExitCode {
    let (_, verification) = match verify(path) {
        Ok(verified) => verified,
        Err(error) => return fail(&error.to_string()),
    };
    let line = verdict(&verification);
    let mut out = Lines::new();
    out.line(&line);
    let printed = out.finish();
    if verification.is_ok() {
        printed
    } else {
        ExitCode::FAILURE
    }
}

/// The one-line `verify` verdict, starting with `ok:` or `broken:`.
fn verdict(v: &Verification) -> String {
    let scan = &v.scan;
    if let Some((offset, error)) = scan.error {
        return format!(
            "broken: record {} at byte {offset}: {error} ({} valid records, {offset} of {} bytes)",
            scan.records + 1,
            scan.records,
            v.file_len,
        );
    }
    if scan.records == 0 {
        return "broken: empty journal (no checkpoint record)".to_owned();
    }
    if let Err(error) = &v.invariants {
        return format!(
            "broken: invariant violated after {} records: {error}",
            scan.records
        );
    }
    format!(
        "ok: {} records, last sequence {}, {} bytes, checksums, chain and invariants hold",
        scan.records, scan.last_seq, v.file_len
    )
}

/// Buffered stdout that turns a closed pipe or full disk into one error line
/// instead of a panic from `println!`.
struct Lines {
    out: io::BufWriter<io::StdoutLock<'static>>,
    error: Option<io::Error>,
}

impl Lines {
    fn new() -> Self {
        Lines {
            out: io::BufWriter::new(io::stdout().lock()),
            error: None,
        }
    }

    fn line(&mut self, text: &str) {
        if self.error.is_none()
            && let Err(error) = writeln!(self.out, "{text}")
        {
            self.error = Some(error);
        }
    }

    fn finish(mut self) -> ExitCode {
        let flushed = match self.error.take() {
            Some(error) => Err(error),
            None => self.out.flush(),
        };
        match flushed {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => broken(&format!("writing output: {error}")),
        }
    }
}
