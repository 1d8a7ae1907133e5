//! Simulator realism over in-memory pipes with tokio's paused clock: tariff-rate
//! registers following the meter's period table on its own (skewed) clock, Modbus
//! energy that advances, and several meters sharing one bus.
#![allow(clippy::unwrap_used)] // fixtures: a failed unwrap is a failed test

use std::time::Duration;

use chrono::{NaiveDateTime, NaiveTime, TimeDelta, Weekday};
use dlt645::{
    Address, Di,
    value::{Number, Value},
};
use meterkit_modbus::profile::{self, Ratios};
use meterkit_reading::Quantity;
use meterkit_transport::{
    Error,
    client::{Client, ClientConfig, Probe},
    link::{Link, Once},
    modbus::{Framing, ModbusClient, ModbusConfig},
    modbus_sim::{ModbusSim, ModbusSimBus},
    sim::{self, EnergyProfile, MeterClock, Metering, PeriodTable, SimBus, SimMeter},
};
use rust_decimal::Decimal;
use tokio::io::DuplexStream;

fn address(text: &str) -> Address {
    text.parse().unwrap()
}

fn time(text: &str) -> NaiveDateTime {
    text.parse().unwrap()
}

fn client(bus: SimBus) -> Client<Once<DuplexStream>> {
    let (ours, mut theirs) = tokio::io::duplex(1024);
    tokio::spawn(async move {
        let mut bus = bus;
        sim::serve(&mut theirs, &mut bus).await
    });
    Client::new(Link::new(Once::new(ours, "pipe")), ClientConfig::default())
}

fn kwh(hundredths: u64) -> Number {
    Number::new(hundredths, 2, false)
}

/// 7.2 kW = 2 Wh per second, from zero, on a table with rate 2 until 08:00 and rate 1
/// after.
fn tariff_meter(skew: TimeDelta) -> SimMeter {
    SimMeter::new(address("123456789012"))
        .with_periods("08:00=1,20:00=2".parse().unwrap())
        .with_clock(MeterClock {
            start: time("2026-03-02T07:59:00"),
            skew,
        })
        .with_energy(EnergyProfile {
            start_wh: 0,
            power_w: 7_200,
        })
}

#[tokio::test(start_paused = true)]
async fn rate_registers_follow_the_period_table() {
    let meter = address("123456789012");
    let mut client = client(SimBus::new(vec![tariff_meter(TimeDelta::zero())]));
    let block = Di::V2007(0x0001_FF00);
    let zero = Value::Numbers([kwh(0); 5].into_iter().collect());
    assert_eq!(client.read_value(meter, block).await.unwrap(), zero);
    tokio::time::sleep(Duration::from_secs(120)).await;
    // 07:59–08:00 at 2 Wh/s: 120 Wh = 0.12 kWh into rate 2; 08:00–08:01 another
    // 0.12 kWh into rate 1. Total 0.24 = 0.12 + 0.12.
    let expected = Value::Numbers(
        [kwh(24), kwh(12), kwh(12), kwh(0), kwh(0)]
            .into_iter()
            .collect(),
    );
    assert_eq!(client.read_value(meter, block).await.unwrap(), expected);
    for (di, hundredths) in [
        (0x0001_0000, 24),
        (0x0001_0100, 12),
        (0x0001_0200, 12),
        (0x0001_0300, 0),
        (0x0001_0400, 0),
    ] {
        assert_eq!(
            client.read_value(meter, Di::V2007(di)).await.unwrap(),
            Value::Number(kwh(hundredths)),
            "{di:08X}"
        );
    }
    // The meter's clock: 07:59:00 + 120 s.
    assert_eq!(
        client
            .read_value(meter, Di::V2007(0x0400_0102))
            .await
            .unwrap(),
        Value::Time(NaiveTime::from_hms_opt(8, 1, 0).unwrap())
    );
}

#[tokio::test(start_paused = true)]
async fn a_fast_clock_moves_energy_into_the_next_period_and_broadcast_time_fixes_it() {
    let meter = address("123456789012");
    let mut client = client(SimBus::new(vec![tariff_meter(TimeDelta::minutes(5))]));
    let block = Di::V2007(0x0001_FF00);
    client.read_value(meter, block).await.unwrap();
    tokio::time::sleep(Duration::from_secs(120)).await;
    // Five minutes fast, the meter is past 08:00 all along: all 0.24 kWh in rate 1.
    let expected = Value::Numbers(
        [kwh(24), kwh(24), kwh(0), kwh(0), kwh(0)]
            .into_iter()
            .collect(),
    );
    assert_eq!(client.read_value(meter, block).await.unwrap(), expected);
    let Value::DateWeekday(date) = client
        .read_value(meter, Di::V2007(0x0400_0101))
        .await
        .unwrap()
    else {
        panic!("04000101 is a date")
    };
    assert_eq!(date.date, time("2026-03-02T00:00:00").date());
    assert_eq!(date.weekday, Weekday::Mon);
    assert_eq!(
        client
            .read_value(meter, Di::V2007(0x0400_0102))
            .await
            .unwrap(),
        Value::Time(NaiveTime::from_hms_opt(8, 6, 0).unwrap())
    );
    // Broadcast time sets the meter to 07:30 (the true time is 08:01): the next
    // minute counts into rate 2 again, the first two stay in rate 1.
    client
        .broadcast_time(time("2026-03-02T07:30:00"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
    let expected = Value::Numbers(
        [kwh(36), kwh(24), kwh(12), kwh(0), kwh(0)]
            .into_iter()
            .collect(),
    );
    assert_eq!(client.read_value(meter, block).await.unwrap(), expected);
    assert_eq!(
        client
            .read_value(meter, Di::V2007(0x0400_0102))
            .await
            .unwrap(),
        Value::Time(NaiveTime::from_hms_opt(7, 31, 0).unwrap())
    );
}

#[tokio::test(start_paused = true)]
async fn modbus_energy_advances_into_its_tariff_registers() {
    // ADL400 keeps energy and T1..T4 in 0.1 kWh. 3.6 kW for two hours from 11:00 on a
    // table with rate 4 until 12:00 and rate 2 after: 3.6 kWh each, 7.2 in total.
    let metering = Metering::new(EnergyProfile {
        start_wh: 0,
        power_w: 3_600,
    })
    .with_periods("00:00=4,12:00=2".parse().unwrap());
    let server = ModbusSim::new(1)
        .with_unmapped(0)
        .with_clock(MeterClock {
            start: time("2026-03-02T11:00:00"),
            skew: TimeDelta::zero(),
        })
        .with_metering(&profile::ACREL_ADL400, metering)
        .unwrap();
    let (ours, mut theirs) = tokio::io::duplex(1024);
    tokio::spawn(async move {
        let mut bus = ModbusSimBus::new(vec![server], Framing::Rtu);
        sim::serve(&mut theirs, &mut bus).await
    });
    let mut client = ModbusClient::new(Link::new(Once::new(ours, "pipe")), ModbusConfig::rtu());
    let wanted = [
        Quantity::ImportEnergyTotal,
        Quantity::ImportEnergyT1,
        Quantity::ImportEnergyT2,
        Quantity::ImportEnergyT3,
        Quantity::ImportEnergyT4,
    ];
    let read = async |client: &mut ModbusClient<_>| {
        client
            .read_profile(1, &profile::ACREL_ADL400, &wanted, &Ratios::DIRECT, ())
            .await
            .unwrap()
    };
    let before = read(&mut client).await;
    assert_eq!(before.import.total, Some(Decimal::ZERO));
    tokio::time::sleep(Duration::from_secs(7_200)).await;
    let after = read(&mut client).await;
    let tenths = |n| Some(Decimal::new(n, 1));
    assert_eq!(after.import.total, tenths(72));
    assert_eq!(
        after.import.tariffs,
        [tenths(0), tenths(36), tenths(0), tenths(36)]
    );
}

#[tokio::test(start_paused = true)]
async fn meters_on_one_bus_answer_their_address_and_collide_on_the_wildcard() {
    let addresses = [address("000000000001"), address("000000000002")];
    let meters = addresses
        .iter()
        .map(|a| {
            sim::demo_meter(
                *a,
                EnergyProfile {
                    start_wh: 10,
                    power_w: 0,
                },
            )
            .unwrap()
        })
        .collect();
    let mut client = client(SimBus::new(meters));
    for a in addresses {
        assert_eq!(client.read_address(a).await.unwrap(), a);
    }
    // Both answer the wildcard at once: the line carries the OR of two frames.
    let probe = client
        .probe(Address::WILDCARD, &dlt645::message::Request::ReadAddress)
        .await
        .unwrap();
    assert!(
        matches!(probe, Probe::Garbled { noise } if noise > 0),
        "{probe:?}"
    );
    // The plain client retries and then reports a timeout.
    assert!(matches!(
        client.read_address(Address::WILDCARD).await,
        Err(Error::Timeout { attempts: 3, .. })
    ));
    // A pattern only one of them matches is answered cleanly.
    let low = Address::with_wildcard_high("02").unwrap();
    assert_eq!(
        client
            .probe(low, &dlt645::message::Request::ReadAddress)
            .await
            .unwrap(),
        Probe::Reply(dlt645::message::Reply::ReadAddress {
            address: addresses[1]
        })
    );
    // Nobody ends in 03.
    let none = Address::with_wildcard_high("03").unwrap();
    assert_eq!(
        client
            .probe(none, &dlt645::message::Request::ReadAddress)
            .await
            .unwrap(),
        Probe::Silent
    );
}

#[test]
fn collided_replies_fail_the_checksum() {
    let mut bus = SimBus::new(vec![
        SimMeter::new(address("000000000001")),
        SimMeter::new(address("000000000002")),
    ]);
    let request = dlt645::message::Request::ReadAddress
        .to_frame(Address::WILDCARD)
        .unwrap();
    let line = bus.respond(&[], &request, Duration::ZERO);
    // Two FE, then one frame's length: 12 + 6 data bytes.
    assert_eq!(line.len(), 2 + 18);
    // Addresses 01 and 02 OR to 03 in the header, but the checksum byte is the OR of
    // the two checksums, not the sum of the ORed bytes.
    assert_eq!(line[3], 0x03);
    let decoded = dlt645::stream::Decoder::new().decode(&line);
    assert!(
        matches!(decoded, dlt645::stream::Decoded::Skip { .. }),
        "{decoded:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn modbus_slaves_with_one_id_collide() {
    let twin = || ModbusSim::new(7).with_holding(0, &[1]);
    let (ours, mut theirs) = tokio::io::duplex(1024);
    tokio::spawn(async move {
        let mut bus = ModbusSimBus::new(
            vec![twin().with_holding(0, &[2]), twin(), ModbusSim::new(8)],
            Framing::Rtu,
        );
        sim::serve(&mut theirs, &mut bus).await
    });
    let mut config = ModbusConfig::rtu();
    config.retries = 0;
    let mut client = ModbusClient::new(Link::new(Once::new(ours, "pipe")), config);
    // Values 1 and 2 OR to 3 on the wire, and the CRC no longer fits: no reply.
    assert!(matches!(
        client.read_holding(7, 0, 1).await,
        Err(Error::Timeout { .. })
    ));
}

#[test]
fn default_period_table_is_the_documented_one() {
    assert_eq!(
        PeriodTable::default().to_string(),
        "00:00=4,08:00=3,10:00=2,15:00=3,18:00=2,19:00=1,21:00=2,22:00=3,23:00=4"
    );
}

#[tokio::test(start_paused = true)]
async fn writing_the_time_sets_the_meter_clock() {
    let meter = address("123456789012");
    let mut client = client(SimBus::new(vec![tariff_meter(TimeDelta::zero())]));
    let time_di = Di::V2007(0x0400_0102);
    let mut data = [0u8; 8];
    let n = dlt645::value::encode(
        time_di,
        &Value::Time(NaiveTime::from_hms_opt(12, 34, 56).unwrap()),
        &mut data,
    )
    .unwrap();
    let password = "02000000".parse().unwrap();
    let operator = Some("00000000".parse().unwrap());
    // A wrong password is refused and leaves the clock alone.
    let wrong = "02123456".parse().unwrap();
    assert!(matches!(
        client
            .write(meter, time_di, wrong, operator, &data[..n])
            .await,
        Err(Error::Abnormal { .. })
    ));
    client
        .write(meter, time_di, password, operator, &data[..n])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        client.read_value(meter, time_di).await.unwrap(),
        Value::Time(NaiveTime::from_hms_opt(12, 35, 0).unwrap())
    );
}

#[test]
fn dlt645_meters_and_modbus_slaves_share_one_line() {
    use meterkit_modbus::{Direction, Pdu, rtu};
    use meterkit_transport::sim::{MixedBus, Simulated, Step};
    let mut bus = MixedBus {
        dlt645: SimBus::new(vec![SimMeter::new(address("123456789012"))]),
        modbus: ModbusSimBus::new(
            vec![ModbusSim::new(3).with_holding(0, &[0x0102])],
            Framing::Rtu,
        ),
    };
    // A DL/T 645 read-address request, with wake-up bytes.
    let frame = dlt645::message::Request::ReadAddress
        .to_frame(Address::WILDCARD)
        .unwrap();
    let mut dlt = vec![0u8; 4 + frame.buffer_len()];
    let n = frame.emit(4, &mut dlt).unwrap();
    dlt.truncate(n);
    let Step::Consumed { count, reply } = bus.step(&dlt, Duration::ZERO) else {
        panic!("a whole DL/T 645 frame")
    };
    assert_eq!(count, dlt.len());
    // FE FE, then 68 and the address 12 90 78 56 34 12 low byte first.
    assert_eq!(&reply[2..9], &[0x68, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12]);
    // A Modbus FC03 request for unit 3, register 0.
    let mut modbus = [0u8; 16];
    let n = rtu::Repr {
        slave: 3,
        pdu: Pdu::parse(&[0x03, 0x00, 0x00, 0x00, 0x01], Direction::Request).unwrap(),
    }
    .emit(&mut modbus)
    .unwrap();
    let Step::Consumed { count, reply } = bus.step(&modbus[..n], Duration::ZERO) else {
        panic!("a whole Modbus frame")
    };
    assert_eq!(count, n);
    // 03 03 02 01 02 + CRC: unit 3, FC03, two bytes, value 0x0102.
    assert_eq!(&reply[..5], &[0x03, 0x03, 0x02, 0x01, 0x02]);
    // Half a Modbus frame waits; a byte that starts neither frame (0xF9 is no DL/T 645
    // start and above the highest slave address 247) is skipped.
    assert_eq!(bus.step(&modbus[..3], Duration::ZERO), Step::NeedMore);
    assert_eq!(
        bus.step(&[0xF9], Duration::ZERO),
        Step::Consumed {
            count: 1,
            reply: Vec::new()
        }
    );
}
