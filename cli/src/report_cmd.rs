//! `meterkit report`: the fee report per session, per user and per charger.
//!
//! Money is kept in the ledger journal; what a session consumed (energy per period,
//! electricity and service amounts) is in its receipt. Each finished session appends
//! its receipt as one JSON line to `<journal>.receipts.jsonl`, and the report groups
//! those lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{fail, report_html};

/// One finished session, as the report reads it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReceiptLine {
    pub(crate) session: String,
    pub(crate) user: String,
    pub(crate) charger: String,
    pub(crate) currency: String,
    pub(crate) start: DateTime<Utc>,
    pub(crate) stop: DateTime<Utc>,
    pub(crate) periods: Vec<PeriodLine>,
    /// Total energy in Wh.
    pub(crate) energy_wh: u64,
    pub(crate) electricity: Decimal,
    pub(crate) service: Decimal,
    pub(crate) other_fees: Decimal,
    pub(crate) tax: Decimal,
    pub(crate) total: Decimal,
}

/// Energy and amounts of one tariff period within a session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PeriodLine {
    pub(crate) period: String,
    pub(crate) energy_wh: u64,
    pub(crate) electricity: Decimal,
    pub(crate) service: Decimal,
}

/// Where the receipts of a journal live.
pub(crate) fn receipts_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".receipts.jsonl");
    PathBuf::from(name)
}

/// Appends a receipt line (after the ledger has settled the session).
pub(crate) fn append(journal: &Path, line: &ReceiptLine) -> Result<(), String> {
    let path = receipts_path(journal);
    let text =
        serde_json::to_string(line).map_err(|e| format!("cannot encode the receipt: {e}"))?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    writeln!(file, "{text}")
        .and_then(|()| file.sync_data())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The ledger journal; its receipts are read from `<journal>.receipts.jsonl`.
    #[arg(long)]
    journal: PathBuf,
    /// How to group sessions.
    #[arg(long, value_enum, default_value_t = By::Session)]
    by: By,
    /// Only sessions that started at or after this instant (RFC 3339).
    #[arg(long)]
    from: Option<String>,
    /// Only sessions that started before this instant (RFC 3339).
    #[arg(long)]
    to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum By {
    Session,
    User,
    Charger,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Table,
    Csv,
    Json,
    Html,
}

/// One row of the report: a session, a user or a charger.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Group {
    pub(crate) key: String,
    pub(crate) sessions: usize,
    pub(crate) energy_wh: u64,
    /// Energy and amount per tariff period, in first-seen order.
    pub(crate) periods: Vec<(String, u64, Decimal)>,
    pub(crate) electricity: Decimal,
    pub(crate) service: Decimal,
    pub(crate) other_fees: Decimal,
    pub(crate) tax: Decimal,
    pub(crate) total: Decimal,
    pub(crate) currency: String,
}

fn instant(flag: &str, text: Option<&String>) -> Result<Option<DateTime<Utc>>, String> {
    text.map(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| format!("bad {flag} {t:?}: {e}"))
    })
    .transpose()
}

/// Groups the receipts; sums are exact decimals.
pub(crate) fn groups(lines: &[ReceiptLine], by: impl Fn(&ReceiptLine) -> &str) -> Vec<Group> {
    let mut map: BTreeMap<String, Group> = BTreeMap::new();
    for line in lines {
        let group = map.entry(by(line).to_owned()).or_default();
        by(line).clone_into(&mut group.key);
        group.currency.clone_from(&line.currency);
        group.sessions += 1;
        group.energy_wh += line.energy_wh;
        group.electricity += line.electricity;
        group.service += line.service;
        group.other_fees += line.other_fees;
        group.tax += line.tax;
        group.total += line.total;
        for p in &line.periods {
            let amount = p.electricity + p.service;
            match group
                .periods
                .iter_mut()
                .find(|(name, _, _)| *name == p.period)
            {
                Some(entry) => {
                    entry.1 += p.energy_wh;
                    entry.2 += amount;
                }
                None => group.periods.push((p.period.clone(), p.energy_wh, amount)),
            }
        }
    }
    map.into_values().collect()
}

fn kwh(wh: u64) -> String {
    format!("{}.{:03}", wh / 1000, wh % 1000)
}

pub(crate) fn run(args: &ReportArgs) -> ExitCode {
    match report(args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => fail(&message),
    }
}

fn report(args: &ReportArgs) -> Result<String, String> {
    let path = receipts_path(&args.journal);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let (from, to) = (
        instant("--from", args.from.as_ref())?,
        instant("--to", args.to.as_ref())?,
    );
    let mut lines = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let receipt: ReceiptLine = serde_json::from_str(line)
            .map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?;
        if from.is_none_or(|f| receipt.start >= f) && to.is_none_or(|t| receipt.start < t) {
            lines.push(receipt);
        }
    }
    let groups = match args.by {
        By::Session => groups(&lines, |l| &l.session),
        By::User => groups(&lines, |l| &l.user),
        By::Charger => groups(&lines, |l| &l.charger),
    };
    let by = format!("{:?}", args.by).to_lowercase();
    Ok(match args.format {
        ReportFormat::Json => {
            let mut out = String::new();
            for g in &groups {
                let periods: serde_json::Map<String, serde_json::Value> = g
                    .periods
                    .iter()
                    .map(|(p, wh, amount)| (p.clone(), serde_json::json!({"energy_kwh": kwh(*wh), "amount": amount.to_string()})))
                    .collect();
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::json!({
                        by.as_str(): g.key, "sessions": g.sessions, "energy_kwh": kwh(g.energy_wh),
                        "periods": periods, "electricity": g.electricity.to_string(), "service": g.service.to_string(),
                        "other_fees": g.other_fees.to_string(), "tax": g.tax.to_string(), "total": g.total.to_string(),
                        "currency": g.currency,
                    })
                );
            }
            out
        }
        ReportFormat::Csv => {
            let mut out = format!("{by},sessions,period,energy_kwh,amount\n");
            for g in &groups {
                for (p, wh, amount) in &g.periods {
                    let _ = writeln!(out, "{},{},{p},{},{amount}", g.key, g.sessions, kwh(*wh));
                }
                let _ = writeln!(
                    out,
                    "{},{},total,{},{}",
                    g.key,
                    g.sessions,
                    kwh(g.energy_wh),
                    g.total
                );
            }
            out
        }
        ReportFormat::Table => {
            let mut out = format!(
                "{by:<16} {:>8} {:>12} {:>12} {:>12} {:>10} {:>12}  per period (kWh / amount)\n",
                "sessions", "kWh", "electricity", "service", "tax", "total"
            );
            for g in &groups {
                let per: Vec<String> = g
                    .periods
                    .iter()
                    .map(|(p, wh, a)| format!("{p} {} / {a}", kwh(*wh)))
                    .collect();
                let _ = writeln!(
                    out,
                    "{:<16} {:>8} {:>12} {:>12} {:>12} {:>10} {:>12}  {}",
                    g.key,
                    g.sessions,
                    kwh(g.energy_wh),
                    g.electricity,
                    g.service,
                    g.tax,
                    format!("{} {}", g.total, g.currency),
                    per.join(", ")
                );
            }
            out
        }
        ReportFormat::Html => report_html::fee_report(&by, &groups),
    })
}
