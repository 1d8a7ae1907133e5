//! DL/T 645: decoding one energy reply end to end, and scanning a large capture.
//!
//! Each group carries a baseline measured in the same run, so results read as ratios
//! on any machine: summing the reply's bytes (the least any checksum-verifying decoder
//! must do) and counting 0x68 bytes in the capture (the least any scanner must do).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dlt645::{
    FrameRepr,
    message::Reply,
    stream::{Decoded, Decoder, ScanEvent},
    value::{self, Value},
};

/// Forward active energy reply, 1206.42 kWh, behind 4 wake-up bytes (public vector V02).
const REPLY: [u8; 24] = [
    0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x25, 0x04, 0x03, 0x02, 0x01, 0x00, 0x68, 0x91, 0x08, 0x33, 0x33,
    0x34, 0x33, 0x75, 0x39, 0x45, 0x33, 0x8B, 0x16,
];

/// Finds the frame, checks it, removes 0x33, and decodes the value to an exact number.
fn decode_energy(bytes: &[u8]) -> Option<(u64, u8)> {
    let Decoded::Frame { frame, .. } = Decoder::new().decode(bytes) else {
        return None;
    };
    let di = frame.di()?;
    let mut data = [0u8; 8];
    let data = frame.copy_data(&mut data).ok()?;
    match value::decode(di, data.get(4..)?) {
        Ok(Value::Number(n)) => Some((n.magnitude(), n.scale())),
        _ => None,
    }
}

/// The same through the owned message layer (copies the data field into a `Payload`).
fn decode_energy_via_message(bytes: &[u8]) -> Option<(u64, u8)> {
    let Decoded::Frame { frame, .. } = Decoder::new().decode(bytes) else {
        return None;
    };
    let Ok(Reply::Read { di, data, .. }) = Reply::parse(&FrameRepr::parse(&frame)) else {
        return None;
    };
    match value::decode(di, &data) {
        Ok(Value::Number(n)) => Some((n.magnitude(), n.scale())),
        _ => None,
    }
}

fn bench_reply(c: &mut Criterion) {
    assert_eq!(decode_energy(&REPLY), Some((120_642, 2)));
    assert_eq!(decode_energy_via_message(&REPLY), Some((120_642, 2)));
    let mut group = c.benchmark_group("dlt645_reply");
    group.bench_function("baseline_byte_sum", |b| {
        b.iter(|| dlt645::frame::checksum(black_box(&REPLY)));
    });
    group.bench_function("meterkit_view", |b| {
        b.iter(|| decode_energy(black_box(&REPLY)));
    });
    group.bench_function("meterkit_message", |b| {
        b.iter(|| decode_energy_via_message(black_box(&REPLY)));
    });
    group.finish();
}

/// 1 MiB of replies from several meters, request echoes, wake-up bytes and line noise
/// (noise includes 0x68 and 0xFE, so the scanner meets false starts), from a fixed seed.
fn capture() -> Vec<u8> {
    let frames: [&[u8]; 4] = [
        &REPLY,
        &[
            0x68, 0x25, 0x04, 0x03, 0x02, 0x01, 0x00, 0x68, 0x11, 0x04, 0x33, 0x33, 0x34, 0x33,
            0xE1, 0x16,
        ],
        &[
            0xFE, 0xFE, 0x68, 0x18, 0x20, 0x12, 0x22, 0x20, 0x65, 0x68, 0x91, 0x0A, 0x33, 0x32,
            0x34, 0x35, 0x33, 0x33, 0x33, 0x33, 0xC7, 0x56, 0x13, 0x16,
        ],
        &[
            0x68, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x68, 0xD1, 0x01, 0x35, 0x8D, 0x16,
        ],
    ];
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::with_capacity(1 << 20);
    while out.len() < (1 << 20) - 64 {
        let r = next();
        out.extend_from_slice(frames[usize::try_from(r % 4).unwrap_or(0)]);
        for _ in 0..(r >> 8) % 48 {
            out.push((next() >> 24).to_le_bytes()[0]);
        }
    }
    out.resize(1 << 20, 0);
    out
}

fn bench_scan(c: &mut Criterion) {
    let capture = capture();
    let frames = Decoder::new()
        .scan(&capture)
        .filter(|e| matches!(e, ScanEvent::Frame { .. }))
        .count();
    assert!(frames > 10_000, "the capture holds many frames ({frames})");
    let mut group = c.benchmark_group("dlt645_scan_1mib");
    group.throughput(Throughput::Bytes(capture.len() as u64));
    // The least any scanner must do: look at every byte once.
    #[allow(clippy::naive_bytecount)]
    group.bench_function("baseline_count_0x68", |b| {
        b.iter(|| black_box(&capture).iter().filter(|b| **b == 0x68).count());
    });
    group.bench_function("meterkit_scan", |b| {
        b.iter(|| {
            Decoder::new()
                .scan(black_box(&capture))
                .filter(|e| matches!(e, ScanEvent::Frame { .. }))
                .count()
        });
    });
    group.finish();
}

criterion_group!(benches, bench_reply, bench_scan);
criterion_main!(benches);
