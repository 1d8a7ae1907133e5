//! The `meterkit` command: decode and encode meter frames, price sessions, run the
//! prepaid ledger.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod decode;
mod demo;
mod dlt645_view;
mod encode;
mod hex;
mod ledger_cmd;
mod modbus_cmd;
mod modbus_view;
mod ocpi_cmd;
mod report_cmd;
mod report_html;
mod tariff_cmd;
mod transport_cmd;
mod value_view;

/// Meter protocols and prepaid charging, from the command line.
#[derive(Debug, Parser)]
#[command(name = "meterkit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a prepaid charging session end to end on a simulated meter: progress, bill, statement, reports.
    Demo(demo::DemoArgs),
    /// Find and explain every frame in a capture (hex arguments, hex on stdin, or --raw binary).
    Decode(decode::DecodeArgs),
    /// Build a request frame and print it as hex.
    Encode(encode::EncodeArgs),
    /// Run the prepaid ledger on a journal file: apply JSON Lines operations, balances, statements, verify.
    Ledger(ledger_cmd::LedgerArgs),
    /// Read a meter over a serial port or TCP: one DL/T 645 item, or a Modbus profile.
    Read(transport_cmd::ReadArgs),
    /// Find the meter on a DL/T 645 line.
    Scan(transport_cmd::ScanArgs),
    /// Serve a simulated meter on a pseudo-terminal or TCP until stopped.
    Sim(transport_cmd::SimArgs),
    /// Poll several meters on a schedule and print their readings (JSON Lines or CSV).
    Poll(transport_cmd::PollArgs),
    /// Show Modbus meter profiles and decode register replies with them.
    Profile(modbus_cmd::ProfileArgs),
    /// The fee report per session, user or charger, from a journal's session receipts.
    Report(report_cmd::ReportArgs),
    /// Price a charging session from its meter readings and print the itemised bill.
    Bill(tariff_cmd::BillArgs),
    /// Explain a tariff file in plain words, or validate it line by line.
    Tariff(tariff_cmd::TariffArgs),
    /// Price OCPI 2.2.1 CDRs, or export a tariff as OCPI.
    Ocpi(ocpi_cmd::OcpiArgs),
}

fn main() -> ExitCode {
    quiet_panics();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    match &cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Encode(args) => encode::run(args),
        Command::Ledger(args) => ledger_cmd::run(args),
        Command::Profile(args) => modbus_cmd::run(args),
        Command::Read(args) => transport_cmd::read(args),
        Command::Scan(args) => transport_cmd::scan(args),
        Command::Sim(args) => transport_cmd::sim(args),
        Command::Poll(args) => transport_cmd::poll(args),
        Command::Report(args) => report_cmd::run(args),
        Command::Bill(args) => tariff_cmd::bill(args),
        Command::Tariff(args) => tariff_cmd::run(args),
        Command::Ocpi(args) => ocpi_cmd::run(args),
    }
}

/// Output into a closed pipe (`meterkit decode … | head`) ends the command quietly,
/// as a shell expects (status 141, like SIGPIPE); `println!` panics there otherwise.
/// Any other panic is a bug: it is reported in one line, not as a Rust backtrace.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        if message.contains("Broken pipe") {
            std::process::exit(141);
        }
        let place = info
            .location()
            .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        eprintln!("meterkit: internal error (please report it): {message}{place}");
    }));
}

/// Reports unusable input in one line on stderr; exit status 2.
///
/// Messages from parsers that quote the offending line (TOML) span several lines; the
/// first says where and the last says what, so those two are kept.
pub(crate) fn fail(message: &str) -> ExitCode {
    eprintln!("meterkit: {}", one_line(message));
    ExitCode::from(2)
}

fn one_line(message: &str) -> String {
    let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("failed");
    match lines.next_back() {
        Some(last) if !last.starts_with('|') && !last.starts_with('^') => {
            format!("{first}: {last}")
        }
        _ => first.to_owned(),
    }
}

/// Help and version go to stdout as clap prints them; argument errors become one line
/// (clap's message without its usage block), exit status 2.
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    let rendered = error.render().to_string();
    let message: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    let message = message.join(" ");
    eprintln!(
        "meterkit: {} (see --help)",
        message.strip_prefix("error: ").unwrap_or(&message)
    );
    ExitCode::from(2)
}
