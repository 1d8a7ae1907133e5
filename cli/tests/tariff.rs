//! `meterkit bill` and `meterkit tariff` on the example files shipped with
//! meterkit-tariff, and on broken ones.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value as Json;

fn example(name: &str) -> String {
    format!(
        "{}/../tariff/examples-data/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn meterkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .args(args)
        .output()
        .expect("meterkit runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A file in a fresh temporary directory, removed with the guard.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("meterkit-tariff-cli-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, contents).expect("write temp file");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn bill_of_the_chinese_example_session() {
    let tariff = example("cn-tou.toml");
    let readings = example("cn-session.csv");
    let out = meterkit(&[
        "bill",
        "--tariff",
        &tariff,
        "--readings",
        &readings,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bill: Json = serde_json::from_slice(&out.stdout).expect("the JSON bill is one object");
    // 10:30-11:00 is peak, 11:00-13:00 the summer sharp period: two priced lines.
    let text = bill.to_string();
    assert!(text.contains("sharp") && text.contains("peak"), "{text}");

    let table = meterkit(&["bill", "--tariff", &tariff, "--readings", &readings]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("TOTAL"), "{table}");
    let csv = meterkit(&[
        "bill",
        "--tariff",
        &tariff,
        "--readings",
        &readings,
        "--format",
        "csv",
    ]);
    assert_eq!(csv.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&csv.stdout).lines().count() >= 3);
}

#[test]
fn show_and_check_the_examples() {
    for name in [
        "cn-tou.toml",
        "eu-time-parking.toml",
        "eu-time-parking.json",
    ] {
        let path = example(name);
        let check = meterkit(&["tariff", "check", &path]);
        assert_eq!(check.status.code(), Some(0), "{name}: {}", stderr(&check));
        let show = meterkit(&["tariff", "show", &path]);
        assert_eq!(show.status.code(), Some(0), "{name}");
        assert!(
            String::from_utf8_lossy(&show.stdout).contains("per kWh"),
            "{name}"
        );
    }
}

#[test]
fn check_names_the_line_of_each_problem() {
    let original = std::fs::read_to_string(example("cn-tou.toml")).expect("example");
    // Make 10:00-15:00 overlap the flat period before it.
    let broken = original.replacen("  \"10:00-15:00 peak\",", "  \"09:00-15:00 peak\",", 1);
    assert_ne!(
        broken, original,
        "the example still has the slot this test edits"
    );
    let line = broken
        .lines()
        .position(|l| l.contains("09:00-15:00 peak"))
        .expect("edited line")
        + 1;
    let file = TempFile::new("broken.toml", &broken);
    let out = meterkit(&["tariff", "check", file.path()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("line {line}")),
        "expected line {line} in {err}"
    );
    // bill refuses the same file in one line.
    let bill = meterkit(&[
        "bill",
        "--tariff",
        file.path(),
        "--readings",
        &example("cn-session.csv"),
    ]);
    assert_eq!(bill.status.code(), Some(2));
    assert_eq!(stderr(&bill).lines().count(), 1, "{}", stderr(&bill));
}

#[test]
fn unusable_input_is_one_line_and_exit_2() {
    let tariff = example("cn-tou.toml");
    let missing = meterkit(&[
        "bill",
        "--tariff",
        "/nonexistent/t.toml",
        "--readings",
        &example("cn-session.csv"),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("cannot read"),
        "{}",
        stderr(&missing)
    );
    let bad_csv = TempFile::new("bad.csv", "timestamp,energy_kwh\nyesterday,12\n");
    let out = meterkit(&["bill", "--tariff", &tariff, "--readings", bad_csv.path()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
