//! Property tests: whatever noise precedes a reply, the client finds the reply on the
//! first attempt, before its deadline. Noise that starts what looks like a long frame
//! must not swallow the real reply behind it.
#![allow(clippy::unwrap_used)] // fixtures: a failed unwrap is a failed test

use std::time::Duration;

use dlt645::{
    Address, Di, FrameRepr,
    stream::{Decoded, Decoder},
};
use meterkit_modbus::{Direction, Pdu, Request as ModbusRequest, rtu};
use meterkit_transport::{
    client::{Client, ClientConfig},
    link::{Link, Once},
    modbus::{ModbusClient, ModbusConfig},
    modbus_sim::ModbusSim,
    sim::{EnergyProfile, SimMeter},
};
use proptest::prelude::*;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    time::Instant,
};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// The client's deadline for this read, from its own configuration.
fn deadline(config: &ClientConfig) -> Duration {
    // 4 + 16 request bytes, 8 data bytes back.
    config.reply_timeout(20, 8)
}

fn dlt645_read_through(noise: &[u8]) -> (String, Duration) {
    runtime().block_on(async {
        let meter: Address = "123456789012".parse().unwrap();
        let (ours, mut theirs) = tokio::io::duplex(4096);
        let noise = noise.to_vec();
        tokio::spawn(async move {
            let mut sim = SimMeter::new(meter).with_energy(EnergyProfile {
                start_wh: 1_234_560,
                power_w: 0,
            });
            let mut rx = Vec::new();
            let mut buf = [0u8; 64];
            let request = loop {
                let n = theirs.read(&mut buf).await.unwrap();
                rx.extend_from_slice(&buf[..n]);
                match Decoder::new().decode_eof(&rx) {
                    Decoded::Frame { frame, .. } => break FrameRepr::parse(&frame),
                    Decoded::Skip { count, .. } => drop(rx.drain(..count)),
                    Decoded::NeedMore { .. } => {}
                }
            };
            let reply = sim.handle(&request, Duration::ZERO).unwrap();
            let mut out = noise;
            let start = out.len();
            out.resize(start + reply.buffer_len(), 0);
            reply.emit(0, &mut out[start..]).unwrap();
            theirs.write_all(&out).await.unwrap();
            // Keep the pipe open until the client is done.
            let _ = theirs.read(&mut buf).await;
        });
        let mut config = ClientConfig::default();
        config.retries = 0;
        let mut client = Client::new(Link::new(Once::new(ours, "pipe")), config);
        let before = Instant::now();
        let value = client
            .read_value(meter, Di::V2007(0x0001_0000))
            .await
            .unwrap();
        (value.to_string(), Instant::now() - before)
    })
}

fn modbus_read_through(noise: &[u8]) -> (Vec<u16>, Duration) {
    runtime().block_on(async {
        let (ours, mut theirs) = tokio::io::duplex(4096);
        let noise = noise.to_vec();
        tokio::spawn(async move {
            let mut sim = ModbusSim::new(1).with_holding(0x10, &[0x1234, 0x5678]);
            let mut rx = Vec::new();
            let mut buf = [0u8; 64];
            let decoder = rtu::Decoder::new(Direction::Request);
            let pdu = loop {
                let n = theirs.read(&mut buf).await.unwrap();
                rx.extend_from_slice(&buf[..n]);
                if let meterkit_modbus::Decoded::Frame { frame, .. } = decoder.decode(&rx) {
                    let request = ModbusRequest::parse(frame.pdu()).unwrap();
                    break sim.handle(&request);
                }
            };
            let response = Pdu::parse(&pdu, Direction::Response).unwrap();
            let mut out = noise;
            let start = out.len();
            out.resize(start + rtu::MAX_ADU_LEN, 0);
            let n = rtu::Repr {
                slave: 1,
                pdu: response,
            }
            .emit(&mut out[start..])
            .unwrap();
            out.truncate(start + n);
            theirs.write_all(&out).await.unwrap();
            let _ = theirs.read(&mut buf).await;
        });
        let mut config = ModbusConfig::rtu();
        config.retries = 0;
        let mut client = ModbusClient::new(Link::new(Once::new(ours, "pipe")), config);
        let before = Instant::now();
        let registers = client.read_holding(1, 0x10, 2).await.unwrap();
        (registers, Instant::now() - before)
    })
}

#[test]
fn a_false_start_does_not_swallow_the_reply() {
    // 68, then 6 address bytes, 68 at offset 7, a read-reply control byte and L = 200:
    // the decoder would wait for 202 more bytes, and the real reply is only 20.
    let mut noise = vec![0x68, 1, 2, 3, 4, 5, 6, 0x68, 0x91, 200];
    let (value, took) = dlt645_read_through(&noise);
    assert_eq!(value, "1234.56");
    assert!(took < deadline(&ClientConfig::default()), "{took:?}");
    // Modbus: slave 1, FC03, byte count 250: 252 more bytes awaited.
    noise = vec![0x01, 0x03, 250];
    let (registers, took) = modbus_read_through(&noise);
    assert_eq!(registers, [0x1234, 0x5678]);
    assert!(took < Duration::from_millis(500), "{took:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn dlt645_reply_is_found_behind_any_noise(noise in proptest::collection::vec(any::<u8>(), 0..64)) {
        let (value, took) = dlt645_read_through(&noise);
        prop_assert_eq!(value, "1234.56");
        prop_assert!(took < deadline(&ClientConfig::default()));
    }

    #[test]
    fn modbus_reply_is_found_behind_any_noise(noise in proptest::collection::vec(any::<u8>(), 0..64)) {
        let (registers, took) = modbus_read_through(&noise);
        prop_assert_eq!(registers, vec![0x1234, 0x5678]);
        prop_assert!(took < Duration::from_millis(500));
    }
}
