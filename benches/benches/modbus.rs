//! meterkit-modbus side by side with rmodbus and modbus-core: decoding a 125-register FC03
//! RTU reply with CRC check, and CRC-16/MODBUS throughput against the `crc` crate.
//!
//! `cargo bench -p benches --bench modbus -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use meterkit_modbus::{Decoded, Direction, Registers, Response, rtu};

/// The 255-byte reply: slave 1, FC03, byte count 250, registers 0..125, CRC.
fn fc03_reply() -> Vec<u8> {
    let values: Vec<u16> = (0..125u16)
        .map(|i| i.wrapping_mul(0x0101) ^ 0x5A5A)
        .collect();
    let repr = rtu::Repr {
        slave: 1,
        pdu: Response::ReadHoldingRegisters {
            registers: Registers::from_values(&values),
        }
        .into(),
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    let n = repr.emit(&mut buf).expect("emit");
    assert_eq!(n, 255);
    buf
}

/// Every decoder must find the frame, check the CRC, and hand back all register values
/// (summed here so none of them can skip the extraction).
fn decode_fc03(c: &mut Criterion) {
    let frame = fc03_reply();
    let mut group = c.benchmark_group("modbus_rtu_fc03_125_registers_decode");
    group.throughput(Throughput::Bytes(frame.len() as u64));

    let decoder = rtu::Decoder::new(Direction::Response);
    group.bench_function("meterkit-modbus", |b| {
        b.iter(|| {
            let Decoded::Frame { frame: repr, .. } = decoder.decode_repr(black_box(&frame)) else {
                unreachable!()
            };
            repr.pdu
                .registers()
                .expect("registers")
                .iter()
                .fold(0u32, |acc, r| acc + u32::from(r))
        });
    });

    group.bench_function("modbus-core", |b| {
        b.iter(|| {
            let adu = modbus_core::rtu::client::decode_response(black_box(&frame))
                .expect("valid")
                .expect("complete");
            let Ok(modbus_core::Response::ReadHoldingRegisters(data)) = adu.pdu.0 else {
                unreachable!()
            };
            (0..data.len()).fold(0u32, |acc, i| {
                acc + u32::from(data.get(i).expect("register"))
            })
        });
    });

    let mut request = rmodbus::client::ModbusRequest::new(1, rmodbus::ModbusProto::Rtu);
    let mut req_buf = Vec::new();
    request
        .generate_get_holdings(0, 125, &mut req_buf)
        .expect("request");
    group.bench_function("rmodbus", |b| {
        b.iter(|| {
            let bytes = black_box(&frame[..]);
            let len = rmodbus::guess_response_frame_len(bytes, rmodbus::ModbusProto::Rtu)
                .expect("length");
            let mut values: Vec<u16> = Vec::with_capacity(125);
            request
                .parse_u16(&bytes[..usize::from(len)], &mut values)
                .expect("valid");
            values.iter().fold(0u32, |acc, &r| acc + u32::from(r))
        });
    });
    group.finish();
}

/// 256 bytes (the reference size) and 253 (the CRC span of a 255-byte reply,
/// which leaves a tail that is not a multiple of 16).
fn crc_throughput(c: &mut Criterion) {
    let all: Vec<u8> = (0..=255u8).map(|i| i.wrapping_mul(131) ^ 0xA5).collect();
    let default_table = crc::Crc::<u16>::new(&crc::CRC_16_MODBUS);
    let table16 = crc::Crc::<u16, crc::Table<16>>::new(&crc::CRC_16_MODBUS);
    for len in [256, 253] {
        let data = &all[..len];
        assert_eq!(meterkit_modbus::crc16(data), table16.checksum(data));
        let mut group = c.benchmark_group(format!("crc16_modbus_{len}_bytes"));
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function("meterkit-modbus (slice-by-16)", |b| {
            b.iter(|| meterkit_modbus::crc16(black_box(data)));
        });
        group.bench_function("crc (default table)", |b| {
            b.iter(|| default_table.checksum(black_box(data)));
        });
        group.bench_function("crc (Table<16>)", |b| {
            b.iter(|| table16.checksum(black_box(data)));
        });
        group.bench_function("modbus-core", |b| {
            b.iter(|| modbus_core::rtu::crc16(black_box(data)));
        });
        group.finish();
    }
}

criterion_group!(benches, decode_fc03, crc_throughput);
criterion_main!(benches);
