//! `meterkit demo --journal F` killed with SIGKILL in the middle of a session and started
//! again: the second run resumes the session, finishes it, and the wallet pays the bill
//! exactly once.
//!
//! No assertion depends on timing: the kill comes after the run printed progress (so some
//! readings were captured), wherever that is; the waits only guard against a hang.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use meterkit_ledger::{HoldState, Id, Table, verify};
use serde_json::Value as Json;

/// Only a guard against a hung child; never a measurement.
const GUARD: Duration = Duration::from_secs(120);

fn cents(text: &str) -> i128 {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    let whole: i128 = whole.trim_start_matches('-').parse().expect("whole part");
    let fraction: i128 = format!("{fraction:0<2}")[..2]
        .parse()
        .expect("two decimals");
    sign * (whole * 100 + fraction)
}

/// The demo at 1200× real time: the ~4.7 simulated hours until the 50.00 run out take
/// about 14 s, so a kill after the first progress lines lands mid-session.
fn spawn_demo(dir: &Path, journal: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .args(["demo", "--speed", "1200", "--balance", "50.00"])
        .arg("--out")
        .arg(dir.join("report"))
        .arg("--journal")
        .arg(journal)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("meterkit demo starts")
}

/// The child's stdout lines as they are printed (the demo prints whole lines).
fn stdout_lines(child: &mut Child) -> Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn stderr_text(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut text);
    }
    text
}

/// A plain progress line: `  08:15    5.250 kWh  cost 4.89  balance 45.11  flat`.
fn is_progress(line: &str) -> bool {
    line.contains(" kWh  cost ") && line.contains("  balance ")
}

/// The demo user's single hold in the journal (it verifies first: checksums, chain,
/// invariants).
fn the_hold(journal: &Path) -> meterkit_ledger::Hold {
    let (ledger, verification) = verify(journal).expect("journal readable");
    assert!(verification.is_ok(), "journal verifies: {verification:?}");
    let user = Id::name("demo-user").expect("name");
    let mut holds = Vec::new();
    ledger.tables().1.for_each(|_, hold| {
        if hold.account == user {
            holds.push(*hold);
        }
    });
    assert_eq!(holds.len(), 1, "one session, one hold: {holds:?}");
    holds[0]
}

fn append(path: &Path, bytes: &[u8]) {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("the session log is there");
    file.write_all(bytes).expect("appended");
}

fn session_log(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".session");
    PathBuf::from(name)
}

/// Runs the demo until it printed three progress lines (a reading priced and captured
/// each), then kills it with SIGKILL (`Child::kill` on Unix). Returns its output.
fn run_and_kill(dir: &Path, journal: &Path) -> Vec<String> {
    let mut child = spawn_demo(dir, journal);
    let lines = stdout_lines(&mut child);
    let mut seen: Vec<String> = Vec::new();
    while seen.iter().filter(|l| is_progress(l.as_str())).count() < 3 {
        let Ok(line) = lines.recv_timeout(GUARD) else {
            let _ = child.kill();
            panic!("no progress: {seen:#?}\n{}", stderr_text(&mut child));
        };
        seen.push(line);
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert!(!status.success(), "killed, not finished: {seen:#?}");
    // The killed run could not remove its work directory (the meter's link lived there).
    let work = format!("meterkit-demo-{}-", child.id());
    for entry in std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        if entry.file_name().to_string_lossy().starts_with(&work) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    seen
}

#[test]
fn killed_mid_session_and_restarted_the_wallet_pays_the_bill_exactly_once() {
    let dir = std::env::temp_dir().join(format!("meterkit-demo-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let journal = dir.join("wallet.journal");

    // Killed twice: once in the first run, once in the resumed one. After each kill, half
    // a line is appended to the session log, as a kill in the middle of an append leaves
    // it: the next run must ignore it, and cut it off before appending (else the third
    // run would find a damaged line in the middle of the log and refuse).
    let first = run_and_kill(&dir, &journal);
    assert!(!first.iter().any(|l| l.contains("Resumed")), "{first:#?}");
    let torn = b"reading at=1752540541.754000000 wh=12";
    append(&session_log(&journal), torn);
    // Another tariff cannot resume it (nor touch it).
    let other = Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .args(["demo", "--no-progress", "--tariff"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tariff/examples-data/eu-time-parking.toml"
        ))
        .arg("--journal")
        .arg(&journal)
        .output()
        .expect("demo runs");
    assert_eq!(other.status.code(), Some(2));
    let message = String::from_utf8_lossy(&other.stderr);
    assert!(message.contains("another tariff"), "{message}");
    let second = run_and_kill(&dir, &journal);
    assert!(
        second
            .iter()
            .any(|l| l.contains("Resumed unfinished session")),
        "{second:#?}"
    );
    append(&session_log(&journal), torn);

    // Killed mid-session: the hold is open and has captured something; the session log
    // is still there.
    let at_kill = the_hold(&journal);
    assert_eq!(at_kill.state, HoldState::Open);
    assert!(at_kill.captured > 0, "captures before the kill");
    assert!(session_log(&journal).exists());

    // Third run, same command: resumes and finishes.
    let mut third = spawn_demo(&dir, &journal);
    let lines = stdout_lines(&mut third);
    let mut output = Vec::new();
    loop {
        match lines.recv_timeout(GUARD) {
            Ok(line) => output.push(line),
            // Closed: the demo exited.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = third.kill();
                panic!("the third run hangs: {output:#?}");
            }
        }
    }
    let status = third.wait().expect("reaped");
    let stdout = output.join("\n");
    assert!(status.success(), "{stdout}\n{}", stderr_text(&mut third));
    let resumed = output
        .iter()
        .find(|l| l.contains("Resumed unfinished session"))
        .unwrap_or_else(|| panic!("the resume is announced: {stdout}"));
    // "... cost so far 9.98 CNY, captured 9.98." — at least what the ledger held at the
    // kill (more if the kill cut a capture off, which the replay then made).
    let captured = resumed
        .rsplit("captured ")
        .next()
        .map(|t| cents(t.trim_end_matches('.')))
        .expect("captured so far");
    assert!(
        captured >= i128::from(at_kill.captured),
        "{resumed} vs {at_kill:?}"
    );
    assert!(stdout.contains("HoldExhausted"), "{stdout}");

    // The money, to the cent: bill total = captured + settled beyond the hold = what the
    // wallet lost (50.00 topped up once − balance + debt).
    let bill: Json = serde_json::from_str(
        &std::fs::read_to_string(dir.join("report/bill.json")).expect("bill.json"),
    )
    .expect("bill JSON");
    let total = cents(bill["totals"]["total"].as_str().expect("total"));
    let hold = the_hold(&journal);
    assert_eq!(hold.state, HoldState::Settled);
    assert_eq!(
        i128::from(hold.captured + hold.overshoot),
        total,
        "the hold settled the bill total"
    );
    let (ledger, _) = verify(&journal).expect("journal readable");
    let wallet = *ledger
        .account(Id::name("demo-user").expect("name"))
        .expect("the demo user's wallet");
    let paid = 5_000 - wallet.balance() + wallet.debt();
    assert_eq!(paid, total, "deducted {paid} cents, billed {total}");
    assert_eq!(
        ledger.system().revenue_credits,
        u128::try_from(total).unwrap_or(0)
    );

    // One settled session, reported once; nothing left to resume.
    let receipts =
        std::fs::read_to_string(dir.join("wallet.journal.receipts.jsonl")).expect("receipts");
    let receipts: Vec<Json> = receipts
        .lines()
        .map(|l| serde_json::from_str(l).expect("receipt JSON"))
        .collect();
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert_eq!(
        cents(receipts[0]["total"].as_str().expect("receipt total")),
        total
    );
    assert!(
        !session_log(&journal).exists(),
        "the session log is removed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
