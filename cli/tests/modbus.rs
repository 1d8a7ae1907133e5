//! `meterkit encode modbus` and `meterkit profile` through the binary.

use std::process::{Command, Output};

use serde_json::Value as Json;

fn meterkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .args(args)
        .output()
        .expect("meterkit runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `encode modbus` reproduces the public vectors byte for byte.
#[test]
fn encode_reproduces_public_frames() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "read-coils",
                "--slave",
                "17",
                "--address",
                "0x13",
                "--count",
                "37",
            ],
            "11 01 00 13 00 25 0E 84",
        ),
        (
            &[
                "read-discrete-inputs",
                "--slave",
                "17",
                "--address",
                "0xC4",
                "--count",
                "22",
            ],
            "11 02 00 C4 00 16 BA A9",
        ),
        (
            &[
                "read-holding",
                "--slave",
                "17",
                "--address",
                "0x006B",
                "--count",
                "3",
            ],
            "11 03 00 6B 00 03 76 87",
        ),
        (
            &[
                "read-input",
                "--slave",
                "17",
                "--address",
                "8",
                "--count",
                "1",
            ],
            "11 04 00 08 00 01 B2 98",
        ),
        (
            &[
                "write-coil",
                "--slave",
                "17",
                "--address",
                "172",
                "--value",
                "on",
            ],
            "11 05 00 AC FF 00 4E 8B",
        ),
        (
            &["write-register", "--address", "0", "--value", "1077"],
            "01 06 00 00 04 35 4B 1D",
        ),
        (
            &[
                "write-coils",
                "--slave",
                "17",
                "--address",
                "19",
                "--values",
                "1,0,1,1,0,0,1,1,1,0",
            ],
            "11 0F 00 13 00 0A 02 CD 01 BF 0B",
        ),
        (
            &[
                "write-registers",
                "--slave",
                "17",
                "--address",
                "1",
                "--values",
                "10,0x0102",
            ],
            "11 10 00 01 00 02 04 00 0A 01 02 C6 F0",
        ),
        (
            &[
                "read-holding",
                "--tcp",
                "--transaction",
                "1",
                "--address",
                "3",
                "--count",
                "2",
            ],
            "00 01 00 00 00 06 01 03 00 03 00 02",
        ),
    ];
    for (args, want) in cases {
        let mut full = vec!["encode", "modbus"];
        full.extend_from_slice(args);
        let out = meterkit(&full);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), *want, "{args:?}");
    }
}

/// Every function code encodes, and decode reads the request back with its code.
#[test]
fn every_function_code_round_trips_through_decode() {
    let cases: &[(&[&str], u64)] = &[
        (&["read-exception-status"], 7),
        (
            &["diagnostics", "--sub-function", "0", "--data", "0xA537"],
            8,
        ),
        (&["get-comm-event-counter"], 11),
        (&["get-comm-event-log"], 12),
        (&["report-server-id"], 17),
        (
            &[
                "read-file-record",
                "--file",
                "4",
                "--record",
                "1",
                "--length",
                "2",
            ],
            20,
        ),
        (
            &[
                "write-file-record",
                "--file",
                "4",
                "--record",
                "7",
                "--values",
                "0x06AF,0x04BE",
            ],
            21,
        ),
        (
            &[
                "mask-write-register",
                "--address",
                "4",
                "--and",
                "0xF2",
                "--or",
                "0x25",
            ],
            22,
        ),
        (
            &[
                "read-write-registers",
                "--read-address",
                "3",
                "--read-count",
                "6",
                "--write-address",
                "14",
                "--values",
                "255,255,255",
            ],
            23,
        ),
        (&["read-fifo", "--address", "0x04DE"], 24),
        (&["read-device-id", "--code", "basic"], 43),
    ];
    for (args, function) in cases {
        for framing in [&["--slave", "5"][..], &["--tcp", "--transaction", "9"][..]] {
            let mut full = vec!["encode", "modbus"];
            full.extend_from_slice(args);
            full.extend_from_slice(framing);
            let out = meterkit(&full);
            assert_eq!(out.status.code(), Some(0), "{full:?}: {}", stderr(&out));
            let hex = stdout(&out);
            let protocol = if framing[0] == "--tcp" {
                "modbus-tcp"
            } else {
                "modbus-rtu"
            };
            let back = meterkit(&[
                "decode",
                "--json",
                "--protocol",
                protocol,
                "--as",
                "request",
                &hex,
            ]);
            assert_eq!(back.status.code(), Some(0), "{full:?}: {}", stderr(&back));
            let frame: Json = serde_json::from_str(&stdout(&back)).expect("one JSON frame");
            assert_eq!(frame["function"], *function, "{full:?}");
            assert_eq!(frame["as"], "request");
        }
    }
}

#[test]
fn encode_refuses_what_the_protocol_forbids() {
    for (args, needle) in [
        (
            &[
                "encode",
                "modbus",
                "read-holding",
                "--address",
                "0",
                "--count",
                "126",
            ][..],
            "quantity",
        ),
        (
            &[
                "encode",
                "modbus",
                "read-holding",
                "--address",
                "0x1FFFF",
                "--count",
                "1",
            ][..],
            "bad --address",
        ),
        (
            &[
                "encode",
                "modbus",
                "read-holding",
                "--slave",
                "0",
                "--address",
                "0",
                "--count",
                "1",
            ][..],
            "broadcast",
        ),
        (
            &[
                "encode",
                "modbus",
                "write-coils",
                "--address",
                "0",
                "--values",
                "1,2",
            ][..],
            "bad --values",
        ),
    ] {
        let out = meterkit(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.to_lowercase().contains(needle), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn every_built_in_profile_shows_and_plans() {
    let list = stdout(&meterkit(&["profile", "list"]));
    let names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names.len(), 9, "{list}");
    for name in names {
        let out = meterkit(&["profile", "show", name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert!(stdout(&out).contains("Reads for every quantity"), "{name}");
        let json = meterkit(&["profile", "show", name, "--json"]);
        let profile: Json = serde_json::from_str(&stdout(&json)).expect("profile JSON");
        assert_eq!(profile["name"], name);
        assert!(
            profile["reads"].as_array().is_some_and(|r| !r.is_empty()),
            "{name}"
        );
    }
    let file = format!(
        "{}/../modbus/profiles/sdm630.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    assert_eq!(meterkit(&["profile", "show", &file]).status.code(), Some(0));
}

#[test]
fn profile_decode_names_the_quantities() {
    // SDM630 input registers 0x0000-0x0001: phase 1 voltage as big-endian f32.
    // 0x4366_0000 is exactly 230.0 (1.796875 × 2^7).
    let reply = "01 04 04 43 66 00 00 0E 1F";
    let out = meterkit(&[
        "profile",
        "decode",
        "sdm630",
        "--reply",
        reply,
        "--address",
        "0",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let values: Json = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(values["voltage_l1"], "230");
    // Without --address a 2-register reply matches no planned read: say so, exit 2.
    let out = meterkit(&["profile", "decode", "sdm630", "--reply", reply]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("give --address"));
    // A corrupted CRC is not a reply.
    let out = meterkit(&[
        "profile",
        "decode",
        "sdm630",
        "--reply",
        "01 04 04 43 66 00 00 0E 1E",
        "--address",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = meterkit(&["profile", "show", "nosuchmeter"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("sdm630"), "lists the known profiles");
}
