//! `cargo run -p meterkit-tariff --example tariff -- show|check TARIFF.toml`
//!
//! What `meterkit tariff show` and `meterkit tariff check` do: load the file, then print
//! the plain-words explanation, or every problem with its line.

use std::process::ExitCode;

use meterkit_tariff::explain;
use meterkit_tariff::file::{Format, load};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(command), Some(path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: tariff show|check TARIFF.toml");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    match (command.as_str(), load(&text, Format::from_file_name(path))) {
        ("show", Ok(tariff)) => {
            print!("{}", explain(&tariff));
            ExitCode::SUCCESS
        }
        ("check", Ok(_)) => {
            println!("{path}: ok");
            ExitCode::SUCCESS
        }
        (_, Err(report)) => {
            for problem in &report.problems {
                eprintln!("{path}: {problem}");
            }
            ExitCode::FAILURE
        }
        _ => {
            eprintln!("usage: tariff show|check TARIFF.toml");
            ExitCode::from(2)
        }
    }
}
