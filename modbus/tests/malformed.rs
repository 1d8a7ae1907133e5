//! Hand-built malformed input of every kind, each mapped to the answer it must get.

use meterkit_modbus::{
    Decoded, Direction, Error, ExceptionCode, Pdu, Request, Response, ScanEvent, StreamDecoder,
    crc16, rtu, tcp,
};

/// Appends the CRC (low byte first) to `body`.
fn with_crc(body: &[u8]) -> Vec<u8> {
    let mut v = body.to_vec();
    v.extend_from_slice(&crc16(body).to_le_bytes());
    v
}

fn rtu_req(bytes: &[u8]) -> Decoded<rtu::Frame<&[u8]>> {
    rtu::Decoder::new(Direction::Request).decode(bytes)
}

fn rtu_resp(bytes: &[u8]) -> Decoded<rtu::Frame<&[u8]>> {
    rtu::Decoder::new(Direction::Response).decode(bytes)
}

#[allow(clippy::needless_pass_by_value)] // called on decoder results inline
fn skip<F>(d: Decoded<F>) -> (usize, Error) {
    match d {
        Decoded::Skip { count, reason } => (count, reason),
        Decoded::Frame { consumed, .. } => panic!("accepted a frame of {consumed} bytes"),
        Decoded::NeedMore { at_least } => panic!("asked for {at_least:?} more bytes"),
    }
}

#[test]
fn crc_mismatch_is_corrupt_not_incomplete() {
    // Spec example 1 with the CRC high byte changed from 0x0A to 0x0B.
    let (count, reason) = skip(rtu_req(&[0x01, 0x03, 0x00, 0x00, 0x00, 0x01, 0x84, 0x0B]));
    assert_eq!(count, 1);
    assert_eq!(
        reason,
        Error::Crc {
            expected: 0x0A84,
            actual: 0x0B84
        }
    );
}

#[test]
fn incomplete_frames_say_how_many_bytes_are_missing() {
    // Request of 8 bytes with 7 present.
    assert_eq!(
        rtu_req(&[0x01, 0x03, 0x00, 0x00, 0x00, 0x01, 0x84]),
        Decoded::NeedMore { at_least: 1 }
    );
    // Response byte count 4: 1 + 1 + 1 + 4 + 2 = 9 bytes, 4 present.
    assert_eq!(
        rtu_resp(&[0x01, 0x03, 0x04, 0x00]),
        Decoded::NeedMore { at_least: 5 }
    );
    // Only the address: the length is unknown, the minimum frame is 4 bytes.
    assert_eq!(rtu_resp(&[0x01]), Decoded::NeedMore { at_least: 3 });
    assert_eq!(rtu_resp(&[]), Decoded::NeedMore { at_least: 4 });
    // FluentModbus false positive: crc16(01 04 02 03) = 0x7801, so `01 04 02 03 01 78`
    // passes a CRC scan, but byte count 2 means the frame is 7 bytes long.
    assert_eq!(crc16(&[0x01, 0x04, 0x02, 0x03]), 0x7801);
    assert_eq!(
        rtu_resp(&[0x01, 0x04, 0x02, 0x03, 0x01, 0x78]),
        Decoded::NeedMore { at_least: 1 }
    );
    // At end of input the incomplete frame becomes one skipped byte.
    let at_end =
        rtu::Decoder::new(Direction::Response).decode_eof(&[0x01, 0x04, 0x02, 0x03, 0x01, 0x78]);
    assert_eq!(
        at_end,
        Decoded::Skip {
            count: 1,
            reason: Error::Truncated {
                needed: 7,
                available: 6
            }
        }
    );
}

#[test]
fn byte_counts_are_checked_as_soon_as_present() {
    // FC03 reply with an odd byte count: registers are two bytes each.
    assert_eq!(
        skip(rtu_resp(&[0x01, 0x03, 0x03])),
        (
            1,
            Error::ByteCount {
                function: 3,
                expected: 4,
                actual: 3
            }
        )
    );
    assert_eq!(
        skip(rtu_resp(&[0x01, 0x04, 0x00])),
        (
            1,
            Error::ByteCount {
                function: 4,
                expected: 2,
                actual: 0
            }
        )
    );
    // FC0F: 10 coils need ceil(10 / 8) = 2 bytes, not 3 (the count sits at ADU offset 6).
    let (_, reason) = skip(rtu_req(&[0x11, 0x0F, 0x00, 0x13, 0x00, 0x0A, 0x03]));
    assert_eq!(
        reason,
        Error::ByteCount {
            function: 0x0F,
            expected: 2,
            actual: 3
        }
    );
    // FC10: 2 registers need 4 bytes.
    let (_, reason) = skip(rtu_req(&[0x11, 0x10, 0x00, 0x01, 0x00, 0x02, 0x05]));
    assert_eq!(
        reason,
        Error::ByteCount {
            function: 0x10,
            expected: 4,
            actual: 5
        }
    );
    // FC17: write quantity 1 needs write byte count 2 (at ADU offset 10).
    let (_, reason) = skip(rtu_req(&[0x01, 0x17, 0, 0, 0, 1, 0, 0, 0, 1, 0x04]));
    assert_eq!(
        reason,
        Error::ByteCount {
            function: 0x17,
            expected: 2,
            actual: 4
        }
    );
    // FC01 reply with zero data bytes.
    assert_eq!(
        skip(rtu_resp(&[0x01, 0x01, 0x00])).1,
        Error::ByteCount {
            function: 1,
            expected: 1,
            actual: 0
        }
    );
}

#[test]
fn quantities_outside_the_limits_are_rejected_even_with_a_valid_crc() {
    for (fc, quantity, max) in [
        (3u8, 0u16, 125u16),
        (3, 126, 125),
        (4, 126, 125),
        (1, 2001, 2000),
        (2, 0, 2000),
    ] {
        let [hi, lo] = quantity.to_be_bytes();
        let frame = with_crc(&[0x01, fc, 0x00, 0x00, hi, lo]);
        assert_eq!(
            skip(rtu_req(&frame)),
            (
                1,
                Error::Quantity {
                    function: fc,
                    quantity,
                    max
                }
            ),
            "FC{fc:02X} quantity {quantity}"
        );
    }
    // FC10 with quantity 0 and byte count 0.
    let frame = with_crc(&[0x01, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00]);
    assert_eq!(
        skip(rtu_req(&frame)),
        (
            1,
            Error::Quantity {
                function: 0x10,
                quantity: 0,
                max: 123
            }
        )
    );
    // FC10 with 124 registers: 6 + 248 = 254 PDU bytes exceed the 253 maximum.
    let (_, reason) = skip(rtu_req(&[0x01, 0x10, 0x00, 0x00, 0x00, 124, 248]));
    assert_eq!(reason, Error::TooLong { len: 254, max: 253 });
    // Emitting an out-of-range request fails the same way.
    let mut buf = [0u8; 16];
    assert_eq!(
        Request::ReadHoldingRegisters {
            address: 0,
            quantity: 126
        }
        .emit(&mut buf),
        Err(Error::Quantity {
            function: 3,
            quantity: 126,
            max: 125
        })
    );
}

#[test]
fn addresses_and_broadcast() {
    let read = with_crc(&[0x00, 0x03, 0x00, 0x00, 0x00, 0x01]);
    assert_eq!(
        skip(rtu_req(&read)),
        (1, Error::BroadcastNotAllowed { function: 3 })
    );
    let write = with_crc(&[0x00, 0x06, 0x00, 0x01, 0x00, 0x03]);
    assert!(matches!(
        rtu_req(&write),
        Decoded::Frame { consumed: 8, .. }
    ));
    // Replies never come from address 0; 248–255 are reserved.
    assert_eq!(
        skip(rtu_resp(&with_crc(&[0x00, 0x06, 0x00, 0x01, 0x00, 0x03]))),
        (1, Error::InvalidSlave { slave: 0 })
    );
    assert_eq!(
        skip(rtu_req(&[0xF8, 0x03])),
        (1, Error::InvalidSlave { slave: 248 })
    );
    // Emitting a broadcast read is refused.
    let repr = rtu::Repr {
        slave: 0,
        pdu: Request::ReadCoils {
            address: 0,
            quantity: 1,
        }
        .into(),
    };
    assert_eq!(
        repr.emit(&mut [0u8; 8]),
        Err(Error::BroadcastNotAllowed { function: 1 })
    );
}

#[test]
fn unknown_functions_and_bad_fields() {
    assert_eq!(
        skip(rtu_req(&[0x01, 0x41])),
        (1, Error::UnknownFunction { code: 0x41 })
    );
    // An exception code in a request.
    assert_eq!(
        skip(rtu_req(&[0x01, 0x83, 0x02])),
        (1, Error::UnknownFunction { code: 0x83 })
    );
    // FC05 with a value that is neither ON nor OFF.
    let coil = with_crc(&[0x01, 0x05, 0x00, 0xAC, 0x12, 0x34]);
    assert_eq!(
        skip(rtu_req(&coil)),
        (1, Error::CoilValue { value: 0x1234 })
    );
    // FC2B with MEI type 0x0D (CANopen) is not device identification.
    assert_eq!(
        skip(rtu_req(&[0x01, 0x2B, 0x0D])).1,
        Error::Field {
            function: 0x2B,
            field: "MEI type",
            value: 0x0D
        }
    );
    // FC2B/0E with read device id code 5.
    let devid = with_crc(&[0x01, 0x2B, 0x0E, 0x05, 0x00]);
    assert_eq!(
        skip(rtu_req(&devid)).1,
        Error::Field {
            function: 0x2B,
            field: "read device id code",
            value: 5
        }
    );
    // FC18 reply: byte count 6 announces 2 values, FIFO count says 1.
    assert_eq!(
        Response::parse(&[0x18, 0x00, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02]),
        Err(Error::ByteCount {
            function: 0x18,
            expected: 4,
            actual: 6
        })
    );
    // FC14 request with reference type 7.
    assert_eq!(
        Request::parse(&[0x14, 0x07, 0x07, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02]),
        Err(Error::Field {
            function: 0x14,
            field: "reference type",
            value: 7
        })
    );
}

#[test]
fn pdu_length_must_be_exact() {
    assert_eq!(
        Pdu::parse(&[0x03, 0x00, 0x00, 0x00, 0x01, 0xFF], Direction::Request),
        Err(Error::Length {
            expected: 5,
            actual: 6
        })
    );
    assert_eq!(
        Pdu::parse(&[0x03, 0x00, 0x00], Direction::Request),
        Err(Error::Truncated {
            needed: 5,
            available: 3
        })
    );
    assert_eq!(
        Pdu::parse(&[], Direction::Response),
        Err(Error::Truncated {
            needed: 1,
            available: 0
        })
    );
    assert_eq!(
        rtu::Frame::new_checked(&[0x01, 0x03, 0x00][..]),
        Err(Error::Truncated {
            needed: 4,
            available: 3
        })
    );
}

#[test]
fn every_exception_code_round_trips() {
    // Spec example 2: unit 10, FC01, exception 02 → `0A 81 02 B0 53`.
    let Decoded::Frame { frame, .. } = rtu_resp(&[0x0A, 0x81, 0x02, 0xB0, 0x53]) else {
        panic!()
    };
    let repr = rtu::Repr::parse(&frame, Direction::Response).unwrap();
    assert_eq!(
        repr.pdu,
        Response::Exception {
            function: 1,
            code: ExceptionCode::IllegalDataAddress
        }
        .into()
    );
    // The gateway codes are 0x0A and 0x0B (rmodbus maps them to 09/0A).
    assert_eq!(
        ExceptionCode::from_u8(0x0A),
        ExceptionCode::GatewayPathUnavailable
    );
    assert_eq!(
        ExceptionCode::from_u8(0x0B),
        ExceptionCode::GatewayTargetFailedToRespond
    );
    assert_eq!(ExceptionCode::from_u8(0x09), ExceptionCode::Other(0x09));
    for code in 0..=255u8 {
        let e = ExceptionCode::from_u8(code);
        assert_eq!(e.code(), code);
        for function in [0x01u8, 0x03, 0x10, 0x2B, 0x7F] {
            let bytes = with_crc(&[0x11, function | 0x80, code]);
            let Decoded::Frame { frame, consumed: 5 } = rtu_resp(&bytes) else {
                panic!("{code}")
            };
            let pdu = rtu::Repr::parse(&frame, Direction::Response).unwrap().pdu;
            assert_eq!(pdu.exception(), Some(e));
            assert_eq!(pdu.function_code(), function);
        }
    }
}

#[test]
fn tcp_header_rules_and_the_260_byte_maximum() {
    let d = tcp::Decoder::new(Direction::Request);
    // Protocol id 1.
    assert_eq!(
        skip(d.decode(&[0, 1, 0, 1, 0, 6, 1, 3, 0, 0, 0, 1])).1,
        Error::ProtocolId { id: 1 }
    );
    // Length 1 (unit only) and 255 (one more than 254).
    assert_eq!(
        skip(d.decode(&[0, 1, 0, 0, 0, 1, 1])).1,
        Error::MbapLength { length: 1 }
    );
    assert_eq!(
        skip(d.decode(&[0, 1, 0, 0, 0, 0xFF, 1])).1,
        Error::MbapLength { length: 255 }
    );
    // A PDU that does not match its MBAP length is skipped whole: length 7 = unit + 6
    // bytes, but an FC03 request PDU is 5 bytes.
    assert_eq!(
        skip(d.decode(&[0, 1, 0, 0, 0, 7, 1, 3, 0, 0, 0, 1, 9])),
        (
            13,
            Error::Length {
                expected: 5,
                actual: 6
            }
        )
    );

    // FC11 reply with 251 data bytes: PDU = 1 + 1 + 251 = 253, MBAP length = 254,
    // ADU = 6 + 254 = 260 bytes — legal, and rmodbus and modbus-core both reject it.
    let data = [0xAA; 251];
    let repr = tcp::Repr {
        transaction: 7,
        unit: 1,
        pdu: Response::ReportServerId { data: &data }.into(),
    };
    let mut buf = [0u8; 260];
    assert_eq!(
        repr.emit(&mut buf[..259]),
        Err(Error::BufferTooSmall {
            needed: 260,
            available: 259
        })
    );
    assert_eq!(repr.emit(&mut buf), Ok(260));
    assert_eq!(&buf[..7], &[0x00, 0x07, 0x00, 0x00, 0x00, 0xFE, 0x01]);
    let Decoded::Frame { frame, consumed } = tcp::Decoder::new(Direction::Response).decode(&buf)
    else {
        panic!()
    };
    assert_eq!((consumed, frame.len()), (260, 260));
    assert_eq!(tcp::Repr::parse(&frame, Direction::Response), Ok(repr));
    // The same PDU over RTU is the 256-byte maximum.
    let rtu_repr = rtu::Repr {
        slave: 1,
        pdu: repr.pdu,
    };
    let mut rbuf = [0u8; 256];
    assert_eq!(rtu_repr.emit(&mut rbuf), Ok(256));
    assert!(matches!(
        rtu_resp(&rbuf),
        Decoded::Frame { consumed: 256, .. }
    ));
    // One byte more does not fit any PDU.
    let too_long = [0xAA; 252];
    assert_eq!(
        Response::ReportServerId { data: &too_long }.emit(&mut [0u8; 300]),
        Err(Error::ByteCount {
            function: 0x11,
            expected: 251,
            actual: 252
        })
    );
}

#[test]
fn finds_every_frame_and_resynchronises() {
    // Two replies (spec vectors V28, V17) around garbage: `FF` is a reserved address,
    // `01 03 04 …` starts a plausible frame whose CRC fails.
    let v28 = [0x01, 0x03, 0x04, 0x00, 0x06, 0x00, 0x05, 0xDA, 0x31];
    let v17 = [0x01, 0x04, 0x02, 0xFF, 0xFF, 0xB8, 0x80];
    let mut input = vec![0xFF];
    input.extend_from_slice(&v28);
    input.extend_from_slice(&[0x01, 0x03, 0x04, 0x00]);
    input.extend_from_slice(&v17);
    let decoder = rtu::Decoder::new(Direction::Response);
    let (mut at, mut frames, mut skipped) = (0, Vec::new(), 0);
    while at < input.len() {
        match decoder.decode_eof(&input[at..]) {
            Decoded::Frame { frame, consumed } => {
                frames.push(frame.as_bytes().to_vec());
                at += consumed;
            }
            Decoded::Skip { count, .. } => {
                skipped += count;
                at += count;
            }
            Decoded::NeedMore { .. } => unreachable!("decode_eof never asks for more"),
        }
    }
    assert_eq!(frames, vec![v28.to_vec(), v17.to_vec()]);
    assert_eq!(skipped, 1 + 4);

    // `scan` reports the same, with offsets, merging adjacent skips.
    let events: Vec<_> = decoder.scan(&input).collect();
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[0],
        ScanEvent::Skipped {
            offset: 0,
            count: 1,
            reason: Error::InvalidSlave { slave: 0xFF }
        }
    );
    assert!(matches!(events[1], ScanEvent::Frame { offset: 1, frame } if frame.as_bytes() == v28));
    // At offset 10, `01 03 04 00 01 04 02 FF FF` is a 9-byte candidate whose CRC bytes
    // (FF FF, low byte first) do not match; then three more bytes cannot start a frame.
    assert!(matches!(
        events[2],
        ScanEvent::Skipped {
            offset: 10,
            count: 4,
            reason: Error::Crc { actual: 0xFFFF, .. }
        }
    ));
    assert!(matches!(events[3], ScanEvent::Frame { offset: 14, frame } if frame.as_bytes() == v17));
}

#[test]
fn a_crc_valid_false_frame_does_not_swallow_the_real_one() {
    // Found by the garbage-interleaving property test: garbage 0x1B before the mask-write
    // request `01 16 CB CA 47 5D 14 00 F4 0B` reads as slave 27, FC01, address 0x16CB,
    // quantity 0xCA47 — and crc16(1B 01 16 CB CA 47) = 0x145D, which the real frame's
    // masks supply as `5D 14`. The quantity (51 783 > 2000) rejects it; skipping only its
    // first byte finds the real frame.
    assert_eq!(crc16(&[0x1B, 0x01, 0x16, 0xCB, 0xCA, 0x47]), 0x145D);
    let input = [
        0x1B, 0x01, 0x16, 0xCB, 0xCA, 0x47, 0x5D, 0x14, 0x00, 0xF4, 0x0B,
    ];
    let events: Vec<_> = rtu::Decoder::new(Direction::Request).scan(&input).collect();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0],
        ScanEvent::Skipped {
            offset: 0,
            count: 1,
            reason: Error::Quantity {
                function: 1,
                quantity: 0xCA47,
                max: 2000
            }
        }
    );
    assert!(
        matches!(events[1], ScanEvent::Frame { offset: 1, frame } if frame.as_bytes() == &input[1..])
    );
}

/// A framing-only decoder hands over a frame whose structure and CRC are sound but whose
/// fields break a rule; the validating decoder skips it. Both find the same frame boundary.
#[test]
fn framing_only_hands_over_what_validation_would_skip() {
    use meterkit_modbus::{Decoded, Direction, crc16, rtu, tcp};

    // FC05 echo with coil value 0x1234: only 0xFF00 (on) and 0x0000 (off) are legal, a rule
    // of the field, not of the frame's length.
    let mut rtu_bytes = vec![0x01, 0x05, 0x00, 0x10, 0x12, 0x34];
    let crc = crc16(&rtu_bytes).to_le_bytes();
    rtu_bytes.extend_from_slice(&crc);
    let decoder = rtu::Decoder::new(Direction::Response);
    assert!(matches!(
        decoder.decode_eof(&rtu_bytes),
        Decoded::Skip { count: 1, .. }
    ));
    match decoder.framing_only().decode_eof(&rtu_bytes) {
        Decoded::Frame { frame, consumed } => {
            assert_eq!(consumed, rtu_bytes.len());
            assert_eq!(frame.pdu_bytes(), &rtu_bytes[1..6]);
        }
        other => panic!("framing-only decoder: {other:?}"),
    }
    // decode_repr always parses, so it still refuses the frame.
    assert!(matches!(
        decoder.framing_only().decode_repr(&rtu_bytes),
        Decoded::Skip { .. }
    ));

    // The same PDU over TCP (transaction 9, length 6 = unit + 5 PDU bytes).
    let mut tcp_bytes = vec![0x00, 0x09, 0x00, 0x00, 0x00, 0x06, 0x01];
    tcp_bytes.extend_from_slice(&rtu_bytes[1..6]);
    let decoder = tcp::Decoder::new(Direction::Response);
    assert!(matches!(
        decoder.decode(&tcp_bytes),
        Decoded::Skip { count: 12, .. }
    ));
    assert!(matches!(
        decoder.framing_only().decode(&tcp_bytes),
        Decoded::Frame { consumed: 12, .. }
    ));
}
