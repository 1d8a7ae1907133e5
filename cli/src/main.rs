//! The `meterkit` command: decode and encode meter frames, price sessions, run the
//! prepaid ledger.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod decode;
mod dlt645_view;
mod encode;
mod hex;
mod ledger_cmd;
mod modbus_cmd;
mod modbus_view;
mod tariff_cmd;
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
    /// Find and explain every frame in a capture (hex arguments, hex on stdin, or --raw binary).
    Decode(decode::DecodeArgs),
    /// Build a request frame and print it as hex.
    Encode(encode::EncodeArgs),
    /// Run the prepaid ledger on a journal file: apply JSON Lines operations, balances, statements, verify.
    Ledger(ledger_cmd::LedgerArgs),
    /// Show Modbus meter profiles and decode register replies with them.
    Profile(modbus_cmd::ProfileArgs),
    /// Price a charging session from its meter readings and print the itemised bill.
    Bill(tariff_cmd::BillArgs),
    /// Explain a tariff file in plain words, or validate it line by line.
    Tariff(tariff_cmd::TariffArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Decode(args) => decode::run(args),
        Command::Encode(args) => encode::run(args),
        Command::Ledger(args) => ledger_cmd::run(args),
        Command::Profile(args) => modbus_cmd::run(args),
        Command::Bill(args) => tariff_cmd::bill(args),
        Command::Tariff(args) => tariff_cmd::run(args),
    }
}

/// Reports unusable input in one line on stderr; exit status 2.
pub(crate) fn fail(message: &str) -> ExitCode {
    eprintln!("meterkit: {message}");
    ExitCode::from(2)
}
