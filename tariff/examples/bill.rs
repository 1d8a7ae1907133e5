//! `cargo run -p meterkit-tariff --example bill -- TARIFF.toml READINGS.csv [table|json|csv]`
//!
//! What `meterkit bill` does, in a dozen lines: load and validate the tariff, parse the
//! readings, price the session from the first to the last reading, render the bill.

use std::process::ExitCode;

use meterkit_tariff::file::{Format, load};
use meterkit_tariff::{BillFormat, PricingPolicy, parse_readings_csv, price_session};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(tariff_path), Some(readings_path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: bill TARIFF.toml READINGS.csv [table|json|csv]");
        return ExitCode::from(2);
    };
    let run = || -> Result<String, String> {
        let text =
            std::fs::read_to_string(tariff_path).map_err(|e| format!("{tariff_path}: {e}"))?;
        let tariff = load(&text, Format::from_file_name(tariff_path))
            .map_err(|r| format!("{tariff_path}:\n{r}"))?;
        let csv =
            std::fs::read_to_string(readings_path).map_err(|e| format!("{readings_path}: {e}"))?;
        let readings = parse_readings_csv(&csv).map_err(|e| format!("{readings_path}: {e}"))?;
        let (Some(first), Some(last)) = (readings.first(), readings.last()) else {
            return Err(format!("{readings_path}: no readings"));
        };
        let format: BillFormat = args
            .get(2)
            .map_or("table", String::as_str)
            .parse()
            .map_err(|e| format!("{e}"))?;
        let bill = price_session(
            &tariff,
            PricingPolicy::default(),
            first.at,
            last.at,
            &readings,
        )
        .map_err(|e| e.to_string())?;
        Ok(bill.render(format))
    };
    match run() {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
