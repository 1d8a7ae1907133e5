//! The Modbus client against the Modbus simulator (RTU and TCP), over pipes with
//! tokio's paused clock, and over a real TCP socket.
#![allow(clippy::unwrap_used)] // fixtures: a failed unwrap is a failed test

use std::time::Duration;

use meterkit_modbus::{
    ExceptionCode, Registers, Request, Response,
    profile::{self, Ratios},
    rtu, tcp,
};
use meterkit_reading::{MeterReading, Quantity};
use meterkit_transport::{
    Error,
    link::{Link, Once, TcpConfig},
    modbus::{Framing, ModbusClient, ModbusConfig},
    modbus_sim::{ModbusSim, ModbusSimBus},
    sim,
};
use rust_decimal::Decimal;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, DuplexStream},
    time::Instant,
};

/// ABB B23: import energy u64 at holding 0x5000 (0.01 kWh), export at 0x5004.
/// 0x12D687 = 1 234 567 → 12 345.67 kWh; export all ones = not available.
fn abb(unit: u8) -> ModbusSim {
    ModbusSim::new(unit).with_holding(
        0x5000,
        &[0, 0, 0x0012, 0xD687, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF],
    )
}

fn start(bus: ModbusSimBus, config: ModbusConfig) -> ModbusClient<Once<DuplexStream>> {
    let (ours, mut theirs) = tokio::io::duplex(1024);
    tokio::spawn(async move {
        let mut bus = bus;
        sim::serve(&mut theirs, &mut bus).await
    });
    ModbusClient::new(Link::new(Once::new(ours, "pipe")), config)
}

async fn read_abb_energy<C: meterkit_transport::Connector>(client: &mut ModbusClient<C>, unit: u8) {
    let wanted = [Quantity::ImportEnergyTotal, Quantity::ExportEnergyTotal];
    let reading = client
        .read_profile(unit, &profile::ABB_B23, &wanted, &Ratios::DIRECT, 42_i64)
        .await
        .unwrap();
    assert_eq!(reading.timestamp, 42);
    assert_eq!(reading.import.total, Some(Decimal::new(1_234_567, 2)));
    assert_eq!(reading.export.total, None);
}

#[tokio::test(start_paused = true)]
async fn rtu_profile_read_and_register_functions() {
    let bus = ModbusSimBus::new(vec![abb(1), abb(2).with_input(0, &[1, 2, 3])], Framing::Rtu);
    let mut client = start(bus, ModbusConfig::rtu());
    read_abb_energy(&mut client, 1).await;
    assert_eq!(client.read_input(2, 1, 2).await.unwrap(), [2, 3]);
    client.write_register(2, 0x10, 0xBEEF).await.unwrap();
    client.write_registers(2, 0x20, &[1, 2, 3]).await.unwrap();
    assert_eq!(client.read_holding(2, 0x10, 1).await.unwrap(), [0xBEEF]);
    assert_eq!(client.read_holding(2, 0x20, 3).await.unwrap(), [1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn exception_replies_are_typed() {
    let mut client = start(
        ModbusSimBus::new(vec![abb(1)], Framing::Rtu),
        ModbusConfig::rtu(),
    );
    let err = client.read_holding(1, 0x6000, 2).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Exception {
                function: 0x03,
                code: ExceptionCode::IllegalDataAddress
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Modbus exception 0x02 (IllegalDataAddress) to function 0x03"
    );
}

#[tokio::test(start_paused = true)]
async fn echo_garbage_foreign_and_split_replies_are_survived() {
    for framing in [Framing::Rtu, Framing::Tcp] {
        let mut bus = ModbusSimBus::new(vec![abb(1), abb(2)], framing);
        let faults = &mut bus.faults;
        faults.echo = true;
        faults.garbage_before_reply = true;
        faults.foreign_reply_first = true;
        faults.split_writes = true;
        let mut config = if framing == Framing::Rtu {
            ModbusConfig::rtu()
        } else {
            ModbusConfig::tcp()
        };
        config.echo = true;
        let mut client = start(bus, config);
        read_abb_energy(&mut client, 1).await;
        // FC06: the reply is byte-identical to the request; the echo goes first.
        client.write_register(1, 0x10, 5).await.unwrap();
        assert_eq!(
            client.read_holding(1, 0x10, 1).await.unwrap(),
            [5],
            "{framing:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn silence_times_out_and_drops_are_retried() {
    let mut bus = ModbusSimBus::new(vec![abb(1)], Framing::Rtu);
    bus.faults.drop_replies = 2;
    bus.faults.corrupt_replies = 0;
    let mut client = start(bus, ModbusConfig::rtu());
    // Two dropped replies, the third attempt answers.
    assert_eq!(
        client.read_holding(1, 0x5002, 2).await.unwrap(),
        [0x0012, 0xD687]
    );
    // A unit that is not there: three attempts.
    let err = client.read_holding(9, 0x5000, 1).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 3, .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn a_corrupt_reply_is_skipped_and_retried() {
    let mut bus = ModbusSimBus::new(vec![abb(1)], Framing::Rtu);
    bus.faults.corrupt_replies = 1;
    let mut client = start(bus, ModbusConfig::rtu());
    assert_eq!(
        client.read_holding(1, 0x5002, 2).await.unwrap(),
        [0x0012, 0xD687]
    );
}

#[tokio::test(start_paused = true)]
async fn tcp_late_reply_never_answers_the_next_request() {
    let (ours, mut theirs) = tokio::io::duplex(1024);
    // A hand-driven server: the first reply comes 800 ms late (after the client gave
    // up), carrying a value the second request must never see.
    tokio::spawn(async move {
        let mut buf = [0u8; 64];
        let reply = |transaction, value: u16| {
            let values = [value];
            let repr = tcp::Repr {
                transaction,
                unit: 1,
                pdu: Response::ReadHoldingRegisters {
                    registers: Registers::from_values(&values),
                }
                .into(),
            };
            let mut out = [0u8; 32];
            let n = repr.emit(&mut out).unwrap();
            out[..n].to_vec()
        };
        let n = theirs.read(&mut buf).await.unwrap();
        let first = tcp::Frame::new_checked(&buf[..n]).unwrap().transaction();
        tokio::time::sleep(Duration::from_millis(800)).await;
        theirs.write_all(&reply(first, 0xDEAD)).await.unwrap();
        let n = theirs.read(&mut buf).await.unwrap();
        let second = tcp::Frame::new_checked(&buf[..n]).unwrap().transaction();
        assert_ne!(first, second);
        theirs.write_all(&reply(second, 2)).await.unwrap();
        let _ = theirs.read(&mut buf).await;
    });
    let mut config = ModbusConfig::tcp();
    config.retries = 0;
    let mut client = ModbusClient::new(Link::new(Once::new(ours, "pipe")), config);
    let err = client.read_holding(1, 0, 1).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    // The 0xDEAD reply lands while this request waits; its transaction id differs.
    assert_eq!(client.read_holding(1, 0, 1).await.unwrap(), [2]);
}

#[tokio::test(start_paused = true)]
async fn rtu_keeps_the_inter_frame_silence() {
    let (ours, mut theirs) = tokio::io::duplex(1024);
    let server = tokio::spawn(async move {
        let mut buf = [0u8; 64];
        let mut arrivals = Vec::new();
        for _ in 0..2 {
            let n = theirs.read(&mut buf).await.unwrap();
            arrivals.push(Instant::now());
            let request = rtu::Frame::new_checked(&buf[..n]).unwrap();
            assert_eq!(request.function(), 0x06);
            // FC06 reply = the request.
            theirs.write_all(&buf[..n]).await.unwrap();
        }
        arrivals
    });
    let mut config = ModbusConfig::rtu();
    config.inter_frame = Some(Duration::from_millis(20));
    let mut client = ModbusClient::new(Link::new(Once::new(ours, "pipe")), config);
    client.write_register(1, 1, 1).await.unwrap();
    client.write_register(1, 1, 2).await.unwrap();
    let arrivals = server.await.unwrap();
    // The reply arrived at once; the next request waited 20 ms of silence after it.
    assert!(arrivals[1] - arrivals[0] >= Duration::from_millis(20));
}

#[tokio::test(start_paused = true)]
async fn rtu_broadcast_write_awaits_no_reply() {
    let mut client = start(
        ModbusSimBus::new(vec![abb(0)], Framing::Rtu),
        ModbusConfig::rtu(),
    );
    let before = Instant::now();
    assert_eq!(
        client
            .request(
                0,
                &Request::WriteSingleRegister {
                    address: 1,
                    value: 1
                }
            )
            .await
            .unwrap(),
        None
    );
    assert!(Instant::now() - before < Duration::from_millis(100));
    // A read cannot be broadcast.
    assert!(matches!(
        client.read_holding(0, 0, 1).await,
        Err(Error::ModbusRequest(_))
    ));
}

#[tokio::test]
async fn modbus_tcp_over_a_socket() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut bus = ModbusSimBus::new(vec![abb(17)], Framing::Tcp);
        sim::serve_tcp(listener, &mut bus).await
    });
    let mut client = ModbusClient::new(
        Link::new(TcpConfig::new(format!("127.0.0.1:{port}"))),
        ModbusConfig::tcp(),
    );
    read_abb_energy(&mut client, 17).await;
    server.abort();
}

#[tokio::test(start_paused = true)]
async fn an_echoed_read_is_recognised_without_configuration() {
    let mut bus = ModbusSimBus::new(vec![abb(1)], Framing::Rtu);
    bus.faults.echo = true;
    // `echo` left off: an exact copy of a read request can only be our echo. Parsed as
    // a reply it would announce 0x50 = 80 data bytes and stall until the deadline.
    let mut client = start(bus, ModbusConfig::rtu());
    let before = Instant::now();
    read_abb_energy(&mut client, 1).await;
    assert!(Instant::now() - before < Duration::from_millis(500));
}

/// Values every built-in profile carries exactly: binary fractions (exact in f32) with
/// one decimal (exact in the 0.1- and 0.01-unit integer registers).
fn sample_reading() -> MeterReading<()> {
    let mut reading = MeterReading::new(());
    let d = |m, s| Decimal::new(m, s);
    reading.set(Quantity::ImportEnergyTotal, d(123_455, 1)); // 12 345.5 kWh
    reading.set(Quantity::ExportEnergyTotal, d(50, 1)); // 5.0 kWh
    reading.set(Quantity::VoltageL1, d(2305, 1)); // 230.5 V
    reading.set(Quantity::CurrentL1, d(105, 1)); // 10.5 A
    reading.set(Quantity::ActivePowerTotal, d(2000, 0)); // 2000 W = 2 kW
    reading.set(Quantity::Frequency, d(500, 1)); // 50.0 Hz
    reading
}

#[tokio::test(start_paused = true)]
async fn every_built_in_profile_reads_back_what_the_simulator_holds() {
    let reading = sample_reading();
    for profile in profile::BUILT_IN {
        let sim = ModbusSim::new(1)
            .with_unmapped(0)
            .with_reading(&profile, &reading)
            .unwrap();
        let mut client = start(
            ModbusSimBus::new(vec![sim], Framing::Rtu),
            ModbusConfig::rtu(),
        );
        let back = client
            .read_profile(1, &profile, &Quantity::ALL, &Ratios::DIRECT, ())
            .await
            .unwrap();
        for (quantity, value) in reading.values() {
            let expected = profile.source(quantity).map(|_| value.normalize());
            let got = back.get(quantity).map(|v| v.normalize());
            assert_eq!(got, expected, "{} {quantity}", profile.name);
        }
    }
}
