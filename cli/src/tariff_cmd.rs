//! `meterkit bill` and `meterkit tariff show|check`: price a session, explain a tariff.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use meterkit_tariff::{
    BillFormat, PricingPolicy, Tariff, explain,
    file::{Format, load},
    parse_readings_csv, price_session,
};

use crate::fail;

#[derive(Debug, Args)]
pub(crate) struct BillArgs {
    /// The tariff file (TOML or JSON, told apart by the extension).
    #[arg(long)]
    tariff: PathBuf,
    /// The session's readings as CSV (see the README of meterkit-tariff for the columns).
    #[arg(long)]
    readings: PathBuf,
    /// How to print the bill.
    #[arg(long, value_enum, default_value_t = BillStyle::Table)]
    format: BillStyle,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BillStyle {
    /// Aligned columns for people.
    Table,
    /// One JSON object with lines and totals.
    Json,
    /// One CSV row per line, then the totals.
    Csv,
}

#[derive(Debug, Args)]
pub(crate) struct TariffArgs {
    #[command(subcommand)]
    command: TariffCommand,
}

#[derive(Debug, Subcommand)]
enum TariffCommand {
    /// Explain a tariff in plain words: which period applies when, what each costs.
    Show {
        /// The tariff file (TOML or JSON).
        path: PathBuf,
    },
    /// Validate a tariff and name the line of every problem; exit 1 when there is one.
    Check {
        /// The tariff file (TOML or JSON).
        path: PathBuf,
    },
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Loads a tariff, or the problems that make it unusable (each naming its line).
fn tariff(path: &Path) -> Result<Result<Tariff, Vec<String>>, String> {
    let text = read(path)?;
    let name = path.to_string_lossy();
    Ok(load(&text, Format::from_file_name(&name))
        .map_err(|report| report.problems.iter().map(ToString::to_string).collect()))
}

pub(crate) fn bill(args: &BillArgs) -> ExitCode {
    let tariff = match tariff(&args.tariff) {
        Ok(Ok(tariff)) => tariff,
        Ok(Err(problems)) => {
            let first = problems.first().map_or("invalid", String::as_str);
            return fail(&format!(
                "{}: {first} ({} problem{}; `meterkit tariff check` lists them all)",
                args.tariff.display(),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ));
        }
        Err(message) => return fail(&message),
    };
    let csv = match read(&args.readings) {
        Ok(csv) => csv,
        Err(message) => return fail(&message),
    };
    let readings = match parse_readings_csv(&csv) {
        Ok(readings) => readings,
        Err(e) => return fail(&format!("{}: {e}", args.readings.display())),
    };
    let (Some(first), Some(last)) = (readings.first(), readings.last()) else {
        return fail(&format!("{}: no readings", args.readings.display()));
    };
    match price_session(
        &tariff,
        PricingPolicy::default(),
        first.at,
        last.at,
        &readings,
    ) {
        Ok(bill) => {
            print!(
                "{}",
                bill.render(match args.format {
                    BillStyle::Table => BillFormat::Table,
                    BillStyle::Json => BillFormat::Json,
                    BillStyle::Csv => BillFormat::Csv,
                })
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("{}: {e}", args.readings.display())),
    }
}

pub(crate) fn run(args: &TariffArgs) -> ExitCode {
    let (TariffCommand::Show { path } | TariffCommand::Check { path }) = &args.command;
    let loaded = match tariff(path) {
        Ok(loaded) => loaded,
        Err(message) => return fail(&message),
    };
    match (&args.command, loaded) {
        (TariffCommand::Show { .. }, Ok(tariff)) => {
            print!("{}", explain(&tariff));
            ExitCode::SUCCESS
        }
        (TariffCommand::Check { .. }, Ok(_)) => {
            println!("{}: ok", path.display());
            ExitCode::SUCCESS
        }
        (_, Err(problems)) => {
            for problem in &problems {
                eprintln!("{}: {problem}", path.display());
            }
            ExitCode::from(1)
        }
    }
}
