//! `meterkit ledger` as operators' scripts use it: the contract's operation
//! lines, exact balances, idempotent re-application, named bad fields,
//! `verify` on damaged files, the journal lock, exit statuses.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use meterkit_ledger::decode_frame;
use serde_json::{Value, json};

/// A scratch directory removed when the test ends (also on failure).
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("meterkit-cli-ledger-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        Scratch(dir)
    }

    fn journal(&self) -> PathBuf {
        self.0.join("ledger.journal")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ledger(journal: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .arg("ledger")
        .arg("--journal")
        .arg(journal)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("meterkit starts: {e}"));
    if let Some(mut input) = child.stdin.take() {
        // A command that fails before reading stdin closes it: not an error here.
        match input.write_all(stdin.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("{e}"),
            _ => {}
        }
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("meterkit finishes: {e}"))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?} is not JSON: {e}")))
        .collect()
}

fn assert_status(out: &Output, status: i32) {
    assert_eq!(out.status.code(), Some(status), "stderr: {}", stderr(out));
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
}

/// One-line `meterkit: …` failure containing `needle`.
fn assert_one_line_failure(out: &Output, status: i32, needle: &str) {
    assert_status(out, status);
    let err = stderr(out);
    assert!(err.starts_with("meterkit: "), "{err:?}");
    assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
}

const NOW: &str = "2026-11-24T08:00:00Z";

/// The operation lines of the issue's command contract, one of each.
const CONTRACT: &str = r#"{"op":"open","id":"open-alice","account":"alice","floor":"0","credit_line":"0","low_credit":"5.00"}
{"op":"topup","id":"pay-1","account":"alice","amount":"100.00"}
{"op":"hold","id":"session-1","account":"alice","amount":"50.00","expires":"2026-11-24T10:00:00Z"}
{"op":"capture","id":"read-1","hold":"session-1","cumulative":"12.34"}
{"op":"settle","id":"end-1","hold":"session-1","cumulative":"20.00"}
{"op":"void","id":"void-1","hold":"session-1"}
{"op":"expire","id":"sweep-1"}
{"op":"refund","id":"refund-1","of":"end-1","amount":"5.00"}
"#;

#[test]
fn contract_lines_give_ordered_results_with_amounts() {
    let dir = Scratch::new("contract");
    let out = ledger(&dir.journal(), &["apply", "--now", NOW], CONTRACT);
    assert_status(&out, 0);
    let results = json_lines(&out);
    let ids: Vec<&str> = results.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "open-alice",
            "pay-1",
            "session-1",
            "read-1",
            "end-1",
            "void-1",
            "sweep-1",
            "refund-1"
        ],
        "one result per line, in input order"
    );
    // 100.00 topped up, 50.00 held: available 100.00 − 50.00 = 50.00.
    assert_eq!(
        results[2],
        json!({"id":"session-1","result":"ok","held":"50.00","available":"50.00"})
    );
    // Capture 12.34 of the 50.00 hold: 37.66 left, not exhausted; available
    // stays 87.66 − 37.66 = 50.00.
    assert_eq!(
        results[3],
        json!({"id":"read-1","result":"ok","delta":"12.34","captured":"12.34",
               "remaining":"37.66","uncovered":"0.00","exhausted":false,"available":"50.00"})
    );
    // Settle at 20.00: 7.66 more captured, 50.00 − 20.00 = 30.00 released;
    // available = 100.00 − 20.00 = 80.00.
    assert_eq!(results[4]["result"], "ok");
    assert_eq!(
        (
            &results[4]["delta"],
            &results[4]["released"],
            &results[4]["available"]
        ),
        (&json!("7.66"), &json!("30.00"), &json!("80.00"))
    );
    // A settled hold cannot be voided.
    assert_eq!(results[5]["result"], "hold_not_open");
    assert_eq!(results[5]["state"], "settled");
    // Nothing left to expire.
    assert_eq!(
        results[6],
        json!({"id":"sweep-1","result":"ok","holds":0,"released":"0.00"})
    );
    // Refund 5.00 of the 20.00 captured: 80.00 + 5.00 = 85.00.
    assert_eq!(
        (&results[7]["refunded"], &results[7]["available"]),
        (&json!("5.00"), &json!("85.00"))
    );
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn reapplying_the_whole_stream_changes_nothing() {
    let dir = Scratch::new("reapply");
    let journal = dir.journal();
    let first = ledger(&journal, &["apply", "--now", NOW], CONTRACT);
    assert_status(&first, 0);
    let bytes = std::fs::read(&journal).unwrap_or_default();
    let balances = stdout(&ledger(&journal, &["balance", "--json"], ""));
    // A retry later (another clock) must not matter either.
    let again = ledger(
        &journal,
        &["apply", "--now", "2026-11-24T09:00:00Z"],
        CONTRACT,
    );
    assert_status(&again, 0);
    for (before, after) in json_lines(&first).iter().zip(json_lines(&again)) {
        let mut expected = before.clone();
        // Successes come back as "exists" with the first result's amounts;
        // failures keep failing the same way.
        if expected["result"] == "ok" {
            expected["result"] = json!("exists");
        }
        assert_eq!(after, expected);
    }
    assert_eq!(
        std::fs::read(&journal).unwrap_or_default(),
        bytes,
        "repeats are not journaled"
    );
    assert_eq!(
        stdout(&ledger(&journal, &["balance", "--json"], "")),
        balances
    );
}

#[test]
fn balance_json_values_are_exact() {
    let dir = Scratch::new("balance");
    let journal = dir.journal();
    let ops = r#"{"op":"open","id":"o-alice","account":"alice","credit_line":"10.00"}
{"op":"topup","id":"t-alice","account":"alice","amount":"100.00"}
{"op":"hold","id":"h-alice","account":"alice","amount":"50.00","expires":"2026-11-24T10:00:00Z"}
{"op":"capture","id":"c-alice","hold":"h-alice","cumulative":"12.34"}
{"op":"open","id":"o-bob","account":"bob","floor":"0","credit_line":"2.00"}
{"op":"topup","id":"t-bob","account":"bob","amount":"5.00"}
{"op":"hold","id":"h-bob","account":"bob","amount":"10.00","expires":"2026-11-24T10:00:00Z"}
{"op":"settle","id":"s-bob","hold":"h-bob","cumulative":"8.00"}
{"op":"open","id":7,"account":42}
"#;
    assert_status(&ledger(&journal, &["apply", "--now", NOW], ops), 0);
    let out = ledger(&journal, &["balance", "--json"], "");
    assert_status(&out, 0);
    let keys = |v: &Value| {
        json!({"account": v["account"], "balance": v["balance"], "held": v["held"],
               "available": v["available"], "debt": v["debt"]})
    };
    let balances: Vec<Value> = json_lines(&out).iter().map(keys).collect();
    assert_eq!(
        balances,
        [
            // Numbers sort before names. Opened, never funded.
            json!({"account":42,"balance":"0.00","held":"0.00","available":"0.00","debt":"0.00"}),
            // 100.00 − 12.34 captured = 87.66; 50.00 − 12.34 = 37.66 still held;
            // available 87.66 − 37.66 = 50.00.
            json!({"account":"alice","balance":"87.66","held":"37.66","available":"50.00","debt":"0.00"}),
            // Only 5.00 could be held. Settle at 8.00: 5.00 from the wallet, the
            // 3.00 overshoot takes the 2.00 credit line (balance 5.00 − 7.00 =
            // −2.00) and 1.00 becomes debt.
            json!({"account":"bob","balance":"-2.00","held":"0.00","available":"-2.00","debt":"1.00"}),
        ]
    );
    let table = ledger(&journal, &["balance"], "");
    assert_status(&table, 0);
    let text = stdout(&table);
    let alice = text
        .lines()
        .find(|l| l.starts_with("alice"))
        .unwrap_or_default();
    assert_eq!(
        alice.split_whitespace().collect::<Vec<_>>(),
        ["alice", "87.66", "37.66", "50.00", "0.00"]
    );
    assert!(text.starts_with("account"), "{text}");
}

#[test]
fn statement_shows_the_running_balance() {
    let dir = Scratch::new("statement");
    let journal = dir.journal();
    assert_status(&ledger(&journal, &["apply", "--now", NOW], CONTRACT), 0);
    let out = ledger(&journal, &["statement", "alice", "--json"], "");
    assert_status(&out, 0);
    let lines: Vec<(String, String, String)> = json_lines(&out)
        .iter()
        .map(|l| {
            let text = |key: &str| l[key].as_str().unwrap_or("?").to_owned();
            (text("id"), text("change"), text("balance"))
        })
        .collect();
    let expect = |id: &str, change: &str, balance: &str| {
        (id.to_owned(), change.to_owned(), balance.to_owned())
    };
    assert_eq!(
        lines,
        [
            expect("open-alice", "0.00", "0.00"),
            expect("pay-1", "100.00", "100.00"),
            // 100.00 − 12.34 = 87.66; 87.66 − 7.66 = 80.00; 80.00 + 5.00 = 85.00.
            expect("read-1", "-12.34", "87.66"),
            expect("end-1", "-7.66", "80.00"),
            expect("refund-1", "5.00", "85.00"),
        ]
    );
    let text = ledger(&journal, &["statement", "alice"], "");
    assert_status(&text, 0);
    let last = stdout(&text).lines().last().unwrap_or_default().to_owned();
    assert!(
        last.contains("refund")
            && last.contains("refund-1")
            && last.ends_with("85.00           0.00"),
        "{last:?}"
    );
}

#[test]
fn bad_lines_are_answered_naming_the_field_and_never_stop_the_stream() {
    let dir = Scratch::new("bad");
    let journal = dir.journal();
    let input = [
        r#"{"op":"open","id":"o1","account":"alice"}"#,
        r#"{"op":"topup","id":"t1","account":"alice","amount":"1.001"}"#,
        r#"{"op":"topup","id":"t2","account":"alice"}"#,
        r#"{"op":"topup","id":"t3","account":"alice","amount":100}"#,
        r#"{"op":"topup","id":"t4","acount":"alice","amount":"1.00"}"#,
        r#"{"op":"hold","id":"h1","account":"alice","amount":"1.00","expires":"tomorrow"}"#,
        r#"{"op":"teleport","id":"x1"}"#,
        r#"{"op":"topup","id":"a-much-too-long-id","account":"alice","amount":"1.00"}"#,
        r#"{"op":"topup","id":"t5","account":"alice","amount":"#,
        "[1,2,3]",
        r#"{"op":"topup","id":"t6","account":"alice","amount":"2.50"}"#,
    ]
    .join("\n");
    let out = ledger(&journal, &["apply", "--now", NOW], &input);
    assert_status(&out, 0);
    let results = json_lines(&out);
    let summary: Vec<(Value, Value, Value)> = results
        .iter()
        .map(|r| (r["id"].clone(), r["result"].clone(), r["field"].clone()))
        .collect();
    let bad = |id: Value, field: Value| (id, json!("bad_request"), field);
    assert_eq!(
        summary,
        [
            (json!("o1"), json!("ok"), Value::Null),
            bad(json!("t1"), json!("amount")),
            bad(json!("t2"), json!("amount")),
            bad(json!("t3"), json!("amount")),
            bad(json!("t4"), json!("acount")),
            bad(json!("h1"), json!("expires")),
            bad(json!("x1"), json!("op")),
            bad(json!("a-much-too-long-id"), json!("id")),
            bad(Value::Null, Value::Null),
            bad(Value::Null, Value::Null),
            (json!("t6"), json!("ok"), Value::Null),
        ]
    );
    assert!(
        results
            .iter()
            .all(|r| r["result"] == "ok" || r["error"].is_string()),
        "every failure says why"
    );
    assert_eq!(results[10]["available"], "2.50");
    // Only the two good lines reached the journal, and it is intact.
    let verified = ledger(&journal, &["verify"], "");
    assert_status(&verified, 0);
    assert!(
        stdout(&verified).starts_with("ok: 3 records, last sequence 2,"),
        "{}",
        stdout(&verified)
    );
}

/// Byte offsets where each record starts.
fn record_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 0;
    while let Ok((_, size)) = decode_frame(bytes.get(at..).unwrap_or_default()) {
        starts.push(at);
        at += size;
    }
    assert_eq!(at, bytes.len(), "the whole file is records");
    starts
}

#[test]
fn verify_names_the_first_bad_record_by_byte_offset() {
    let dir = Scratch::new("verify");
    let journal = dir.journal();
    assert_status(&ledger(&journal, &["apply", "--now", NOW], CONTRACT), 0);
    let clean = ledger(&journal, &["verify"], "");
    assert_status(&clean, 0);
    // The snapshot record plus the eight operations (void-1 is journaled as a
    // failed id so it keeps failing); sequence numbers count the operations.
    assert!(
        stdout(&clean).starts_with("ok: 9 records, last sequence 8,"),
        "{}",
        stdout(&clean)
    );
    assert_eq!(stdout(&clean).lines().count(), 1);
    let bytes = std::fs::read(&journal).unwrap_or_default();
    let starts = record_starts(&bytes);
    assert_eq!(starts.len(), 9);
    let mut ends = starts.iter().skip(1).copied().collect::<Vec<_>>();
    ends.push(bytes.len());
    for (record, (&start, &end)) in starts.iter().zip(&ends).enumerate() {
        // Flip one bit in the middle of each record in turn: verify must
        // blame that record's first byte, whatever field the bit is in.
        let mut damaged = bytes.clone();
        let middle = start + (end - start) / 2;
        damaged[middle] ^= 0x10;
        std::fs::write(&journal, &damaged).unwrap_or_else(|e| panic!("{e}"));
        let out = ledger(&journal, &["verify"], "");
        assert_status(&out, 1);
        let line = stdout(&out);
        assert!(
            line.starts_with(&format!("broken: record {} at byte {start}:", record + 1)),
            "record {record} flipped at {middle}: {line}"
        );
        assert_eq!(line.lines().count(), 1);
        // verify never repairs: the damage is still there.
        assert_eq!(std::fs::read(&journal).unwrap_or_default(), damaged);
    }
    // A torn tail (last record cut short) is reported at its start too.
    let last = starts[8];
    std::fs::write(&journal, &bytes[..bytes.len() - 3]).unwrap_or_else(|e| panic!("{e}"));
    let torn = ledger(&journal, &["verify"], "");
    assert_status(&torn, 1);
    assert!(
        stdout(&torn).starts_with(&format!(
            "broken: record 9 at byte {last}: incomplete record"
        )),
        "{}",
        stdout(&torn)
    );
    // balance still shows the valid prefix, with a warning on stderr.
    let balance = ledger(&journal, &["balance", "--json"], "");
    assert_status(&balance, 0);
    assert!(stderr(&balance).contains(&format!("invalid record at byte {last}")));
    // Without the refund: 80.00.
    assert_eq!(json_lines(&balance)[0]["balance"], "80.00");
    // Not a journal at all: nothing to show, and apply refuses to touch it.
    std::fs::write(&journal, b"not a journal").unwrap_or_else(|e| panic!("{e}"));
    let garbage = ledger(&journal, &["verify"], "");
    assert_status(&garbage, 1);
    assert!(
        stdout(&garbage).starts_with("broken: record 1 at byte 0:"),
        "{}",
        stdout(&garbage)
    );
    assert_one_line_failure(
        &ledger(&journal, &["balance"], ""),
        1,
        "no valid checkpoint",
    );
    assert_one_line_failure(
        &ledger(&journal, &["apply", "--now", NOW], CONTRACT),
        1,
        "no valid checkpoint",
    );
    assert_eq!(
        std::fs::read(&journal).unwrap_or_default(),
        b"not a journal"
    );
}

#[test]
fn without_now_the_wall_clock_decides_expiry() {
    let dir = Scratch::new("clock");
    let journal = dir.journal();
    let ops = r#"{"op":"open","id":"o1","account":"alice"}
{"op":"topup","id":"t1","account":"alice","amount":"10.00"}
{"op":"hold","id":"h1","account":"alice","amount":"5.00","expires":"2000-01-01T00:00:00Z"}
{"op":"capture","id":"c1","hold":"h1","cumulative":"1.00"}
"#;
    // In 1999 the hold can be placed and captured from; by the wall clock
    // its expiry is long past, so it is refused and the capture finds nothing.
    let then = ledger(&journal, &["apply", "--now", "1999-12-31T23:00:00Z"], ops);
    let then: Vec<Value> = json_lines(&then)
        .into_iter()
        .map(|r| r["result"].clone())
        .collect();
    assert_eq!(then, ["ok", "ok", "ok", "ok"]);
    let other = Scratch::new("clock-now");
    let today = ledger(&other.journal(), &["apply"], ops);
    assert_status(&today, 0);
    let today: Vec<Value> = json_lines(&today)
        .into_iter()
        .map(|r| r["result"].clone())
        .collect();
    assert_eq!(
        today,
        ["ok", "ok", "expiry_not_after_now", "hold_not_found"]
    );
}

#[test]
fn a_journal_in_use_is_refused() {
    let dir = Scratch::new("lock");
    let journal = dir.journal();
    let mut holder = Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .arg("ledger")
        .arg("--journal")
        .arg(&journal)
        .args(["apply", "--now", NOW])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut input = holder.stdin.take().unwrap_or_else(|| panic!("stdin"));
    let mut output = BufReader::new(holder.stdout.take().unwrap_or_else(|| panic!("stdout")));
    input
        .write_all(b"{\"op\":\"open\",\"id\":\"o1\",\"account\":\"alice\"}\n")
        .unwrap_or_else(|e| panic!("{e}"));
    input.flush().unwrap_or_else(|e| panic!("{e}"));
    // Its first answer proves the holder has the journal open (and locked).
    let mut first = String::new();
    output
        .read_line(&mut first)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(first.contains("\"ok\""), "{first}");
    let second = ledger(
        &journal,
        &["apply", "--now", NOW],
        "{\"op\":\"open\",\"id\":\"o2\",\"account\":\"bob\"}\n",
    );
    assert_one_line_failure(&second, 1, "in use by another process");
    assert!(stdout(&second).is_empty());
    // Readers replay a snapshot and do not need the lock.
    assert_status(&ledger(&journal, &["balance", "--json"], ""), 0);
    drop(input);
    let status = holder.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    // Released on exit: bob's open goes through now.
    let third = ledger(
        &journal,
        &["apply", "--now", NOW],
        "{\"op\":\"open\",\"id\":\"o2\",\"account\":\"bob\"}\n",
    );
    assert_status(&third, 0);
    assert_eq!(json_lines(&third)[0]["result"], "ok");
}

#[test]
fn unusable_arguments_exit_2_in_one_line() {
    let dir = Scratch::new("args");
    let journal = dir.journal();
    assert_one_line_failure(
        &ledger(&journal, &["apply", "--now", "yesterday"], ""),
        2,
        "--now",
    );
    assert!(!journal.exists(), "a refused apply creates nothing");
    assert_one_line_failure(&ledger(&journal, &["balance"], ""), 2, "ledger.journal");
    assert_one_line_failure(&ledger(&journal, &["verify"], ""), 2, "ledger.journal");
    assert_status(&ledger(&journal, &["apply", "--now", NOW], CONTRACT), 0);
    assert_one_line_failure(
        &ledger(&journal, &["statement", "bob"], ""),
        2,
        "no account \"bob\"",
    );
    assert_one_line_failure(
        &ledger(&journal, &["statement", "a-name-that-is-too-long"], ""),
        2,
        "account",
    );
    let missing_dir = dir.0.join("no-such-dir").join("ledger.journal");
    assert_one_line_failure(
        &ledger(&missing_dir, &["apply", "--now", NOW], ""),
        2,
        "no-such-dir",
    );
    // An empty stdin applies nothing and succeeds.
    let empty = ledger(&journal, &["apply", "--now", NOW], "");
    assert_status(&empty, 0);
    assert!(stdout(&empty).is_empty());
}
