//! `meterkit demo` end to end: a simulated meter on a pseudo-terminal, the file journal,
//! the example tariff, accelerated time. The money must add up to the cent.

use std::process::Command;

use serde_json::Value as Json;

fn cents(text: &str) -> i64 {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    let whole: i64 = whole.trim_start_matches('-').parse().expect("whole part");
    let fraction: i64 = format!("{fraction:0<2}")[..2]
        .parse()
        .expect("two decimals");
    sign * (whole * 100 + fraction)
}

#[test]
fn demo_deducts_exactly_the_bill_and_stops_when_the_money_runs_out() {
    demo_run(&[], "dlt645");
}

#[test]
fn the_same_over_a_simulated_modbus_meter() {
    demo_run(&["--modbus"], "modbus");
}

fn demo_run(extra: &[&str], name: &str) {
    let dir =
        std::env::temp_dir().join(format!("meterkit-demo-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join("report");
    let journal = dir.join("wallet.journal");
    let run = Command::new(env!("CARGO_BIN_EXE_meterkit"))
        // 12000x: the session's ~4.7 simulated hours take ~1.4 s; on a slow machine the
        // reads fall behind and fewer readings fit, which changes nothing below.
        .args([
            "demo",
            "--speed",
            "12000",
            "--no-progress",
            "--balance",
            "50.00",
        ])
        .args(extra)
        .arg("--out")
        .arg(&out)
        .arg("--journal")
        .arg(&journal)
        .output()
        .expect("demo runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("HoldExhausted"),
        "the money runs out before 8 simulated hours: {stdout}"
    );

    // The bill and the ledger agree to the cent: top-up − balance + debt = bill total.
    let bill: Json =
        serde_json::from_str(&std::fs::read_to_string(out.join("bill.json")).expect("bill.json"))
            .expect("bill JSON");
    let total = cents(bill["totals"]["total"].as_str().expect("total"));
    let balance = Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .arg("ledger")
        .arg("--journal")
        .arg(&journal)
        .args(["balance", "--json"])
        .output()
        .expect("balance runs");
    let wallet: Json = String::from_utf8_lossy(&balance.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("JSON line"))
        .find(|a| a["account"] == "demo-user")
        .expect("the demo user's wallet");
    let deducted = 5000 - cents(wallet["balance"].as_str().expect("balance"))
        + cents(wallet["debt"].as_str().expect("debt"));
    assert_eq!(deducted, total, "deducted {deducted} cents, billed {total}");

    // The journal verifies: checksums, chain and invariants.
    let verify = Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .arg("ledger")
        .arg("--journal")
        .arg(&journal)
        .arg("verify")
        .output()
        .expect("verify runs");
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );

    // The stop came at the first reading whose cost reached the 50.00 held.
    let readings = std::fs::read_to_string(out.join("readings.csv")).expect("readings.csv");
    let costs: Vec<i64> = readings
        .lines()
        .skip(1)
        .map(|l| cents(l.split(',').nth(2).expect("cost column")))
        .collect();
    assert!(
        costs.len() > 20,
        "a reading every simulated minute or so ({})",
        costs.len()
    );
    let last = costs[costs.len() - 1];
    let before = costs[costs.len() - 2];
    assert!(
        last >= 5000 && before < 5000,
        "stopped at {last} after {before}"
    );
    assert!(
        costs.windows(2).all(|w| w[0] <= w[1]),
        "cost never decreases"
    );

    // The page a person opens has the three charts and the total.
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    for needle in [
        "<svg",
        "id=\"power\"",
        "id=\"cost\"",
        "id=\"balance\"",
        "id=\"total\"",
        "class=\"power\" data-period=\"sharp\"",
    ] {
        assert!(html.contains(needle), "report.html lacks {needle}");
    }
    assert!(
        html.contains(&format!("{}.{:02} CNY", total / 100, total % 100)),
        "the page shows the billed total"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_explains_the_resume_after_a_kill() {
    let help = Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .args(["demo", "--help"])
        .output()
        .expect("help runs");
    let text = String::from_utf8_lossy(&help.stdout);
    assert_eq!(help.status.code(), Some(0));
    for needle in [
        "<journal>.session",
        "Resumed unfinished session",
        "torn last log",
        "Nothing is deducted twice",
    ] {
        assert!(text.contains(needle), "--help lacks {needle:?}: {text}");
    }
}
