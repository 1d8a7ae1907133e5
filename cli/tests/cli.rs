//! The `meterkit` command as scripts and people use it: the decode contract on every
//! public vector, exit statuses, and one-line errors without panics.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::Value as Json;

fn meterkit(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("meterkit starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("meterkit finishes")
}

fn json_lines(out: &Output) -> Vec<Json> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_clean_failure(out: &Output, status: i32, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(status), "stderr: {err}");
    assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
}

#[test]
fn decode_json_matches_every_public_vector() {
    let vectors = include_str!("../../dlt645/tests/data/dlt645_public.jsonl");
    let mut checked = 0;
    for line in vectors.lines().filter(|l| !l.trim().is_empty()) {
        let vector: Json = serde_json::from_str(line).expect("vector");
        let id = &vector["id"];
        let hex = vector["hex"].as_str().expect("hex");
        // Once as arguments, once on stdin.
        for out in [
            meterkit(&["decode", "--json", hex], b""),
            meterkit(&["decode", "--json"], hex.as_bytes()),
        ] {
            assert_eq!(out.status.code(), Some(0), "{id}: {}", stderr(&out));
            let got = json_lines(&out);
            let want = vector["frames"].as_array().expect("frames");
            assert_eq!(got.len(), want.len(), "{id}");
            for (g, w) in got.iter().zip(want) {
                for (key, value) in w.as_object().expect("object") {
                    assert_eq!(g.get(key), Some(value), "{id}: key {key}");
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 31);
}

#[test]
fn decode_json_matches_every_modbus_vector() {
    let vectors = include_str!("../../modbus/tests/data/modbus_public.jsonl");
    let mut checked = 0;
    for line in vectors.lines().filter(|l| !l.trim().is_empty()) {
        let vector: Json = serde_json::from_str(line).expect("vector");
        let id = &vector["id"];
        let hex = vector["hex"].as_str().expect("hex");
        let protocol = match vector["kind"].as_str() {
            Some("rtu") => "modbus-rtu",
            _ => "modbus-tcp",
        };
        let direction = vector["as"].as_str().expect("as");
        // With the direction given, with the protocol only (the direction inferred),
        // and with nothing (auto): the contract fields must match every time.
        let runs: [&[&str]; 3] = [
            &[
                "decode",
                "--json",
                "--protocol",
                protocol,
                "--as",
                direction,
                hex,
            ],
            &["decode", "--json", "--protocol", protocol, hex],
            &["decode", "--json", hex],
        ];
        for args in runs {
            let out = meterkit(args, b"");
            assert_eq!(
                out.status.code(),
                Some(0),
                "{id} {args:?}: {}",
                stderr(&out)
            );
            let got = json_lines(&out);
            assert_eq!(got.len(), 1, "{id} {args:?}");
            assert_eq!(got[0]["protocol"], protocol, "{id} {args:?}");
            for (key, value) in vector["fields"].as_object().expect("fields") {
                assert_eq!(got[0].get(key), Some(value), "{id} {args:?}: key {key}");
            }
        }
        let given = meterkit(
            &[
                "decode",
                "--json",
                "--protocol",
                protocol,
                "--as",
                direction,
                hex,
            ],
            b"",
        );
        assert_eq!(json_lines(&given)[0]["as"], direction, "{id}");
        checked += 1;
    }
    assert_eq!(checked, 24);
}

#[test]
fn raw_binary_capture_with_garbage() {
    let mut capture = vec![0x00, 0x68, 0xAA];
    capture.extend_from_slice(&[
        0xFE, 0xFE, 0x68, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x68, 0xD1, 0x01, 0x35, 0x8D, 0x16,
    ]);
    capture.extend_from_slice(&[0x16, 0x16]);
    let out = meterkit(&["decode", "--raw", "--json"], &capture);
    assert_eq!(out.status.code(), Some(0));
    let frames = json_lines(&out);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["offset"], 5);
    assert_eq!(frames[0]["error_code"], "02");
    let err = stderr(&out);
    assert!(err.contains("offset 0: skipped 3 bytes"), "{err}");
    assert!(err.contains("offset 18: skipped 2 bytes"), "{err}");
}

#[test]
fn human_output_names_the_item() {
    let out = meterkit(
        &[
            "decode",
            "68 61 01 00 00 00 00 68 91 06 33 34 34 35 34 43 10 16",
        ],
        b"",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("100.1 V"), "{text}");
    assert!(text.to_lowercase().contains("phase a"), "{text}");
    assert!(text.contains("checksum  10 (ok)"), "{text}");
}

#[test]
fn exit_statuses_and_errors() {
    // No frame: exit 1, garbage reported.
    let out = meterkit(&["decode", "12 34 56"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no frame found"));
    // Unusable input: one line, exit 2, never a panic.
    assert_clean_failure(
        &meterkit(&["decode", "68 1"], b""),
        2,
        "odd number of hex digits",
    );
    assert_clean_failure(&meterkit(&["decode", "68 zz"], b""), 2, "not a hex digit");
    assert_clean_failure(&meterkit(&["decode"], &[0xFF, 0xFE, 0x00]), 2, "--raw");
    assert_clean_failure(
        &meterkit(
            &[
                "encode",
                "dlt645",
                "read",
                "--address",
                "12x",
                "--di",
                "00010000",
            ],
            b"",
        ),
        2,
        "bad --address",
    );
    assert_clean_failure(
        &meterkit(
            &[
                "encode",
                "dlt645",
                "read",
                "--address",
                "1",
                "--di",
                "12345678",
            ],
            b"",
        ),
        2,
        "unknown DI 12345678",
    );
    assert_clean_failure(
        &meterkit(
            &[
                "encode",
                "dlt645",
                "broadcast-time",
                "--time",
                "2017-13-05T10:22:51",
            ],
            b"",
        ),
        2,
        "bad --time",
    );
}

#[test]
fn write_value_is_exact_and_never_rounded() {
    let base = [
        "encode",
        "dlt645",
        "write",
        "--address",
        "1",
        "--di",
        "04000E03",
        "--password",
        "02000000",
    ];
    let mut args = base.to_vec();
    args.extend_from_slice(&["--value", "253.0"]);
    let out = meterkit(&args, b"");
    let hex = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let frame = &json_lines(&meterkit(&["decode", "--json", &hex], b""))[0];
    assert_eq!(frame["value"], "253.0");
    assert_eq!(frame["unit"], "V");
    // 253.05 V does not fit XXX.X: refused, not rounded.
    let mut args = base.to_vec();
    args.extend_from_slice(&["--value", "253.05"]);
    assert_clean_failure(&meterkit(&args, b""), 2, "finer than the field");
    let mut args = base.to_vec();
    args.extend_from_slice(&["--value", "25x"]);
    assert_clean_failure(&meterkit(&args, b""), 2, "bad --value");
}

#[test]
fn encode_builds_what_decode_reads_back() {
    let cases: &[&[&str]] = &[
        &["read", "--address", "123456789012", "--di", "00010000"],
        &[
            "read",
            "--address",
            "123456789012",
            "--di",
            "06000001",
            "--any-di",
            "--blocks",
            "2",
            "--since",
            "2026-11-24T10:15",
        ],
        &["read", "--address", "3", "--di", "B611"],
        &[
            "read-next",
            "--address",
            "1",
            "--di",
            "00010000",
            "--seq",
            "2",
        ],
        &["read-address"],
        &[
            "write",
            "--address",
            "1",
            "--di",
            "04000101",
            "--password",
            "02123456",
            "--operator",
            "12345678",
            "--data",
            "02 24 11 26",
        ],
        &["write-address", "--new", "123456789012"],
        &["broadcast-time", "--time", "2017-06-05T10:22:51"],
        &["freeze", "--address", "1", "--at", "99991200"],
        &["change-baud", "--address", "1", "--rate", "9600"],
        &[
            "change-password",
            "--address",
            "1",
            "--old",
            "02000000",
            "--new",
            "02123456",
        ],
        &["clear-demand", "--address", "1", "--password", "02000000"],
        &["clear-meter", "--address", "1", "--password", "02000000"],
        &["clear-events", "--address", "1", "--password", "02000000"],
        &[
            "relay",
            "--address",
            "1",
            "--password",
            "02000000",
            "--command",
            "trip",
            "--until",
            "2026-12-01T00:00:00",
        ],
        &["heartbeat", "--minutes", "5"],
    ];
    for args in cases {
        let mut full = vec!["encode", "dlt645"];
        full.extend_from_slice(args);
        let out = meterkit(&full, b"");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let hex = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(hex.starts_with("FE FE FE FE 68"), "{args:?}: {hex}");
        let back = meterkit(&["decode", "--json", &hex], b"");
        assert_eq!(back.status.code(), Some(0), "{args:?}");
        let frame = &json_lines(&back)[0];
        assert_eq!(frame["direction"], "request", "{args:?}");
        assert!(frame.get("message_error").is_none(), "{args:?}: {frame}");
    }
}
