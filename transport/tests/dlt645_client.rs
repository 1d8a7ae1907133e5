//! The DL/T 645 client against the simulator over in-memory pipes, with tokio's
//! paused clock for every timeout and retry path.
#![allow(clippy::unwrap_used)] // fixtures: a failed unwrap is a failed test

use std::time::Duration;

use chrono::NaiveDate;
use dlt645::{
    Address, Di, Edition,
    message::{BaudRate, ErrorFlag, FreezeTime, OperatorCode, Password, RelayCommand, Request},
    value::{Number, Value},
};
use meterkit_transport::{
    Error, ProtocolError,
    client::{Client, ClientConfig},
    error::FollowError,
    link::{Backoff, Connector, Link, Once},
    sim::{self, EnergyProfile, SimBus, SimMeter},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, DuplexStream},
    task::JoinHandle,
    time::Instant,
};

const ENERGY: Di = Di::V2007(0x0001_0000);
const ENERGY_BLOCK: Di = Di::V2007(0x0001_FF00);
const VOLTAGE_A: Di = Di::V2007(0x0201_0100);

fn meter_address() -> Address {
    "123456789012".parse().unwrap()
}

fn password() -> Password {
    "02123456".parse().unwrap()
}

fn meter() -> SimMeter {
    sim::demo_meter(
        meter_address(),
        EnergyProfile {
            start_wh: 1_234_560,
            power_w: 7_200,
        },
    )
    .unwrap()
    .with_password(password())
}

/// A client on one end of a pipe, the simulated bus served on the other. The task
/// hands the bus back when the client is dropped.
fn start(bus: SimBus, config: ClientConfig) -> (Client<Once<DuplexStream>>, JoinHandle<SimBus>) {
    let (ours, mut theirs) = tokio::io::duplex(1024);
    let server = tokio::spawn(async move {
        let mut bus = bus;
        sim::serve(&mut theirs, &mut bus).await.unwrap();
        bus
    });
    let client = Client::new(Link::new(Once::new(ours, "pipe")), config);
    (client, server)
}

fn number(value: &Value) -> String {
    let Value::Number(n) = value else {
        panic!("not a number: {value:?}")
    };
    n.to_string()
}

#[tokio::test(start_paused = true)]
async fn read_follows_the_energy_profile() {
    let (mut client, _server) = start(SimBus::new(vec![meter()]), ClientConfig::default());
    let value = client.read_value(meter_address(), ENERGY).await.unwrap();
    assert_eq!(number(&value), "1234.56");
    // 7200 W for 10 minutes = 1200 Wh: 1 234 560 + 1 200 = 1 235 760 Wh = 1235.76 kWh.
    tokio::time::sleep(Duration::from_secs(600)).await;
    let value = client.read_value(meter_address(), ENERGY).await.unwrap();
    assert_eq!(number(&value), "1235.76");
    let volts = client.read_value(meter_address(), VOLTAGE_A).await.unwrap();
    assert_eq!(number(&volts), "230.2");
}

#[tokio::test(start_paused = true)]
async fn long_block_is_gathered_from_subsequent_frames() {
    // 64 items × 4 bytes = 256 value bytes: 196 in the 0x91 frame, 60 in one 0x92.
    let items: Vec<Number> = (0..64u64).map(|i| Number::new(i * 101, 2, false)).collect();
    let block = Value::Numbers(items.iter().copied().collect());
    // No energy profile: it would answer this block with its own 5 items.
    let plain = SimMeter::new(meter_address())
        .with_value(ENERGY_BLOCK, &block)
        .unwrap();
    let (mut client, _server) = start(SimBus::new(vec![plain]), ClientConfig::default());
    let read = client.read(meter_address(), ENERGY_BLOCK).await.unwrap();
    assert_eq!((read.frames, read.data.len()), (2, 256));
    assert_eq!(read.value().unwrap(), block);
    // Item 63 = 63 × 101 = 6363 hundredths → BCD 63 63 00 00 at the end.
    assert_eq!(read.data[252..], [0x63, 0x63, 0x00, 0x00]);
}

#[tokio::test(start_paused = true)]
async fn long_1997_answer_is_followed_without_sequence_numbers() {
    // 500 bytes of an uncatalogued 1997 item: frames of 196, 195 and 109 bytes, asked
    // for with 0x01, then 0x02 twice (no SEQ in 1997).
    let di = Di::V1997(0xC0FF);
    let bytes: Vec<u8> = (0..500u16).map(|i| (i % 251) as u8).collect();
    let meter = SimMeter::new(meter_address()).with_register(di, &bytes);
    let (mut client, _server) = start(SimBus::new(vec![meter]), ClientConfig::default());
    let read = client.read(meter_address(), di).await.unwrap();
    assert_eq!(read.frames, 3);
    assert_eq!(read.data, bytes);
    // A client that follows at most 2 frames gives up on the third.
    let meter = SimMeter::new(meter_address()).with_register(di, &bytes);
    let mut config = ClientConfig::default();
    config.max_frames = 2;
    let (mut client, _server) = start(SimBus::new(vec![meter]), config);
    assert!(matches!(
        client.read(meter_address(), di).await,
        Err(Error::Protocol(ProtocolError::Follow(
            FollowError::TooManyFrames { frames: 2 }
        )))
    ));
}

#[tokio::test(start_paused = true)]
async fn read_address_with_the_wildcard() {
    let (mut client, _server) = start(SimBus::new(vec![meter()]), ClientConfig::default());
    assert_eq!(
        client.read_address(Address::WILDCARD).await.unwrap(),
        meter_address()
    );
    // Knowing only the low digits.
    let partial = Address::with_wildcard_high("9012").unwrap();
    assert_eq!(client.read_address(partial).await.unwrap(), meter_address());
}

#[tokio::test(start_paused = true)]
async fn write_checks_the_password() {
    let (mut client, _server) = start(SimBus::new(vec![meter()]), ClientConfig::default());
    let di = Di::V2007(0x0400_0401);
    let operator: OperatorCode = "00000001".parse().unwrap();
    client
        .write(
            meter_address(),
            di,
            password(),
            Some(operator),
            &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66],
        )
        .await
        .unwrap();
    assert_eq!(
        client.read(meter_address(), di).await.unwrap().data,
        [0x11, 0x22, 0x33, 0x44, 0x55, 0x66]
    );

    let wrong: Password = "02000001".parse().unwrap();
    let err = client
        .write(meter_address(), di, wrong, Some(operator), &[0; 6])
        .await
        .unwrap_err();
    let Error::Abnormal { function, error } = err else {
        panic!("expected a refusal, got {err:?}")
    };
    assert_eq!(function, dlt645::Function::Write);
    assert_eq!(error.flags().collect::<Vec<_>>(), [ErrorFlag::Unauthorized]);
    // The refused write changed nothing.
    assert_eq!(
        client.read(meter_address(), di).await.unwrap().data,
        [0x11, 0x22, 0x33, 0x44, 0x55, 0x66]
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_item_is_refused_with_no_data() {
    let (mut client, _server) = start(SimBus::new(vec![meter()]), ClientConfig::default());
    let err = client
        .read(meter_address(), Di::V2007(0x0F0F_0F0F))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Abnormal { error, .. } if error.flags().eq([ErrorFlag::NoData])),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn broadcast_freeze_baud_and_relay() {
    let (mut client, server) = start(SimBus::new(vec![meter()]), ClientConfig::default());
    let time = NaiveDate::from_ymd_opt(2026, 11, 24)
        .unwrap()
        .and_hms_opt(5, 6, 7)
        .unwrap();
    let before = Instant::now();
    client.broadcast_time(time).await.unwrap();
    // No reply is awaited: not even the base margin passes.
    assert!(Instant::now() - before < Duration::from_millis(1));
    client
        .freeze(meter_address(), FreezeTime::default())
        .await
        .unwrap();
    let rate = client
        .change_baud(meter_address(), Edition::V2007, BaudRate::B9600)
        .await
        .unwrap();
    assert_eq!(rate, BaudRate::B9600);
    let operator = OperatorCode::default();
    client
        .relay_control(
            meter_address(),
            password(),
            operator,
            RelayCommand::Trip,
            time,
        )
        .await
        .unwrap();
    let refused = client
        .relay_control(
            meter_address(),
            "02999999".parse().unwrap(),
            operator,
            RelayCommand::Trip,
            time,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        refused,
        Error::Abnormal {
            function: dlt645::Function::RelayControl,
            ..
        }
    ));
    drop(client);
    let bus = server.await.unwrap();
    assert_eq!(bus.meters[0].clock(), Some(time));
}

#[tokio::test(start_paused = true)]
async fn echo_foreign_replies_garbage_and_split_writes_are_survived() {
    let mut bus = SimBus::new(vec![meter()]);
    let faults = &mut bus.faults;
    faults.echo = true;
    faults.garbage_before_reply = true;
    faults.foreign_reply_first = true;
    faults.split_writes = true;
    faults.reply_preamble = 4;
    let (mut client, _server) = start(bus, ClientConfig::default());
    for _ in 0..3 {
        let value = client.read_value(meter_address(), ENERGY).await.unwrap();
        assert_eq!(number(&value), "1234.56");
    }
}

#[tokio::test(start_paused = true)]
async fn silence_times_out_after_every_retry() {
    let mut bus = SimBus::new(vec![meter()]);
    bus.faults.drop_replies = u32::MAX;
    let config = ClientConfig::default();
    let (mut client, _server) = start(bus, config);
    let before = Instant::now();
    let err = client.read(meter_address(), ENERGY).await.unwrap_err();
    let Error::Timeout { waited, attempts } = err else {
        panic!("expected a timeout, got {err:?}")
    };
    assert_eq!(attempts, 3);
    // 4 wake-up bytes + 16-byte request, 8 data bytes expected back:
    // 500 ms + (20 + 4 + 12 + 8) × 11 / 2400 s = 500 ms + 201 667 µs.
    assert_eq!(waited, Duration::from_micros(701_667));
    // Three waits plus the backoffs before retries 1 and 2 (100 ms, 200 ms); tokio's
    // timer wheel rounds each deadline up to the next millisecond.
    let expected = waited * 3 + Duration::from_millis(300);
    let elapsed = Instant::now() - before;
    assert!(
        elapsed >= expected && elapsed <= expected + Duration::from_millis(3),
        "{elapsed:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn dropped_and_corrupt_replies_are_retried() {
    let mut bus = SimBus::new(vec![meter()]);
    bus.faults.drop_replies = 1;
    bus.faults.corrupt_replies = 1;
    let (mut client, _server) = start(bus, ClientConfig::default());
    // Attempt 1: no reply. Attempt 2: checksum broken, skipped, times out. Attempt 3: ok.
    let value = client.read_value(meter_address(), ENERGY).await.unwrap();
    assert_eq!(number(&value), "1234.56");
    // With no retries the same faults surface as a timeout.
    let mut bus = SimBus::new(vec![meter()]);
    bus.faults.drop_replies = 1;
    let mut config = ClientConfig::default();
    config.retries = 0;
    let (mut client, _server) = start(bus, config);
    assert!(matches!(
        client.read(meter_address(), ENERGY).await,
        Err(Error::Timeout { attempts: 1, .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_late_reply_never_answers_the_next_request() {
    let mut bus = SimBus::new(vec![meter()]);
    // Every reply arrives 1 s late: past the ~0.7 s deadline.
    bus.faults.reply_delay = Duration::from_secs(1);
    let mut config = ClientConfig::default();
    config.retries = 0;
    let (mut client, server) = start(bus, config);
    assert!(matches!(
        client.read(meter_address(), ENERGY).await,
        Err(Error::Timeout { .. })
    ));
    // The energy reply lands while we wait for the voltage: it must be ignored, and
    // the voltage reply (1 s after its request) is late as well.
    let err = client.read(meter_address(), VOLTAGE_A).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    drop(client);
    drop(server);
}

#[tokio::test(start_paused = true)]
async fn peer_gone_is_disconnected() {
    let (ours, theirs) = tokio::io::duplex(64);
    drop(theirs);
    let mut client = Client::new(Link::new(Once::new(ours, "pipe")), ClientConfig::default());
    let err = client.read(meter_address(), ENERGY).await.unwrap_err();
    assert!(
        matches!(err, Error::Disconnected { ref link } if link == "pipe"),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn disconnect_mid_request_then_reconnect() {
    /// Hands out pipes in turn, like a port that comes back after an unplug.
    struct Pipes(std::vec::IntoIter<DuplexStream>);
    impl Connector for Pipes {
        type Io = DuplexStream;
        async fn open(&mut self) -> Result<DuplexStream, Error> {
            self.0.next().ok_or(Error::Disconnected {
                link: "pipes".into(),
            })
        }
        fn describe(&self) -> String {
            "pipes".into()
        }
    }
    let (first, mut first_far) = tokio::io::duplex(256);
    let (second, mut second_far) = tokio::io::duplex(256);
    // The first "meter" reads the request and hangs up.
    tokio::spawn(async move {
        let mut buf = [0u8; 64];
        let _ = first_far.read(&mut buf).await.unwrap();
        first_far.shutdown().await.unwrap();
    });
    tokio::spawn(async move {
        let mut bus = SimBus::new(vec![meter()]);
        sim::serve(&mut second_far, &mut bus).await.unwrap();
    });
    let backoff = Backoff {
        initial: Duration::from_secs(2),
        max: Duration::from_secs(2),
    };
    let link = Link::with_backoff(Pipes(vec![first, second].into_iter()), backoff);
    let mut client = Client::new(link, ClientConfig::default());
    let err = client.read(meter_address(), ENERGY).await.unwrap_err();
    assert!(matches!(err, Error::Disconnected { .. }), "{err:?}");
    let before = Instant::now();
    let value = client.read_value(meter_address(), ENERGY).await.unwrap();
    // The reopen waited out the backoff instead of spinning.
    assert!(Instant::now() - before >= Duration::from_secs(2));
    // 2 s at 7200 W = 4 Wh: still 1234.56 kWh at 0.01 kWh resolution.
    assert_eq!(number(&value), "1234.56");
    assert_eq!(client.link_mut().reopen_policy().failures(), 0);
}

#[tokio::test(start_paused = true)]
async fn replies_from_other_meters_on_the_bus_are_ignored() {
    let other: Address = "000000000007".parse().unwrap();
    let second = SimMeter::new(other)
        .with_value(ENERGY, &Value::Number(Number::new(700, 2, false)))
        .unwrap();
    let (mut client, _server) = start(SimBus::new(vec![second, meter()]), ClientConfig::default());
    assert_eq!(
        number(&client.read_value(meter_address(), ENERGY).await.unwrap()),
        "1234.56"
    );
    assert_eq!(
        number(&client.read_value(other, ENERGY).await.unwrap()),
        "7.00"
    );
}

#[tokio::test(start_paused = true)]
async fn request_that_cannot_be_encoded_is_reported() {
    let (mut client, _server) = start(SimBus::new(vec![meter()]), ClientConfig::default());
    let err = client
        .write(
            meter_address(),
            ENERGY,
            password(),
            Some(OperatorCode::default()),
            &[0; 300],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Request(dlt645::Error::DataTooLong { .. })),
        "{err:?}"
    );
    // A 2007 write without operator code does not exist.
    let request = Request::Write {
        di: ENERGY,
        password: password(),
        operator: None,
        data: dlt645::frame::Payload::new(),
    };
    assert!(matches!(
        client.request(meter_address(), &request).await,
        Err(Error::Request(dlt645::Error::NotInEdition { .. }))
    ));
}
