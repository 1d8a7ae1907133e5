//! Thousands of malformed inputs through every subcommand: never a panic, always exit
//! 1 or 2, and (except where a command lists problems by design) one line on stderr.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

/// A small deterministic generator, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
    }
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("meterkit starts");
    // The command may exit before reading everything; a broken pipe is fine.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("meterkit finishes")
}

fn assert_handled(args: &[&str], stdin: &[u8], ok_allowed: bool, one_line: bool) {
    let out = run(args, stdin);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    let code = out.status.code();
    assert!(code.is_some(), "{args:?} killed by a signal");
    if !ok_allowed {
        assert!(
            matches!(code, Some(1 | 2)),
            "{args:?}: exit {code:?}, stderr {err}"
        );
    }
    if one_line && code != Some(0) {
        // decode reports every skipped run on its own line by design; the others say one thing.
        assert!(err.lines().count() >= 1, "{args:?}: a failure must say why");
        assert!(
            err.lines().all(|l| l.starts_with("meterkit: ")),
            "{args:?}: {err}"
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02X} ");
        out
    })
}

const VECTOR: [u8; 24] = [
    0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x25, 0x04, 0x03, 0x02, 0x01, 0x00, 0x68, 0x91, 0x08, 0x33, 0x33,
    0x34, 0x33, 0x75, 0x39, 0x45, 0x33, 0x8B, 0x16,
];

#[test]
fn decode_survives_noise_and_mutations() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..150 {
        let input = match round % 3 {
            0 => rng.bytes(300),
            1 => VECTOR[..rng.below(VECTOR.len())].to_vec(),
            _ => {
                let mut v = VECTOR.to_vec();
                for _ in 0..=rng.below(3) {
                    let i = rng.below(v.len());
                    v[i] = rng.next().to_le_bytes()[0];
                }
                v
            }
        };
        // Frames may survive a mutation (exit 0); anything else must be 1 with reasons.
        for protocol in ["auto", "dlt645", "modbus-rtu", "modbus-tcp"] {
            assert_handled(
                &["decode", "--raw", "--protocol", protocol],
                &input,
                true,
                true,
            );
        }
        assert_handled(&["decode", "--json", &hex(&input)], b"", true, true);
    }
    // Text that is not hex at all.
    let mut rng = Rng(7);
    for _ in 0..50 {
        let junk = rng.bytes(80);
        assert_handled(&["decode"], &junk, true, true);
    }
}

#[test]
fn encode_rejects_absurd_arguments() {
    let absurd = [
        "",
        "-1",
        "99999999999999999999999",
        "0x",
        "0xZZ",
        "1e9",
        "NaN",
        "１２",
        "AAAAAAAAAAAAA",
    ];
    for value in absurd {
        for args in [
            vec![
                "encode",
                "dlt645",
                "read",
                "--address",
                value,
                "--di",
                "00010000",
            ],
            vec!["encode", "dlt645", "read", "--address", "1", "--di", value],
            vec![
                "encode",
                "dlt645",
                "change-baud",
                "--address",
                "1",
                "--rate",
                value,
            ],
            vec!["encode", "dlt645", "broadcast-time", "--time", value],
            vec![
                "encode",
                "dlt645",
                "write",
                "--address",
                "1",
                "--di",
                "04000E03",
                "--password",
                "02000000",
                "--value",
                value,
            ],
            vec![
                "encode",
                "modbus",
                "read-holding",
                "--address",
                value,
                "--count",
                "1",
            ],
            vec![
                "encode",
                "modbus",
                "read-holding",
                "--address",
                "0",
                "--count",
                value,
            ],
            vec![
                "encode",
                "modbus",
                "write-registers",
                "--address",
                "0",
                "--values",
                value,
            ],
        ] {
            assert_handled(&args, b"", false, true);
        }
    }
}

#[test]
fn demo_refuses_absurd_options() {
    for args in [
        &["demo", "--hours", "4294967295"][..],
        &["demo", "--hours", "0"][..],
        &["demo", "--speed", "0"][..],
        &["demo", "--balance", "1.001"][..],
        &["demo", "--start", "2025-13-01T00:00:00Z"][..],
    ] {
        assert_handled(args, b"", false, true);
    }
}

#[test]
fn files_that_are_not_what_they_claim() {
    let dir = std::env::temp_dir().join(format!("meterkit-malformed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let tariff = format!(
        "{}/../tariff/examples-data/cn-tou.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let readings = format!(
        "{}/../tariff/examples-data/cn-session.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let original = std::fs::read(&tariff).expect("example tariff");
    let csv = std::fs::read(&readings).expect("example readings");
    let mut rng = Rng(42);
    for round in 0..60 {
        // Truncate or mutate the example files.
        let mut t = original[..rng.below(original.len())].to_vec();
        let mut c = csv.clone();
        if round % 2 == 0 {
            for _ in 0..4 {
                let i = rng.below(c.len());
                c[i] = b"0123456789-:,.x\n"[rng.below(16)];
            }
            t = original.clone();
        }
        let tp = dir.join(format!("t{round}.toml"));
        let cp = dir.join(format!("r{round}.csv"));
        std::fs::write(&tp, &t).expect("write");
        std::fs::write(&cp, &c).expect("write");
        let (tp, cp) = (
            tp.to_string_lossy().into_owned(),
            cp.to_string_lossy().into_owned(),
        );
        assert_handled(
            &["bill", "--tariff", &tp, "--readings", &cp],
            b"",
            true,
            true,
        );
        // tariff check lists every problem, one per line, so only "no panic, exit 0/1/2".
        assert_handled(&["tariff", "check", &tp], b"", true, false);
        assert_handled(&["profile", "show", &tp], b"", false, true);
        let journal = dir.join(format!("j{round}"));
        std::fs::write(&journal, rng.bytes(200)).expect("write");
        let journal = journal.to_string_lossy().into_owned();
        // verify reports a broken journal on stdout, with the record and byte offset.
        let out = run(&["ledger", "--journal", &journal, "verify"], b"");
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("broken: record "));
        assert_handled(
            &["ledger", "--journal", &journal, "balance", "--json"],
            b"",
            false,
            true,
        );
    }
    // The ledger answers bad lines on stdout and carries on: exit 0 is correct there.
    let journal = dir.join("apply").to_string_lossy().into_owned();
    let mut lines = Vec::new();
    let mut rng = Rng(3);
    for _ in 0..200 {
        lines.extend(rng.bytes(60));
        lines.push(b'\n');
    }
    assert_handled(
        &[
            "ledger",
            "--journal",
            &journal,
            "apply",
            "--now",
            "2026-01-01T00:00:00Z",
        ],
        &lines,
        true,
        true,
    );
    let _ = std::fs::remove_dir_all(&dir);
}
