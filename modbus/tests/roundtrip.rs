//! Property tests: every function code round-trips through emit → decode → parse, in both
//! directions and both transports, and the streaming decoders find the same frames under
//! random chunking and garbage.

// Test helpers outside #[test] fns: panicking on a broken fixture is the point, and the
// seeds are deliberately truncated into narrower fields.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use meterkit_modbus::pdu::{DeviceObjects, FileLayout, FileRecords};
use meterkit_modbus::{
    Decoded, Direction, ExceptionCode, Pdu, ReadDeviceIdCode, Registers, Request, Response, rtu,
    tcp,
};
use proptest::prelude::*;

/// Raw material for one PDU; `build` shapes it into a valid request or response.
#[derive(Debug, Clone)]
struct Seed {
    kind: u8,
    a: u16,
    b: u16,
    c: u16,
    regs: Vec<u16>,
    bytes: Vec<u8>,
    flag: bool,
}

fn seed() -> impl Strategy<Value = Seed> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        any::<u16>(),
        proptest::collection::vec(any::<u16>(), 1..=125),
        proptest::collection::vec(any::<u8>(), 1..=250),
        any::<bool>(),
    )
        .prop_map(|(kind, a, b, c, regs, bytes, flag)| Seed {
            kind,
            a,
            b,
            c,
            regs,
            bytes,
            flag,
        })
}

/// Wire bytes for file-record groups built from the seed (valid for `layout`).
fn file_wire(s: &Seed, layout: FileLayout) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, chunk) in s.regs.chunks(4).take(3).enumerate() {
        let file = s.a.wrapping_add(u16::try_from(i).unwrap());
        let len = u16::try_from(chunk.len()).unwrap();
        match layout {
            FileLayout::ReadRequest => {
                out.push(6);
                out.extend_from_slice(&file.to_be_bytes());
                out.extend_from_slice(&s.b.to_be_bytes());
                out.extend_from_slice(&len.to_be_bytes());
            }
            FileLayout::ReadResponse => {
                out.push(u8::try_from(1 + 2 * chunk.len()).unwrap());
                out.push(6);
                for r in chunk {
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
            FileLayout::Write => {
                out.push(6);
                out.extend_from_slice(&file.to_be_bytes());
                out.extend_from_slice(&s.b.to_be_bytes());
                out.extend_from_slice(&len.to_be_bytes());
                for r in chunk {
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
        }
    }
    if layout == FileLayout::Write && out.len() < 9 {
        // A write group with one register is 9 bytes; pad to two registers.
        out.clear();
        out.extend_from_slice(&[6, 0, 1, 0, 2, 0, 1, 0xAB, 0xCD]);
    }
    out
}

fn device_objects_wire(s: &Seed) -> (u8, Vec<u8>) {
    let mut out = Vec::new();
    let mut count = 0u8;
    for (id, chunk) in s.bytes.chunks(20).take(4).enumerate() {
        out.push(u8::try_from(id).unwrap());
        out.push(u8::try_from(chunk.len()).unwrap());
        out.extend_from_slice(chunk);
        count += 1;
    }
    (count, out)
}

fn request<'a>(s: &'a Seed, aux: &'a [u8]) -> Request<'a> {
    let (a, b, c) = (s.a, s.b, s.c);
    let coils = 1 + b % 1968;
    match s.kind % 19 {
        0 => Request::ReadCoils {
            address: a,
            quantity: 1 + b % 2000,
        },
        1 => Request::ReadDiscreteInputs {
            address: a,
            quantity: 1 + b % 2000,
        },
        2 => Request::ReadHoldingRegisters {
            address: a,
            quantity: 1 + b % 125,
        },
        3 => Request::ReadInputRegisters {
            address: a,
            quantity: 1 + b % 125,
        },
        4 => Request::WriteSingleCoil {
            address: a,
            on: s.flag,
        },
        5 => Request::WriteSingleRegister {
            address: a,
            value: b,
        },
        6 => Request::ReadExceptionStatus,
        7 => Request::Diagnostics {
            sub_function: a,
            data: b,
        },
        8 => Request::GetCommEventCounter,
        9 => Request::GetCommEventLog,
        10 => Request::WriteMultipleCoils {
            address: a,
            quantity: coils,
            coil_bytes: &aux[..usize::from(coils).div_ceil(8)],
        },
        11 => Request::WriteMultipleRegisters {
            address: a,
            registers: Registers::from_values(&s.regs[..s.regs.len().min(123)]),
        },
        12 => Request::ReportServerId,
        13 => Request::ReadFileRecord {
            records: FileRecords::from_wire(FileLayout::ReadRequest, aux).unwrap(),
        },
        14 => Request::WriteFileRecord {
            records: FileRecords::from_wire(FileLayout::Write, aux).unwrap(),
        },
        15 => Request::MaskWriteRegister {
            address: a,
            and_mask: b,
            or_mask: c,
        },
        16 => Request::ReadWriteMultipleRegisters {
            read_address: a,
            read_quantity: 1 + b % 125,
            write_address: c,
            registers: Registers::from_values(&s.regs[..s.regs.len().min(121)]),
        },
        17 => Request::ReadFifoQueue { address: a },
        _ => Request::ReadDeviceIdentification {
            code: ReadDeviceIdCode::from_u8(1 + (b % 4) as u8).unwrap(),
            object_id: c as u8,
        },
    }
}

/// Extra wire data a request of this seed needs (coil bytes or file groups).
fn request_aux(s: &Seed) -> Vec<u8> {
    match s.kind % 19 {
        10 => (0..247).map(|i| s.bytes[i % s.bytes.len()]).collect(),
        13 => file_wire(s, FileLayout::ReadRequest),
        14 => file_wire(s, FileLayout::Write),
        _ => Vec::new(),
    }
}

fn response_aux(s: &Seed) -> Vec<u8> {
    match s.kind % 20 {
        13 => file_wire(s, FileLayout::ReadResponse),
        14 => file_wire(s, FileLayout::Write),
        18 => device_objects_wire(s).1,
        _ => Vec::new(),
    }
}

fn response<'a>(s: &'a Seed, aux: &'a [u8]) -> Response<'a> {
    let (a, b, c) = (s.a, s.b, s.c);
    let regs = &s.regs[..];
    match s.kind % 20 {
        0 => Response::ReadCoils {
            coil_bytes: &s.bytes,
        },
        1 => Response::ReadDiscreteInputs {
            coil_bytes: &s.bytes,
        },
        2 => Response::ReadHoldingRegisters {
            registers: Registers::from_values(regs),
        },
        3 => Response::ReadInputRegisters {
            registers: Registers::from_values(regs),
        },
        4 => Response::WriteSingleCoil {
            address: a,
            on: s.flag,
        },
        5 => Response::WriteSingleRegister {
            address: a,
            value: b,
        },
        6 => Response::ReadExceptionStatus { status: a as u8 },
        7 => Response::Diagnostics {
            sub_function: a,
            data: b,
        },
        8 => Response::GetCommEventCounter {
            status: a,
            event_count: b,
        },
        9 => Response::GetCommEventLog {
            status: a,
            event_count: b,
            message_count: c,
            events: &s.bytes[..s.bytes.len().min(64)],
        },
        10 => Response::WriteMultipleCoils {
            address: a,
            quantity: 1 + b % 1968,
        },
        11 => Response::WriteMultipleRegisters {
            address: a,
            quantity: 1 + b % 123,
        },
        12 => Response::ReportServerId { data: &s.bytes },
        13 => Response::ReadFileRecord {
            records: FileRecords::from_wire(FileLayout::ReadResponse, aux).unwrap(),
        },
        14 => Response::WriteFileRecord {
            records: FileRecords::from_wire(FileLayout::Write, aux).unwrap(),
        },
        15 => Response::MaskWriteRegister {
            address: a,
            and_mask: b,
            or_mask: c,
        },
        16 => Response::ReadWriteMultipleRegisters {
            registers: Registers::from_values(regs),
        },
        17 => Response::ReadFifoQueue {
            values: Registers::from_values(&regs[..regs.len().min(31)]),
        },
        18 => Response::ReadDeviceIdentification {
            code: ReadDeviceIdCode::from_u8(1 + (b % 4) as u8).unwrap(),
            conformity: c as u8,
            more_follows: s.flag,
            next_object_id: if s.flag { a as u8 } else { 0 },
            objects: DeviceObjects::from_wire(device_objects_wire(s).0, aux).unwrap(),
        },
        _ => Response::Exception {
            function: (a % 0x80) as u8,
            code: ExceptionCode::from_u8(b as u8),
        },
    }
}

fn pdu<'a>(s: &'a Seed, aux: &'a [u8], direction: Direction) -> Pdu<'a> {
    match direction {
        Direction::Request => request(s, aux).into(),
        Direction::Response => response(s, aux).into(),
    }
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![Just(Direction::Request), Just(Direction::Response)]
}

fn aux_for(s: &Seed, d: Direction) -> Vec<u8> {
    match d {
        Direction::Request => request_aux(s),
        Direction::Response => response_aux(s),
    }
}

/// Emits an RTU frame for the seed; slave 1..=247.
fn rtu_bytes(s: &Seed, d: Direction, slave: u8) -> Vec<u8> {
    let aux = aux_for(s, d);
    let repr = rtu::Repr {
        slave,
        pdu: pdu(s, &aux, d),
    };
    let mut buf = [0u8; 256];
    let n = repr.emit(&mut buf).unwrap();
    buf[..n].to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rtu_round_trip(s in seed(), d in direction(), slave in 1u8..=247) {
        let aux = aux_for(&s, d);
        let repr = rtu::Repr { slave, pdu: pdu(&s, &aux, d) };
        let mut buf = [0u8; 256];
        // Too small a buffer reports exactly what is needed.
        let needed = repr.buffer_len();
        prop_assert_eq!(repr.emit(&mut buf[..needed - 1]), Err(meterkit_modbus::Error::BufferTooSmall { needed, available: needed - 1 }));
        let n = repr.emit(&mut buf).unwrap();
        prop_assert_eq!(n, needed);
        let Decoded::Frame { frame, consumed } = rtu::Decoder::new(d).decode(&buf[..n]) else {
            panic!("not decoded: {:?}", rtu::Decoder::new(d).decode(&buf[..n]));
        };
        prop_assert_eq!(consumed, n);
        prop_assert_eq!(rtu::Repr::parse(&frame, d).unwrap(), repr);
        // Every strict prefix is "need more", never a frame or garbage.
        for cut in 0..n {
            let is_need_more = matches!(rtu::Decoder::new(d).decode(&buf[..cut]), Decoded::NeedMore { .. });
            prop_assert!(is_need_more, "prefix {}", cut);
        }
    }

    #[test]
    fn tcp_round_trip(s in seed(), d in direction(), unit: u8, transaction: u16) {
        let aux = aux_for(&s, d);
        let repr = tcp::Repr { transaction, unit, pdu: pdu(&s, &aux, d) };
        let mut buf = [0u8; 260];
        let n = repr.emit(&mut buf).unwrap();
        prop_assert_eq!(n, repr.buffer_len());
        let Decoded::Frame { frame, consumed } = tcp::Decoder::new(d).decode(&buf[..n]) else {
            panic!("not decoded");
        };
        prop_assert_eq!(consumed, n);
        prop_assert_eq!(frame.transaction(), transaction);
        prop_assert_eq!(tcp::Repr::parse(&frame, d).unwrap(), repr);
    }

    /// The same frames come out whatever the chunking; garbage between frames never hides one.
    #[test]
    fn rtu_stream_chunking_and_garbage(
        seeds in proptest::collection::vec((seed(), 1u8..=247), 1..6),
        d in direction(),
        garbage in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 6),
        chunks in proptest::collection::vec(1usize..40, 1..64),
    ) {
        let frames: Vec<Vec<u8>> = seeds.iter().map(|(s, slave)| rtu_bytes(s, d, *slave)).collect();
        let mut clean = Vec::new();
        let mut dirty = Vec::new();
        for (frame, junk) in frames.iter().zip(&garbage) {
            clean.extend_from_slice(frame);
            dirty.extend_from_slice(junk);
            dirty.extend_from_slice(frame);
        }
        let decoder = rtu::Decoder::new(d);
        let found_clean = stream(&clean, &chunks, |b| decoder.decode(b).map(|f| f.as_bytes().to_vec()), |b| decoder.decode_eof(b).map(|f| f.as_bytes().to_vec()));
        prop_assert_eq!(&found_clean, &frames);
        let found_dirty = stream(&dirty, &chunks, |b| decoder.decode(b).map(|f| f.as_bytes().to_vec()), |b| decoder.decode_eof(b).map(|f| f.as_bytes().to_vec()));
        // Garbage may by chance form an extra valid frame, but every real frame is found in order.
        let mut it = found_dirty.iter();
        for f in &frames {
            prop_assert!(it.any(|g| g == f), "frame {:02X?} lost in {:02X?}", f, dirty);
        }
    }

    #[test]
    fn tcp_stream_chunking(
        seeds in proptest::collection::vec((seed(), any::<u16>()), 1..6),
        d in direction(),
        chunks in proptest::collection::vec(1usize..40, 1..64),
    ) {
        let frames: Vec<Vec<u8>> = seeds.iter().map(|(s, t)| {
            let aux = aux_for(s, d);
            let repr = tcp::Repr { transaction: *t, unit: 1, pdu: pdu(s, &aux, d) };
            let mut buf = [0u8; 260];
            let n = repr.emit(&mut buf).unwrap();
            buf[..n].to_vec()
        }).collect();
        let all = frames.concat();
        let decoder = tcp::Decoder::new(d);
        let found = stream(&all, &chunks, |b| decoder.decode(b).map(|f| f.as_bytes().to_vec()), |b| decoder.decode_eof(b).map(|f| f.as_bytes().to_vec()));
        prop_assert_eq!(found, frames);
    }

    /// The argument builders for file records and device objects reproduce the wire bytes
    /// built independently above.
    #[test]
    fn file_and_object_builders_match_the_wire(s in seed()) {
        for layout in [FileLayout::ReadRequest, FileLayout::ReadResponse, FileLayout::Write] {
            let wire = file_wire(&s, layout);
            let parsed = FileRecords::from_wire(layout, &wire).unwrap();
            let records: Vec<_> = parsed.iter().collect();
            let mut out = [0u8; 260];
            let built = FileRecords::encode(layout, &records, &mut out).unwrap();
            prop_assert_eq!(built.as_bytes(), &wire[..]);
        }
        let (count, wire) = device_objects_wire(&s);
        let objects: Vec<(u8, &[u8])> = DeviceObjects::from_wire(count, &wire).unwrap().iter().collect();
        let mut out = [0u8; 260];
        let built = DeviceObjects::encode(&objects, &mut out).unwrap();
        prop_assert_eq!((built.count(), built.as_bytes()), (count, &wire[..]));
        let short = DeviceObjects::encode(&objects, &mut out[..wire.len() - 1]);
        prop_assert!(matches!(short, Err(meterkit_modbus::Error::BufferTooSmall { .. })), "{:?}", short);
    }

    /// Arbitrary bytes: no panic, and whatever parses re-emits to the same bytes.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), d in direction()) {
        if let Decoded::Frame { frame, consumed } = rtu::Decoder::new(d).decode(&bytes) {
            let repr = rtu::Repr::parse(&frame, d).unwrap();
            let mut out = [0u8; 256];
            let n = repr.emit(&mut out).unwrap();
            prop_assert_eq!(&out[..n], &bytes[..consumed]);
        }
        if let Decoded::Frame { frame, consumed } = tcp::Decoder::new(d).decode(&bytes) {
            let repr = tcp::Repr::parse(&frame, d).unwrap();
            let mut out = [0u8; 260];
            let n = repr.emit(&mut out).unwrap();
            prop_assert_eq!(&out[..n], &bytes[..consumed]);
        }
        if let Ok(p) = Pdu::parse(&bytes, d) {
            let mut out = [0u8; 300];
            let n = p.emit(&mut out).unwrap();
            prop_assert_eq!(&out[..n], &bytes[..]);
        }
    }

    /// Flipping any one byte of a valid RTU frame never yields a different accepted frame
    /// of the same length (CRC-16 detects every single-byte error).
    #[test]
    fn single_byte_corruption_is_detected(s in seed(), d in direction(), slave in 1u8..=247, pos: usize, flip in 1u8..=255) {
        let mut bytes = rtu_bytes(&s, d, slave);
        let pos = pos % bytes.len();
        bytes[pos] ^= flip;
        if let Decoded::Frame { consumed, .. } = rtu::Decoder::new(d).decode(&bytes) {
            prop_assert_ne!(consumed, bytes.len());
        }
    }
}

/// Feeds `input` in chunks of the given sizes (cycled) to a decoder, as a transport would,
/// then drains the rest with the end-of-input decoder.
fn stream(
    input: &[u8],
    chunks: &[usize],
    decode: impl Fn(&[u8]) -> Decoded<Vec<u8>>,
    decode_eof: impl Fn(&[u8]) -> Decoded<Vec<u8>>,
) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut fed = 0;
    let mut sizes = chunks.iter().cycle();
    let mut pump = |buf: &mut Vec<u8>, last: bool| loop {
        let answer = if last { decode_eof(buf) } else { decode(buf) };
        match answer {
            Decoded::Frame { frame, consumed } => {
                found.push(frame);
                buf.drain(..consumed);
            }
            Decoded::Skip { count, .. } => {
                assert!(count >= 1);
                buf.drain(..count);
            }
            Decoded::NeedMore { at_least } => {
                assert!(at_least >= 1);
                break;
            }
        }
    };
    while fed < input.len() {
        let n = (*sizes.next().unwrap()).min(input.len() - fed);
        buf.extend_from_slice(&input[fed..fed + n]);
        fed += n;
        pump(&mut buf, false);
    }
    pump(&mut buf, true);
    assert!(buf.is_empty(), "end-of-input drain left {buf:02X?}");
    found
}
