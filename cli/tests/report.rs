//! `meterkit report`: two demo sessions into one journal, grouped every way; the HTML
//! rendered by a real headless browser when one is installed (`.ci/run` installs
//! Debian's chromium).

use std::path::Path;
use std::process::{Command, Output};

use rust_decimal::Decimal;
use serde_json::Value as Json;

fn meterkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .args(args)
        .output()
        .expect("meterkit runs")
}

fn json_lines(out: &Output) -> Vec<Json> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn decimal(value: &Json) -> Decimal {
    value
        .as_str()
        .expect("decimal string")
        .parse()
        .expect("decimal")
}

/// Renders `page` in headless chromium and returns the DOM, or `None` without a browser.
fn browser_dom(page: &Path) -> Option<String> {
    let browser = ["chromium", "chromium-browser"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })?;
    let profile = page.with_extension("chromium-profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn fee_report_per_session_user_and_charger() {
    let dir = std::env::temp_dir().join(format!("meterkit-report-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let journal = dir.join("wallet.journal");
    let j = journal.to_str().expect("utf-8 path");
    for (extra, out) in [
        (&[][..], "o1"),
        (&["--modbus", "--balance", "20.00"][..], "o2"),
    ] {
        let mut args = vec!["demo", "--speed", "12000", "--no-progress", "--journal", j];
        let out = dir.join(out);
        args.extend_from_slice(&["--out", out.to_str().expect("utf-8")]);
        args.extend_from_slice(extra);
        let run = meterkit(&args);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }

    let sessions = json_lines(&meterkit(&[
        "report",
        "--journal",
        j,
        "--by",
        "session",
        "--format",
        "json",
    ]));
    assert_eq!(sessions.len(), 2);
    let users = json_lines(&meterkit(&[
        "report",
        "--journal",
        j,
        "--by",
        "user",
        "--format",
        "json",
    ]));
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["sessions"], 2);
    // The user's total is the exact sum of the sessions' totals, and each session's total
    // is its electricity + service + tax where no other fee applies.
    let sum: Decimal = sessions.iter().map(|s| decimal(&s["total"])).sum();
    assert_eq!(decimal(&users[0]["total"]), sum);
    let chargers = json_lines(&meterkit(&[
        "report",
        "--journal",
        j,
        "--by",
        "charger",
        "--format",
        "json",
    ]));
    assert_eq!(chargers.len(), 2, "a DL/T 645 and a Modbus charger");

    // The money in the ledger: 70.00 topped up and spent, the overshoot as debt.
    let balance = json_lines(&meterkit(&["ledger", "--journal", j, "balance", "--json"]));
    let wallet = balance
        .iter()
        .find(|a| a["account"] == "demo-user")
        .expect("wallet");
    let spent = Decimal::new(7000, 2) - decimal(&wallet["balance"]) + decimal(&wallet["debt"]);
    assert_eq!(spent, sum, "the report's total is what the ledger deducted");

    // Filters and bad input.
    let none = meterkit(&[
        "report",
        "--journal",
        j,
        "--from",
        "2099-01-01T00:00:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(none.status.code(), Some(0));
    assert!(none.stdout.is_empty());
    assert_eq!(
        meterkit(&["report", "--journal", j, "--from", "yesterday"])
            .status
            .code(),
        Some(2)
    );
    let csv = String::from_utf8_lossy(
        &meterkit(&["report", "--journal", j, "--by", "user", "--format", "csv"]).stdout,
    )
    .into_owned();
    assert!(
        csv.starts_with("user,sessions,period,energy_kwh,amount") && csv.contains(",total,"),
        "{csv}"
    );

    // The HTML page, as a browser builds it.
    let html = meterkit(&[
        "report",
        "--journal",
        j,
        "--by",
        "charger",
        "--format",
        "html",
    ]);
    let page = dir.join("fees.html");
    std::fs::write(&page, &html.stdout).expect("write page");
    let text = String::from_utf8_lossy(&html.stdout);
    assert!(
        text.contains(&format!(r#"id="grand-total">{sum}<"#)),
        "grand total on the page"
    );
    match browser_dom(&page) {
        Some(dom) => {
            assert!(
                dom.contains(&format!(r#"id="grand-total">{sum}<"#)),
                "the rendered DOM has the total"
            );
            assert!(
                dom.matches(r#"class="fee""#).count() >= 4,
                "stacked bars per period are drawn"
            );
        }
        None => eprintln!("no chromium here: the page was checked as text only"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
