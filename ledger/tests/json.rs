//! JSON Lines contract: parsing, field-naming errors, result lines, and the
//! apply loop over a file journal.

#![cfg(feature = "std")]

use std::io::BufReader;

use meterkit_ledger::json::{self, Problem, RequestError};
use meterkit_ledger::{AmountError, Durable, FileJournal, Id, Op, Scale, Timestamp, verify};
use proptest::prelude::*;
use serde_json::Value;

fn name(text: &str) -> Id {
    Id::name(text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn parses_every_operation_of_the_contract() {
    let s = Scale::default();
    let open = r#"{"op":"open","id":"o1","account":"alice","floor":"0","credit_line":"2.50","low_credit":"5.00"}"#;
    assert_eq!(
        json::parse_op(open, s),
        Ok(Op::Open {
            id: name("o1"),
            account: name("alice"),
            floor: 0,
            credit_line: 250,
            low_credit: 500
        })
    );
    let hold = r#"{"op":"hold","id":7,"account":"alice","amount":"50.00","expires":"1970-01-01T00:01:00+00:00"}"#;
    assert_eq!(
        json::parse_op(hold, s),
        Ok(Op::Hold {
            id: Id::from_raw(7),
            account: name("alice"),
            amount: 5_000,
            expires: Timestamp(60_000)
        })
    );
    let capture = r#"{"op":"capture","id":"c1","hold":7,"cumulative":"12.34"}"#;
    assert_eq!(
        json::parse_op(capture, s),
        Ok(Op::Capture {
            id: name("c1"),
            hold: Id::from_raw(7),
            cumulative: 1_234
        })
    );
    assert_eq!(
        json::parse_op(r#"{"op":"expire","id":"e"}"#, s),
        Ok(Op::Expire { id: name("e") })
    );
}

#[test]
fn bad_lines_name_the_field() {
    let s = Scale::default();
    let cases: [(&str, Option<&str>); 9] = [
        (
            r#"{"op":"topup","id":"t","account":"a","amount":"1.234"}"#,
            Some("amount"),
        ),
        (r#"{"op":"topup","id":"t","account":"a"}"#, Some("amount")),
        (
            r#"{"op":"topup","id":"t","account":"a","amount":12}"#,
            Some("amount"),
        ),
        (
            r#"{"op":"topup","id":"t","account":"a","amout":"1"}"#,
            Some("amout"),
        ),
        (
            r#"{"op":"topup","id":"a-very-long-identifier","account":"a","amount":"1"}"#,
            Some("id"),
        ),
        (
            r#"{"op":"hold","id":"h","account":"a","amount":"1","expires":"tomorrow"}"#,
            Some("expires"),
        ),
        (r#"{"op":"teleport","id":"x"}"#, Some("op")),
        (r"[1,2]", None),
        (r#"{"op":"topup","#, None),
    ];
    for (line, field) in cases {
        let error = json::parse_op(line, s).err();
        assert_eq!(
            error.as_ref().and_then(RequestError::field),
            field,
            "{line}"
        );
    }
    assert_eq!(
        json::parse_op(
            r#"{"op":"topup","id":"t","account":"a","amount":"1.234"}"#,
            s
        ),
        Err(RequestError::Invalid {
            field: "amount",
            problem: Problem::Amount(AmountError::TooPrecise { scale: 2 })
        })
    );
}

#[test]
fn apply_loop_answers_every_line_in_order_and_survives_bad_input() {
    let dir = std::env::temp_dir().join(format!("meterkit-ledger-json-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("ledger.journal");
    let input = [
        r#"{"op":"open","id":"o1","account":"alice","low_credit":"20.00"}"#,
        r#"{"op":"topup","id":"t1","account":"alice","amount":"100.00"}"#,
        r#"{"op":"topup","id":"t2","account":"alice","amount":"-5"}"#,
        "",
        r#"{"op":"hold","id":"h1","account":"alice","amount":"90.00","expires":"2030-01-01T00:00:00Z"}"#,
        r#"{"op":"capture","id":"c1","hold":"h1","cumulative":"12.34"}"#,
        "not json at all",
        r#"{"op":"capture","id":"c2","hold":"h1","cumulative":"95.00"}"#,
        r#"{"op":"settle","id":"s1","hold":"h1","cumulative":"95.00"}"#,
        r#"{"op":"topup","id":"t1","account":"alice","amount":"100.00"}"#,
    ]
    .join("\n");
    let now = Timestamp(1_700_000_000_000);
    let run = |input: &str| -> Vec<Value> {
        let (ledger, journal, _) =
            FileJournal::open_or_create(&path, Scale::default()).unwrap_or_else(|e| panic!("{e}"));
        let mut durable = Durable::new(ledger, journal);
        let mut output = Vec::new();
        let mut reader = BufReader::new(input.as_bytes());
        json::apply_lines(&mut reader, &mut output, &mut durable, || now, 64)
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&output)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect()
    };
    let first = run(&input);
    let results: Vec<&str> = first
        .iter()
        .map(|v| v["result"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        results,
        [
            "ok",
            "ok",
            "bad_request",
            "ok",
            "ok",
            "bad_request",
            "ok",
            "ok",
            "exists"
        ]
    );
    assert_eq!(first[2]["field"], "amount");
    assert_eq!(first[2]["id"], "t2");
    // hold 90.00 of 100.00: available 10.00 < 20.00 → low credit.
    assert_eq!(
        (first[3]["held"].as_str(), first[3]["low_credit"].as_bool()),
        (Some("90.00"), Some(true))
    );
    assert_eq!(
        (
            first[4]["captured"].as_str(),
            first[4]["exhausted"].as_bool()
        ),
        (Some("12.34"), Some(false))
    );
    // cumulative 95.00 > held 90.00: captures 77.66, reports 5.00 uncovered.
    assert_eq!(
        (
            first[6]["delta"].as_str(),
            first[6]["uncovered"].as_str(),
            first[6]["exhausted"].as_bool()
        ),
        (Some("77.66"), Some("5.00"), Some(true))
    );
    // Settle: overshoot 5.00 paid from the 10.00 above the floor.
    assert_eq!(
        (
            first[7]["from_wallet"].as_str(),
            first[7]["available"].as_str()
        ),
        (Some("5.00"), Some("5.00"))
    );
    // The same stream again: every valid line is a repeat, nothing moves.
    let second = run(&input);
    let again: Vec<&str> = second
        .iter()
        .map(|v| v["result"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        again,
        [
            "exists",
            "exists",
            "bad_request",
            "exists",
            "exists",
            "bad_request",
            "exists",
            "exists",
            "exists"
        ]
    );
    let (ledger, verification) = verify(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(verification.is_ok());
    assert_eq!(ledger.seq(), 6, "bad lines are never journaled");
    let balances = ledger
        .account(name("alice"))
        .map(|a| json::balance_value(name("alice"), a, ledger.scale()));
    assert_eq!(
        balances.as_ref().map(|b| b["balance"].clone()),
        Some(Value::from("5.00"))
    );
    let all = json::balance_values(&ledger);
    assert_eq!(all.len(), 1);
    assert_eq!(
        ["account", "balance", "held", "available", "debt"]
            .map(|k| all[0][k].as_str().unwrap_or("?")),
        ["alice", "5.00", "0.00", "5.00", "0.00"]
    );
    // open 0 → top-up 100.00 → capture 12.34 → capture 77.66 → settle overshoot 5.00.
    let statement = json::statement_values(&ledger, name("alice"));
    let running: Vec<(&str, &str)> = statement
        .iter()
        .map(|line| {
            (
                line["change"].as_str().unwrap_or("?"),
                line["balance"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert_eq!(
        running,
        [
            ("0.00", "0.00"),
            ("100.00", "100.00"),
            ("-12.34", "87.66"),
            ("-77.66", "10.00"),
            ("-5.00", "5.00")
        ]
    );
    assert_eq!(json::parse_id("42"), Ok(Id::from_raw(42)));
    assert_eq!(json::parse_id("alice"), Ok(name("alice")));
    let _ = std::fs::remove_dir_all(&dir);
}

fn any_id() -> impl Strategy<Value = Id> {
    prop_oneof![
        (1u64..u64::MAX).prop_map(|n| Id::from_raw(u128::from(n))),
        "[a-z0-9-]{0,15}".prop_map(|s| name(&s)),
    ]
}

fn any_op() -> impl Strategy<Value = Op> {
    let amount = 0u64..u64::MAX;
    prop_oneof![
        (
            any_id(),
            any_id(),
            amount.clone(),
            amount.clone(),
            amount.clone()
        )
            .prop_map(|(id, account, floor, credit_line, low_credit)| Op::Open {
                id,
                account,
                floor,
                credit_line,
                low_credit
            }),
        (any_id(), any_id(), amount.clone()).prop_map(|(id, account, amount)| Op::TopUp {
            id,
            account,
            amount
        }),
        (
            any_id(),
            any_id(),
            amount.clone(),
            -10_000_000_000_000i64..100_000_000_000_000
        )
            .prop_map(|(id, account, amount, ms)| Op::Hold {
                id,
                account,
                amount,
                expires: Timestamp(ms)
            }),
        (any_id(), any_id(), amount.clone()).prop_map(|(id, hold, cumulative)| Op::Capture {
            id,
            hold,
            cumulative
        }),
        (any_id(), any_id(), amount.clone()).prop_map(|(id, hold, cumulative)| Op::Settle {
            id,
            hold,
            cumulative
        }),
        (any_id(), any_id()).prop_map(|(id, hold)| Op::Void { id, hold }),
        any_id().prop_map(|id| Op::Expire { id }),
        (any_id(), any_id(), amount).prop_map(|(id, of, amount)| Op::Refund { id, of, amount }),
        (any_id(), any_id()).prop_map(|(id, of)| Op::Reverse { id, of }),
        (any_id(), any_id(), 0u64..u64::MAX).prop_map(|(id, account, amount)| Op::Charge {
            id,
            account,
            amount
        }),
    ]
}

proptest! {
    #[test]
    fn op_lines_round_trip(op in any_op(), places in 0u8..=6) {
        let scale = Scale::new(places).unwrap_or_default();
        let line = json::op_value(&op, scale).to_string();
        prop_assert_eq!(json::parse_op(&line, scale), Ok(op));
    }

    #[test]
    fn any_line_gets_an_answer_never_a_panic(line in "\\PC{0,80}") {
        if let Err(error) = json::parse_op(&line, Scale::default()) {
            let value = json::bad_request_value(&line, &error);
            prop_assert_eq!(value["result"].as_str(), Some("bad_request"));
        }
    }
}

#[test]
fn lines_that_are_not_utf8_or_too_long_are_answered_not_fatal() {
    let dir = std::env::temp_dir().join(format!("meterkit-ledger-{}-rawlines", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("ledger.journal");
    let (ledger, journal, _) =
        FileJournal::open_or_create(&path, Scale::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut durable = Durable::new(ledger, journal);
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"op\":\"open\",\"id\":\"o1\",\"account\":\"a\"}\n");
    // Invalid UTF-8 at the third byte (column 3).
    input.extend_from_slice(b"{\"\xff\"}\n");
    // One byte over the limit once the newline is counted.
    input.extend_from_slice(&vec![b' '; json::MAX_LINE]);
    input.extend_from_slice(b"x\n");
    // Exactly at the limit (spaces then a valid op, newline included).
    let op = b"{\"op\":\"open\",\"id\":\"o2\",\"account\":\"b\"}\n";
    input.extend_from_slice(&vec![b' '; json::MAX_LINE - op.len()]);
    input.extend_from_slice(op);
    // A last line without a newline still counts.
    input.extend_from_slice(b"{\"op\":\"open\",\"id\":\"o3\",\"account\":\"c\"}");
    let mut output = Vec::new();
    let summary = json::apply_lines(
        &mut BufReader::with_capacity(1_000, input.as_slice()),
        &mut output,
        &mut durable,
        || Timestamp(0),
        64,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let results: Vec<Value> = String::from_utf8_lossy(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    let words: Vec<&str> = results
        .iter()
        .map(|v| v["result"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(words, ["ok", "bad_request", "bad_request", "ok", "ok"]);
    assert_eq!(
        results[1]["error"],
        "line is not UTF-8 (invalid byte at column 3)"
    );
    assert_eq!(
        results[2]["error"],
        format!("line longer than {} bytes", json::MAX_LINE)
    );
    assert_eq!((summary.lines, summary.bad), (5, 2));
    drop(durable);
    let (ledger, verification) = verify(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(verification.is_ok());
    assert_eq!(json::balance_values(&ledger).len(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}
