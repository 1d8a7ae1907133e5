//! The `meterkit` command: decode and encode meter frames.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod decode;
mod dlt645_view;
mod encode;
mod hex;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Decode(args) => decode::run(args),
        Command::Encode(args) => encode::run(args),
    }
}

/// Reports unusable input in one line on stderr; exit status 2.
pub(crate) fn fail(message: &str) -> ExitCode {
    eprintln!("meterkit: {message}");
    ExitCode::from(2)
}
