//! Sharing one bus between tasks, polling meters into readings, and TCP links.
#![allow(clippy::unwrap_used)] // fixtures: a failed unwrap is a failed test

use std::time::Duration;

use dlt645::{Address, Di, value::Value};
use meterkit_modbus::profile::{self, Ratios};
use meterkit_reading::Quantity;
use meterkit_transport::{
    Error,
    bus::{self, BusHandle},
    client::{Client, ClientConfig},
    link::{Link, Once, TcpConfig},
    modbus::{Framing, ModbusClient, ModbusConfig},
    modbus_sim::{ModbusSim, ModbusSimBus},
    poll::{self, AnyMeter, Dlt645Meter, ModbusMeter, PollItem, Poller},
    sim::{self, EnergyProfile, SimBus, SimMeter},
};
use tokio::io::DuplexStream;

type Dlt645Bus = BusHandle<Client<Once<DuplexStream>>>;
use rust_decimal::Decimal;
use tokio::time::Instant;

fn address(n: u64) -> Address {
    format!("{n:012}").parse().unwrap()
}

fn demo(n: u64, power_w: u64) -> SimMeter {
    sim::demo_meter(
        address(n),
        EnergyProfile {
            start_wh: 10_000 * n,
            power_w,
        },
    )
    .unwrap()
}

/// A bus task over a pipe to a simulated bus of `meters`.
fn shared_bus(sim_bus: SimBus, timeout: Duration) -> Dlt645Bus {
    shared_bus_with(sim_bus, timeout, ClientConfig::default())
}

fn shared_bus_with(mut sim_bus: SimBus, timeout: Duration, config: ClientConfig) -> Dlt645Bus {
    let (ours, mut theirs) = tokio::io::duplex(1024);
    tokio::spawn(async move { sim::serve(&mut theirs, &mut sim_bus).await });
    let client = Client::new(Link::new(Once::new(ours, "pipe")), config);
    bus::spawn(client, 16, timeout).0
}

const ENERGY: Di = Di::V2007(0x0001_0000);

fn energy(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        other => panic!("not a number: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn concurrent_callers_share_one_bus() {
    let meters: Vec<SimMeter> = (1..=3).map(|n| demo(n, 0)).collect();
    // Echo on: any interleaving of two requests would garble frames on the wire
    // and end in timeouts.
    let mut sim_bus = SimBus::new(meters);
    sim_bus.faults.echo = true;
    let handle = shared_bus(sim_bus, Duration::from_secs(30));
    let mut tasks = Vec::new();
    for n in 1..=3u64 {
        let handle = handle.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..4 {
                seen.push(energy(
                    &handle.read_value(address(n), ENERGY).await.unwrap(),
                ));
            }
            seen
        }));
    }
    for (n, task) in (1..=3u64).zip(tasks) {
        // start 10 000 × n Wh = 10 × n kWh, no load.
        let expected = format!("{}.00", 10 * n);
        assert_eq!(task.await.unwrap(), vec![expected; 4]);
    }
    assert_eq!(handle.read_address(address(2)).await.unwrap(), address(2));
}

#[tokio::test(start_paused = true)]
async fn a_deadline_that_passes_in_the_queue_never_reaches_the_line() {
    let mut sim_bus = SimBus::new(vec![demo(1, 0)]);
    // Each reply takes 2 s.
    sim_bus.faults.reply_delay = Duration::from_secs(2);
    // A patient client: 5 s margin, so the 2 s reply is in time.
    let mut config = ClientConfig::default();
    config.base_timeout = Duration::from_secs(5);
    let handle = shared_bus_with(sim_bus, Duration::from_secs(10), config);
    let slow = handle.clone();
    let first = tokio::spawn(async move { slow.read_value(address(1), ENERGY).await });
    tokio::task::yield_now().await;
    // Queued behind a 2 s exchange with a 1 s deadline.
    let impatient = handle.clone().with_timeout(Duration::from_secs(1));
    let before = Instant::now();
    let err = impatient.read_value(address(1), ENERGY).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 0, .. }), "{err:?}");
    // It was answered when the bus got to it, after the first exchange.
    assert!(Instant::now() - before >= Duration::from_secs(2));
    assert_eq!(energy(&first.await.unwrap().unwrap()), "10.00");
    // A deadline shorter than the exchange cuts it off mid-way.
    let err = handle
        .with_timeout(Duration::from_millis(500))
        .read_value(address(1), ENERGY)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 1, .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn bus_task_ends_when_handles_drop_and_callers_see_it_closed() {
    let (ours, _theirs) = tokio::io::duplex(64);
    let client = Client::new(Link::new(Once::new(ours, "pipe")), ClientConfig::default());
    let (handle, task) = bus::spawn(client, 1, Duration::from_secs(1));
    task.abort();
    let _ = task.await;
    assert!(matches!(
        handle.read(address(1), ENERGY).await,
        Err(Error::BusClosed)
    ));
}

#[tokio::test(start_paused = true)]
async fn poller_yields_readings_that_advance() {
    // 7200 W: 2 Wh per second; 15 s rounds add 30 Wh = 0.03 kWh each.
    let handle = shared_bus(
        SimBus::new(vec![demo(1, 7_200), demo(2, 0)]),
        Duration::from_secs(30),
    );
    let items = vec![
        PollItem {
            di: ENERGY,
            quantity: Quantity::ImportEnergyTotal,
        },
        PollItem {
            di: Di::V2007(0x0203_0000),
            quantity: Quantity::ActivePowerTotal,
        },
        PollItem {
            di: Di::V2007(0x0201_0100),
            quantity: Quantity::VoltageL1,
        },
        // The simulated meter lacks the L2 voltage: left empty, not an error.
        PollItem {
            di: Di::V2007(0x0201_0200),
            quantity: Quantity::VoltageL2,
        },
    ];
    let start = Instant::now();
    let meters = [address(1), address(2)].map(|address| Dlt645Meter {
        bus: handle.clone(),
        address,
        items: items.clone(),
    });
    let mut poller = Poller::spawn(meters.into(), Duration::from_secs(15), move || {
        Instant::now() - start
    });
    let mut first_meter = Vec::new();
    for _ in 0..4 {
        let result = poller.next().await.unwrap();
        let reading = result.reading.unwrap();
        if result.meter == "dlt645 000000000001" {
            first_meter.push(reading);
        } else {
            assert_eq!(reading.import.total, Some(Decimal::new(2000, 2)));
            assert_eq!(reading.active_power.total, Some(Decimal::ZERO.round_dp(4)));
        }
    }
    let [round1, round2] = &first_meter[..] else {
        panic!("two rounds of meter 1 expected")
    };
    // 10 000 Wh = 10.00 kWh, then + 30 Wh.
    assert_eq!(round1.import.total, Some(Decimal::new(1000, 2)));
    assert_eq!(round2.import.total, Some(Decimal::new(1003, 2)));
    assert_eq!(
        round2.timestamp.checked_sub(round1.timestamp),
        Some(Duration::from_secs(15))
    );
    // 7.2000 kW → 7200.0000 W.
    assert_eq!(round1.active_power.total, Some(Decimal::new(72_000_000, 4)));
    assert_eq!(round1.voltage.l1, Some(Decimal::new(2302, 1)));
    assert_eq!(round1.get(Quantity::VoltageL2), None);
}

#[tokio::test(start_paused = true)]
async fn read_meter_fails_on_a_silent_meter() {
    let handle = shared_bus(SimBus::new(vec![demo(1, 0)]), Duration::from_secs(30));
    let items = poll::standard_items();
    // Address 9 is not on the bus.
    let err = poll::read_meter(&handle, address(9), &items, ())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn tcp_gateway_link() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut bus = SimBus::new(vec![demo(4, 0)]);
        sim::serve_tcp(listener, &mut bus).await
    });
    let mut client = Client::new(
        Link::new(TcpConfig::new(format!("127.0.0.1:{port}"))),
        ClientConfig::default(),
    );
    assert_eq!(
        energy(&client.read_value(address(4), ENERGY).await.unwrap()),
        "40.00"
    );
    assert_eq!(
        client.read_address(Address::WILDCARD).await.unwrap(),
        address(4)
    );
    server.abort();
}

#[tokio::test]
async fn tcp_refused_names_the_cause() {
    // Bind then drop to get a port nobody listens on.
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let mut client = Client::new(
        Link::new(TcpConfig::new(format!("127.0.0.1:{port}"))),
        ClientConfig::default(),
    );
    let err = client.read(address(1), ENERGY).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Open {
                cause: meterkit_transport::OpenCause::Refused,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("tcp 127.0.0.1:{port}: connection refused"))
    );
}

#[tokio::test(start_paused = true)]
async fn one_poller_reads_both_protocols() {
    let dlt645_bus = shared_bus(SimBus::new(vec![demo(3, 0)]), Duration::from_secs(30));
    let (ours, mut theirs) = tokio::io::duplex(1024);
    tokio::spawn(async move {
        // ABB B23 import energy: 0x2710 = 10 000 × 0.01 kWh = 100.00 kWh.
        let abb = ModbusSim::new(5).with_holding(0x5000, &[0, 0, 0, 0x2710]);
        let mut bus = ModbusSimBus::new(vec![abb], Framing::Rtu);
        sim::serve(&mut theirs, &mut bus).await
    });
    let modbus = ModbusClient::new(Link::new(Once::new(ours, "rtu")), ModbusConfig::rtu());
    let (modbus_bus, _task) = bus::spawn(modbus, 4, Duration::from_secs(30));
    assert_eq!(
        modbus_bus.read_holding(5, 0x5003, 1).await.unwrap(),
        [0x2710]
    );
    let meters = vec![
        AnyMeter::Dlt645(Dlt645Meter {
            bus: dlt645_bus,
            address: address(3),
            items: vec![PollItem {
                di: ENERGY,
                quantity: Quantity::ImportEnergyTotal,
            }],
        }),
        AnyMeter::Modbus(ModbusMeter {
            bus: modbus_bus,
            unit: 5,
            profile: profile::ABB_B23,
            quantities: vec![Quantity::ImportEnergyTotal],
            ratios: Ratios::DIRECT,
        }),
    ];
    let mut poller = Poller::spawn(meters, Duration::from_secs(60), || 7_u32);
    let first = poller.next().await.unwrap();
    assert_eq!(
        (first.index, first.meter.as_str()),
        (0, "dlt645 000000000003")
    );
    assert_eq!(
        first.reading.unwrap().import.total,
        Some(Decimal::new(3000, 2))
    );
    let second = poller.next().await.unwrap();
    assert_eq!(
        (second.index, second.meter.as_str()),
        (1, "modbus b23 unit 5")
    );
    let reading = second.reading.unwrap();
    assert_eq!(
        (reading.timestamp, reading.import.total),
        (7, Some(Decimal::new(10_000, 2)))
    );
}
