//! `meterkit ocpi price|export`: OCPI 2.2.1 CDR pricing and tariff export.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use meterkit_tariff::{file, ocpi};

use crate::fail;

#[derive(Debug, Args)]
pub(crate) struct OcpiArgs {
    #[command(subcommand)]
    command: OcpiCommand,
}

#[derive(Debug, Subcommand)]
enum OcpiCommand {
    /// Price an OCPI CDR (2.2.1, or 2.1.1 where close enough) by its tariffs.
    Price {
        /// The CDR, as JSON.
        #[arg(long)]
        cdr: PathBuf,
        /// The tariff (one object or an array); default: the tariffs embedded in the CDR.
        #[arg(long)]
        tariff: Option<PathBuf>,
        /// IANA time zone of the tariff's times; default: the CDR location's, then the
        /// country's when it has only one zone.
        #[arg(long)]
        tz: Option<String>,
        /// Print the CDR total fields as one JSON object (the scripting contract).
        #[arg(long)]
        json: bool,
    },
    /// Print a native meterkit tariff (TOML or JSON) as an OCPI 2.2.1 tariff.
    Export {
        /// The native tariff file.
        tariff: PathBuf,
    },
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

pub(crate) fn run(args: &OcpiArgs) -> ExitCode {
    let result = match &args.command {
        OcpiCommand::Price {
            cdr,
            tariff,
            tz,
            json,
        } => (|| {
            let cdr_text = read(cdr)?;
            let tariff_text = tariff.as_deref().map(read).transpose()?;
            let priced = ocpi::price_cdr_json(&cdr_text, tariff_text.as_deref(), tz.as_deref())
                .map_err(|e| format!("{}: {e}", cdr.display()))?;
            if *json {
                println!("{}", priced.to_json());
            } else {
                print!("{priced}");
            }
            Ok(())
        })(),
        OcpiCommand::Export { tariff } => (|| {
            let text = read(tariff)?;
            let name = tariff.to_string_lossy();
            let native =
                file::load(&text, file::Format::from_file_name(&name)).map_err(|report| {
                    let first = report
                        .problems
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    format!("{name}: {first}")
                })?;
            let json = ocpi::export_json(&native).map_err(|e| format!("{name}: {e}"))?;
            println!("{json}");
            Ok(())
        })(),
    };
    result.map_or_else(|m: String| fail(&m), |()| ExitCode::SUCCESS)
}
