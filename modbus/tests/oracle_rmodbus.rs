//! Differential tests against rmodbus on the frames where rmodbus is correct: requests for
//! FC01–06/0F/10 that it generates (CRC included) and FC03/04 replies up to its 255-byte
//! frame limit. (rmodbus rejects 259-byte TCP frames and knows no other function codes, so those
//! cases are covered by the vector and property tests instead.)

// Test helpers outside #[test] fns: panicking on a broken fixture is the point, and the
// seeds are deliberately truncated into narrower fields.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use meterkit_modbus::{Decoded, Direction, Registers, Request, Response, rtu, tcp};
use proptest::prelude::*;
use rmodbus::client::ModbusRequest;
use rmodbus::{ModbusProto, guess_response_frame_len};

/// Decodes one request with our decoder, asserting it is the whole input.
fn our_rtu_request(bytes: &[u8]) -> rtu::Repr<'_> {
    let Decoded::Frame { frame, consumed } = rtu::Decoder::new(Direction::Request).decode(bytes)
    else {
        panic!("rmodbus frame {bytes:02X?} not decoded");
    };
    assert_eq!(consumed, bytes.len());
    rtu::Repr::parse(&frame, Direction::Request).unwrap()
}

fn our_tcp_request(bytes: &[u8]) -> tcp::Repr<'_> {
    let Decoded::Frame { frame, consumed } = tcp::Decoder::new(Direction::Request).decode(bytes)
    else {
        panic!("rmodbus frame {bytes:02X?} not decoded");
    };
    assert_eq!(consumed, bytes.len());
    tcp::Repr::parse(&frame, Direction::Request).unwrap()
}

fn emit_rtu(slave: u8, request: Request<'_>) -> Vec<u8> {
    let repr = rtu::Repr {
        slave,
        pdu: request.into(),
    };
    let mut buf = vec![0; repr.buffer_len()];
    repr.emit(&mut buf).unwrap();
    buf
}

proptest! {
    #[test]
    fn requests_match_rmodbus(slave in 1u8..=247, kind in 0u8..8, address: u16, count in 1u16..=123, value: u16, regs in proptest::collection::vec(any::<u16>(), 1..=123), coils in proptest::collection::vec(any::<bool>(), 1..=1968), tr: u16) {
        for proto in [ModbusProto::Rtu, ModbusProto::TcpUdp] {
            let mut mreq = if proto == ModbusProto::Rtu { ModbusRequest::new(slave, proto) } else { ModbusRequest::new_tcp_udp(slave, tr) };
            let mut theirs: Vec<u8> = Vec::new();
            let mut packed = [0u8; 246];
            let n = meterkit_modbus::pack_coils(&coils, &mut packed).unwrap();
            let ours = match kind {
                0 => { mreq.generate_get_coils(address, count, &mut theirs).unwrap(); Request::ReadCoils { address, quantity: count } }
                1 => { mreq.generate_get_discretes(address, count, &mut theirs).unwrap(); Request::ReadDiscreteInputs { address, quantity: count } }
                2 => { mreq.generate_get_holdings(address, count, &mut theirs).unwrap(); Request::ReadHoldingRegisters { address, quantity: count } }
                3 => { mreq.generate_get_inputs(address, count, &mut theirs).unwrap(); Request::ReadInputRegisters { address, quantity: count } }
                4 => { mreq.generate_set_coil(address, u8::from(value % 2 == 1), &mut theirs).unwrap(); Request::WriteSingleCoil { address, on: value % 2 == 1 } }
                5 => { mreq.generate_set_holding(address, value, &mut theirs).unwrap(); Request::WriteSingleRegister { address, value } }
                6 => {
                    let states: Vec<u8> = coils.iter().map(|&c| u8::from(c)).collect();
                    mreq.generate_set_coils_bulk(address, &states, &mut theirs).unwrap();
                    Request::WriteMultipleCoils { address, quantity: u16::try_from(coils.len()).unwrap(), coil_bytes: &packed[..n] }
                }
                _ => { mreq.generate_set_holdings_bulk(address, &regs, &mut theirs).unwrap(); Request::WriteMultipleRegisters { address, registers: Registers::from_values(&regs) } }
            };
            if proto == ModbusProto::Rtu {
                let repr = our_rtu_request(&theirs);
                prop_assert_eq!(repr.slave, slave);
                prop_assert_eq!(repr.pdu, ours.into());
                prop_assert_eq!(emit_rtu(slave, ours), theirs);
            } else {
                let repr = our_tcp_request(&theirs);
                prop_assert_eq!((repr.transaction, repr.unit), (tr, slave));
                prop_assert_eq!(repr.pdu, ours.into());
            }
        }
    }

    /// rmodbus reads back the registers of our FC03/FC04 replies (RTU, ≤ 125 registers).
    #[test]
    fn register_replies_match_rmodbus(slave in 1u8..=247, input: bool, regs in proptest::collection::vec(any::<u16>(), 1..=125)) {
        let registers = Registers::from_values(&regs);
        let response = if input { Response::ReadInputRegisters { registers } } else { Response::ReadHoldingRegisters { registers } };
        let repr = rtu::Repr { slave, pdu: response.into() };
        let mut buf = [0u8; 256];
        let n = repr.emit(&mut buf).unwrap();
        let frame = &buf[..n];
        // rmodbus counts lengths in u8: a 255-byte frame (125 registers) is its limit.
        prop_assert_eq!(usize::from(guess_response_frame_len(frame, ModbusProto::Rtu).unwrap()), n);
        let mut mreq = ModbusRequest::new(slave, ModbusProto::Rtu);
        let mut req = Vec::new();
        let count = u16::try_from(regs.len()).unwrap();
        if input { mreq.generate_get_inputs(0, count, &mut req).unwrap(); } else { mreq.generate_get_holdings(0, count, &mut req).unwrap(); }
        let mut values: Vec<u16> = Vec::new();
        mreq.parse_u16(frame, &mut values).unwrap();
        prop_assert_eq!(values, regs);
    }
}
