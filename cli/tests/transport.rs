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

    // A catalogued item the meter does not hold (reactive power): refused with its ERR
    // bits, exit 1.
    let out = meterkit(&[
        "read",
        "dlt645",
        "--port",
        &sim.link,
        "--address",
        "123456789012",
        "--di",
        "02040000",
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
    // Two slaves on one line; the poll below reads unit 3, this read unit 4.
    let modbus = Simulator::serve(
        &[
            "modbus",
            "--profile",
            "sdm630",
            "--slave",
            "3",
            "--slave",
            "4",
        ],
        &[],
    );
    let dlt = Simulator::start(&[]);
    let out = meterkit(&[
        "read",
        "modbus",
        "--port",
        &modbus.link,
        "--slave",
        "4",
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

#[test]
fn scan_finds_every_meter_on_a_shared_line() {
    // Three meters on one pseudo-terminal: the wildcard collides, and the search
    // tries AAAAAAAAAA00..AAAAAAAAAA99 (101 requests, each silent one waiting out a
    // 100 ms margin: about ten seconds).
    let sim = Simulator::serve(
        &[
            "dlt645",
            "--address",
            "123456789012",
            "--address",
            "000000000001",
            "--address",
            "000000000002",
        ],
        &[],
    );
    let out = meterkit(&[
        "scan",
        "dlt645",
        "--port",
        &sim.link,
        "--baud",
        "115200",
        "--timeout",
        "100ms",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "000000000001\n000000000002\n123456789012\n"
    );
    // Each meter still answers its own address.
    let out = meterkit(&[
        "read",
        "dlt645",
        "--port",
        &sim.link,
        "--address",
        "000000000002",
        "--json",
    ]);
    let reply: Json = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(reply["address"], "000000000002");
}

#[test]
fn sim_refuses_a_bad_period_table() {
    let out = meterkit(&[
        "sim",
        "dlt645",
        "--link",
        "/nonexistent/meter",
        "--periods",
        "08:00=5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("08:00=5"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A simulator serving TCP on a free local port, killed when dropped.
struct TcpSimulator {
    child: Child,
    address: String,
}

impl TcpSimulator {
    fn start(protocol: &[&str]) -> Self {
        // Ask the system for a free port, then hand it to the simulator.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let address = format!("127.0.0.1:{port}");
        let mut args = vec!["sim"];
        args.extend_from_slice(protocol);
        args.extend_from_slice(&["--tcp", &address]);
        let child = Command::new(env!("CARGO_BIN_EXE_meterkit"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("simulator starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        // Connecting to find out that it listens costs one served connection.
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                Instant::now() < deadline,
                "the simulator never listened on {address}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        TcpSimulator { child, address }
    }
}

impl Drop for TcpSimulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn poll_reads_modbus_tcp_and_dlt645_behind_a_gateway() {
    let gateway = TcpSimulator::start(&["dlt645", "--address", "123456789012", "--power-w", "0"]);
    let modbus = TcpSimulator::start(&["modbus", "--profile", "sdm630", "--slave", "5"]);
    let dir = std::env::temp_dir().join(format!("meterkit-poll-tcp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("meters.toml");
    std::fs::write(
        &config,
        format!(
            "[[meter]]\nname = \"dtu\"\nprotocol = \"dlt645\"\ntcp = \"{}\"\naddress = \"123456789012\"\n\n\
             [[meter]]\nname = \"mbtcp\"\nprotocol = \"modbus\"\ntcp = \"{}\"\nslave = 5\nprofile = \"sdm630\"\n\n\
             [[meter]]\nname = \"both\"\nprotocol = \"dlt645\"\nport = \"/dev/null\"\ntcp = \"{}\"\n",
            gateway.address, modbus.address, modbus.address
        ),
    )
    .expect("write config");
    // The third meter names both a port and an address: refused before any I/O.
    let out = meterkit(&[
        "poll",
        "--config",
        &config.to_string_lossy(),
        "--rounds",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("either port or tcp"));

    let text = std::fs::read_to_string(&config).expect("read back");
    let two_meters = text
        .split("\n\n[[meter]]\nname = \"both\"")
        .next()
        .expect("split");
    std::fs::write(&config, two_meters).expect("rewrite");
    let out = meterkit(&[
        "poll",
        "--config",
        &config.to_string_lossy(),
        "--interval",
        "100ms",
        "--rounds",
        "1",
        "--format",
        "csv",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.lines()
            .any(|l| l.contains(",dtu,import_energy_total,1206.42,")),
        "{csv}"
    );
    // SDM630 holds f32: 7245 W and 10.5 A are exact.
    assert!(
        csv.lines()
            .any(|l| l.contains(",mbtcp,active_power_total,7245,")),
        "{csv}"
    );
    assert!(
        csv.lines().any(|l| l.contains(",mbtcp,current_l1,10.5,")),
        "{csv}"
    );
}
