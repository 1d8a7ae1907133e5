//! `meterkit sim`, `read` and `scan` over a real pseudo-terminal (the termios path a USB
//! RS-485 adapter takes), the simulator running as a separate process.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

fn meterkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meterkit"))
        .args(args)
        .output()
        .expect("meterkit runs")
}

/// A simulator child process, killed when dropped.
struct Simulator {
    child: Child,
    dir: PathBuf,
    link: String,
}

impl Simulator {
    fn start(extra: &[&str]) -> Self {
        Self::serve(
            &["dlt645", "--address", "123456789012", "--power-w", "0"],
            extra,
        )
    }

    fn serve(protocol: &[&str], extra: &[&str]) -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("meterkit-sim-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let link = dir.join("meter").to_string_lossy().into_owned();
        let mut args = vec!["sim"];
        args.extend_from_slice(protocol);
        args.extend_from_slice(&["--link", &link]);
        args.extend_from_slice(extra);
        let child = Command::new(env!("CARGO_BIN_EXE_meterkit"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("simulator starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::path::Path::new(&link).exists() {
            assert!(
                Instant::now() < deadline,
                "the simulator never created {link}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Simulator { child, dir, link }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn read_and_scan_a_simulated_meter() {
    let sim = Simulator::start(&[]);
    let out = meterkit(&[
        "read",
        "dlt645",
        "--port",
        &sim.link,
        "--address",
        "123456789012",
        "--di",
        "00010000",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: Json = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(reply["value"], "1206.42");
    assert_eq!(reply["unit"], "kWh");
    assert_eq!(reply["di"], "00010000");

    let out = meterkit(&[
        "read", "dlt645", "--port", &sim.link, "--di", "0201FF00", "--json",
    ]);
    let reply: Json = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(
        reply["values"],
        serde_json::json!(["230.2", "230.2", "230.2"])
    );

    let out = meterkit(&["scan", "dlt645", "--port", &sim.link]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "123456789012");

    // A catalogued item the meter does not hold: refused with its ERR bits, exit 1.
    let out = meterkit(&[
        "read",
        "dlt645",
        "--port",
        &sim.link,
        "--address",
        "123456789012",
        "--di",
        "04000101",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no requested data"), "{err}");
}

#[test]
fn noise_and_echo_on_the_line_are_survived() {
    let sim = Simulator::start(&[
        "--fault", "echo", "--fault", "garbage", "--fault", "foreign",
    ]);
    let out = meterkit(&[
        "read",
        "dlt645",
        "--port",
        &sim.link,
        "--address",
        "123456789012",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: Json = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(reply["value"], "1206.42");
}

#[test]
fn failures_name_the_port_and_the_cause() {
    let out = meterkit(&[
        "read",
        "dlt645",
        "--port",
        "/nonexistent/ttyUSB9",
        "--di",
        "00010000",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/ttyUSB9") && err.contains("not found"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    // A meter that is not there: the deadline passes and the retries run out.
    let sim = Simulator::start(&["--fault", "drop"]);
    let started = Instant::now();
    let out = meterkit(&[
        "read",
        "dlt645",
        "--port",
        &sim.link,
        "--address",
        "999999999998",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no reply within"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    // Unusable arguments stay exit 2.
    assert_eq!(
        meterkit(&["read", "dlt645", "--di", "00010000"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn modbus_meter_read_through_its_profile_and_polled_with_a_dlt645_one() {
    let modbus = Simulator::serve(&["modbus", "--profile", "sdm630", "--slave", "3"], &[]);
    let dlt = Simulator::start(&[]);
    let out = meterkit(&[
        "read",
        "modbus",
        "--port",
        &modbus.link,
        "--slave",
        "3",
        "--profile",
        "sdm630",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let values: Json = serde_json::from_slice(&out.stdout).expect("JSON");
    // The simulator stores 7245 W; SDM630 registers are f32, which hold 7245 exactly.
    assert_eq!(values["active_power_total"], "7245");
    assert_eq!(values["current_l1"], "10.5");

    let config = dlt.dir.join("meters.toml");
    std::fs::write(
        &config,
        format!(
            "[[meter]]\nname = \"pile-1\"\nprotocol = \"dlt645\"\nport = \"{}\"\naddress = \"123456789012\"\n\n\
             [[meter]]\nname = \"pile-2\"\nprotocol = \"modbus\"\nport = \"{}\"\nslave = 3\nprofile = \"sdm630\"\n",
            dlt.link, modbus.link
        ),
    )
    .expect("write config");
    let config = config.to_string_lossy().into_owned();
    let out = meterkit(&[
        "poll",
        "--config",
        &config,
        "--interval",
        "100ms",
        "--rounds",
        "2",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Json> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 4, "two meters, two rounds");
    assert_eq!(lines[0]["meter"], "pile-1");
    assert_eq!(lines[0]["import_energy_total"], "1206.42");
    assert_eq!(lines[1]["meter"], "pile-2");
    assert_eq!(lines[1]["current_l1"], "10.5");

    // A config that names an unknown protocol is refused before any I/O.
    std::fs::write(
        dlt.dir.join("bad.toml"),
        "[[meter]]\nname = \"x\"\nprotocol = \"iec62056\"\nport = \"/dev/null\"\n",
    )
    .expect("write");
    let bad = dlt.dir.join("bad.toml").to_string_lossy().into_owned();
    let out = meterkit(&["poll", "--config", &bad, "--rounds", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither dlt645 nor modbus"));
}
