//! The embedded-io-async clients against the simulators through an in-memory
//! embedded-io-async link, timed by tokio's paused clock.
#![cfg(feature = "embedded-io-async")]
#![allow(clippy::unwrap_used)] // fixtures: a failed unwrap is a failed test

use std::{collections::VecDeque, convert::Infallible, future::Future, time::Duration};

use dlt645::{
    Address, Di,
    value::{self, Number, Value},
};
use meterkit_modbus::{ExceptionCode, Request as ModbusRequest, Response};
use meterkit_transport::{
    client::ClientConfig,
    embedded::{Dlt645Client, LinkError, ModbusClient, Timer},
    modbus::{Framing, ModbusConfig},
    modbus_sim::{ModbusSim, ModbusSimBus},
    sim::{self, EnergyProfile, Faults, SimBus, Simulated, Step},
};

/// A timer on tokio's (paused) clock.
struct TokioTimer;

impl Timer for TokioTimer {
    type Instant = tokio::time::Instant;
    fn now(&self) -> Self::Instant {
        tokio::time::Instant::now()
    }
    fn after(&self, at: Self::Instant, delay: Duration) -> Self::Instant {
        at + delay
    }
    fn sleep_until(&mut self, at: Self::Instant) -> impl Future<Output = ()> {
        tokio::time::sleep_until(at)
    }
    async fn timeout_at<F: Future>(&mut self, at: Self::Instant, future: F) -> Option<F::Output> {
        tokio::time::timeout_at(at, future).await.ok()
    }
}

/// A simulated bus behind an embedded-io-async link: what is written is answered at
/// once; a read with nothing to read waits forever (the timer ends it).
struct SimLink<S> {
    bus: S,
    started: tokio::time::Instant,
    inbox: Vec<u8>,
    outbox: VecDeque<u8>,
    writes: usize,
}

impl<S: Simulated> SimLink<S> {
    fn new(bus: S) -> Self {
        SimLink {
            bus,
            started: tokio::time::Instant::now(),
            inbox: Vec::new(),
            outbox: VecDeque::new(),
            writes: 0,
        }
    }
}

impl<S> embedded_io_async::ErrorType for SimLink<S> {
    type Error = Infallible;
}

impl<S: Simulated> embedded_io_async::Read for SimLink<S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if self.outbox.is_empty() {
            std::future::pending::<()>().await;
        }
        let n = buf.len().min(self.outbox.len());
        for (slot, byte) in buf.iter_mut().zip(self.outbox.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }
}

impl<S: Simulated> embedded_io_async::Write for SimLink<S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.writes += 1;
        self.inbox.extend_from_slice(buf);
        let elapsed = self.started.elapsed();
        while let Step::Consumed { count, reply } = self.bus.step(&self.inbox, elapsed) {
            self.inbox.drain(..count.min(self.inbox.len()));
            self.outbox.extend(reply);
        }
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl<S> embedded_io_async::ReadReady for SimLink<S> {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(!self.outbox.is_empty())
    }
}

fn meter() -> Address {
    "123456789012".parse().unwrap()
}

fn dlt645(faults: Faults) -> Dlt645Client<SimLink<SimBus>, TokioTimer> {
    let profile = EnergyProfile {
        start_wh: 1_234_560,
        power_w: 0,
    };
    let mut bus = SimBus::new(vec![sim::demo_meter(meter(), profile).unwrap()]);
    bus.faults = faults;
    Dlt645Client::new(SimLink::new(bus), TokioTimer, ClientConfig::default())
}

#[tokio::test(start_paused = true)]
async fn dlt645_reads_through_echo_noise_and_foreign_replies() {
    for faults in [Faults::default(), {
        let mut f = Faults::default();
        f.echo = true;
        f.garbage_before_reply = true;
        f.foreign_reply_first = true;
        f
    }] {
        let mut client = dlt645(faults);
        assert_eq!(
            client.read_address(Address::WILDCARD).await.unwrap(),
            meter()
        );
        let energy = Di::V2007(0x0001_0000);
        let mut data = [0u8; 16];
        let n = client.read(meter(), energy, &mut data).await.unwrap();
        // 1 234 560 Wh = 1234.56 kWh.
        assert_eq!(
            value::decode(energy, &data[..n]).unwrap(),
            Value::Number(Number::new(123_456, 2, false))
        );
    }
}

#[tokio::test(start_paused = true)]
async fn dlt645_retries_dropped_replies_then_times_out() {
    let mut faults = Faults::default();
    faults.drop_replies = 2;
    let mut client = dlt645(faults);
    // Two attempts dropped, the third (of 1 + 2 retries) answered.
    assert_eq!(client.read_address(meter()).await.unwrap(), meter());
    let mut faults = Faults::default();
    faults.drop_replies = 3;
    let mut client = dlt645(faults);
    let started = tokio::time::Instant::now();
    assert!(matches!(
        client.read_address(meter()).await,
        Err(LinkError::Timeout { attempts: 3 })
    ));
    // Three deadlines plus backoffs of 100 and 200 ms passed in virtual time.
    assert!(started.elapsed() > Duration::from_millis(3 * 500 + 300));
    let (link, _) = client.into_parts();
    assert_eq!(link.writes, 3);
}

#[tokio::test(start_paused = true)]
async fn dlt645_refusals_and_stale_input() {
    let mut client = dlt645(Faults::default());
    // Reactive power is catalogued but the demo meter lacks it: ERR bit 1.
    let mut data = [0u8; 16];
    assert!(matches!(
        client.read(meter(), Di::V2007(0x0204_0000), &mut data).await,
        Err(LinkError::Abnormal { error, .. }) if error.bits == 0x02
    ));
    // A stale reply waiting in the input is dropped before the next request.
    let (mut link, timer) = client.into_parts();
    let stale = sim::demo_meter(
        "000000000001".parse().unwrap(),
        EnergyProfile {
            start_wh: 0,
            power_w: 0,
        },
    )
    .unwrap();
    let frame = dlt645::message::Request::ReadAddress
        .to_frame(Address::WILDCARD)
        .unwrap();
    let mut late = SimBus::new(vec![stale]);
    link.outbox
        .extend(late.respond(&[], &frame, Duration::ZERO));
    let mut client = Dlt645Client::new(link, timer, ClientConfig::default());
    assert_eq!(
        client.read_address(Address::WILDCARD).await.unwrap(),
        meter()
    );
}

fn modbus_over(
    faults: Faults,
    framing: Framing,
) -> ModbusClient<SimLink<ModbusSimBus>, TokioTimer> {
    let mut bus = ModbusSimBus::new(vec![ModbusSim::new(1).with_holding(0x10, &[7, 8])], framing);
    bus.faults = faults;
    let config = match framing {
        Framing::Rtu => ModbusConfig::rtu(),
        Framing::Tcp => ModbusConfig::tcp(),
    };
    ModbusClient::new(SimLink::new(bus), TokioTimer, config)
}

fn modbus(faults: Faults) -> ModbusClient<SimLink<ModbusSimBus>, TokioTimer> {
    modbus_over(faults, Framing::Rtu)
}

#[tokio::test(start_paused = true)]
async fn modbus_rtu_reads_registers_through_echo_and_garbage() {
    let mut faults = Faults::default();
    faults.echo = true;
    faults.garbage_before_reply = true;
    faults.foreign_reply_first = true;
    let mut client = modbus(faults);
    let mut out = [0u16; 2];
    client.read_holding(1, 0x10, &mut out).await.unwrap();
    assert_eq!(out, [7, 8]);
    // Past the table: exception 02.
    assert!(matches!(
        client.read_holding(1, 0x11, &mut out).await,
        Err(LinkError::Exception {
            function: 0x03,
            code: ExceptionCode::IllegalDataAddress
        })
    ));
    // A write answered with its echo, read back.
    let write = ModbusRequest::WriteSingleRegister {
        address: 0x12,
        value: 0x1234,
    };
    assert!(matches!(
        client.request(1, &write).await.unwrap(),
        Some(Response::WriteSingleRegister {
            address: 0x12,
            value: 0x1234
        })
    ));
    let mut one = [0u16; 1];
    client.read_holding(1, 0x12, &mut one).await.unwrap();
    assert_eq!(one, [0x1234]);
    // Broadcast: written, no reply awaited.
    assert!(client.request(0, &write).await.unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn modbus_rtu_corrupt_and_dropped_replies_are_retried() {
    let mut faults = Faults::default();
    faults.corrupt_replies = 1;
    faults.drop_replies = 1;
    let mut client = modbus(faults);
    let mut out = [0u16; 1];
    client.read_holding(1, 0x10, &mut out).await.unwrap();
    assert_eq!(out, [7]);
    // A unit nobody answers: every attempt times out.
    assert!(matches!(
        client.read_holding(9, 0x10, &mut out).await,
        Err(LinkError::Timeout { attempts: 3 })
    ));
}

#[tokio::test(start_paused = true)]
async fn modbus_tcp_matches_transactions_and_survives_foreign_replies() {
    let mut faults = Faults::default();
    // The foreign reply first carries unit 2 and the next transaction id.
    faults.foreign_reply_first = true;
    faults.drop_replies = 1;
    let mut client = modbus_over(faults, Framing::Tcp);
    let mut out = [0u16; 2];
    // The first attempt is dropped; the retry (a new transaction id) is answered.
    client.read_holding(1, 0x10, &mut out).await.unwrap();
    assert_eq!(out, [7, 8]);
    let (link, _) = client.into_parts();
    assert_eq!(link.writes, 2);
}

#[tokio::test(start_paused = true)]
async fn dlt645_follows_a_long_answer_over_frames() {
    // 256 bytes under an uncatalogued item: frame 1 carries 196, frame 2 the other 60.
    let long: Vec<u8> = (0..=255u8).collect();
    let di = Di::V2007(0x0490_0001);
    let bus = SimBus::new(vec![sim::SimMeter::new(meter()).with_register(di, &long)]);
    let mut client = Dlt645Client::new(SimLink::new(bus), TokioTimer, ClientConfig::default());
    let mut out = [0u8; 300];
    let n = client.read(meter(), di, &mut out).await.unwrap();
    assert_eq!(&out[..n], &long[..]);
    // A buffer too small for the second frame: 196 + 60 = 256 > 200.
    let mut small = [0u8; 200];
    assert!(matches!(
        client.read(meter(), di, &mut small).await,
        Err(LinkError::TooLong { len: 256, max: 200 })
    ));
    let (link, _) = client.into_parts();
    // Two requests per read.
    assert_eq!(link.writes, 4);
}
