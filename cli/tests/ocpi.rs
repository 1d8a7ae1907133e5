//! `meterkit ocpi price|export` per the command contract of issue 5.

use std::process::{Command, Output};

use serde_json::Value as Json;

fn example(name: &str) -> String {
    format!(
        "{}/../tariff/examples-data/ocpi/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn meterkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .args(args)
        .output()
        .expect("meterkit runs")
}

#[test]
fn price_json_has_every_contract_field() {
    let out = meterkit(&[
        "ocpi",
        "price",
        "--cdr",
        &example("cdr-2.2.1.json"),
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let priced: Json = serde_json::from_slice(&out.stdout).expect("one JSON object");
    for key in [
        "total_cost",
        "total_fixed_cost",
        "total_energy_cost",
        "total_time_cost",
        "total_parking_cost",
        "total_reservation_cost",
    ] {
        let value = &priced[key];
        assert!(
            value.is_null() || value["excl_vat"].is_string(),
            "{key}: {value}"
        );
    }
    for key in ["total_energy", "total_time", "total_parking_time"] {
        assert!(priced[key].is_string(), "{key}");
    }
    // Hand check: fixed 0.50 + energy 3.225 + time 1.80 + parking 2.50 = 8.025 excl. VAT;
    // × 1.21 = 9.71025, ties away from zero at 4 decimals → 9.7103.
    assert_eq!(priced["total_cost"]["excl_vat"], "8.0250");
    assert_eq!(priced["total_cost"]["incl_vat"], "9.7103");
    assert_eq!(priced["total_reservation_cost"], Json::Null);
}

#[test]
fn ocpi_2_1_1_and_readable_output() {
    let out = meterkit(&["ocpi", "price", "--cdr", &example("cdr-2.1.1.json")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("excl. VAT"));
}

#[test]
fn export_prints_an_ocpi_tariff() {
    let out = meterkit(&["ocpi", "export", &example("native-night.toml")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tariff: Json = serde_json::from_slice(&out.stdout).expect("tariff JSON");
    assert!(tariff["elements"].as_array().is_some_and(|e| !e.is_empty()));
    assert_eq!(tariff["currency"], "EUR");
}

#[test]
fn bad_input_names_the_json_path_in_one_line() {
    let dir = std::env::temp_dir().join(format!("meterkit-ocpi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"id": 3}"#).expect("write");
    let out = meterkit(&[
        "ocpi",
        "price",
        "--cdr",
        bad.to_str().expect("utf-8"),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("$.id"), "{err}");
    assert_eq!(err.lines().count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
