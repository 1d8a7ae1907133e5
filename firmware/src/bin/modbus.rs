//! Modbus RTU the way a small firmware would use the crate: build an FC03 read with the
//! ADU builder, find the slave's reply with the streaming decoder (framing by structure,
//! CRC checked), and take the registers straight from the zero-copy [`rtu::Frame`] view.
//! We asked for FC03, so the general response parser (every function code) is not needed.
//!
//! Everything lives on the stack; there is no heap. `modbus_full` does the same job through
//! the owned representation; README.md compares the two.
#![no_std]
#![no_main]

#[path = "../io/modbus.rs"]
mod io;

use cortex_m_rt::entry;
use io::{Failure, QUANTITY};
use meterkit_modbus::{Decoded, Direction, FunctionCode, Registers, rtu};

/// The registers of an FC03 reply: PDU = function code, byte count, big-endian words.
fn registers_of(frame: &rtu::Frame<&[u8]>) -> Result<[u16; QUANTITY as usize], Failure> {
    // An exception reply carries the function code with bit 7 set.
    if frame.function() != FunctionCode::ReadHoldingRegisters.code() {
        return Err(Failure::BadReply);
    }
    let wire = frame.pdu_bytes().get(2..).ok_or(Failure::BadReply)?;
    let registers = Registers::from_wire(wire).map_err(|_| Failure::BadReply)?;
    let mut words = [0u16; QUANTITY as usize];
    if registers.len() != words.len() {
        return Err(Failure::WrongShape);
    }
    registers.copy_to(&mut words);
    Ok(words)
}

/// The registers in our slave's reply in `rx` (other slaves' frames and garbage skipped).
fn decode_registers(slave: u8, rx: &[u8]) -> Result<[u16; QUANTITY as usize], Failure> {
    // We read FC03 ourselves below: framing and CRC suffice, the general parser is not linked.
    let decoder = rtu::Decoder::new(Direction::Response).framing_only();
    let mut rest = rx;
    loop {
        match decoder.decode_eof(rest) {
            Decoded::Frame { frame, consumed } => {
                if frame.slave() == slave {
                    return registers_of(&frame);
                }
                rest = rest.get(consumed..).unwrap_or_default();
            }
            Decoded::Skip { count, .. } => rest = rest.get(count..).unwrap_or_default(),
            Decoded::NeedMore { .. } => return Err(Failure::NoReply),
        }
    }
}

#[entry]
fn main() -> ! {
    // A meter reader polls forever; each pass is one request and one reply.
    loop {
        let slave = io::slave();
        let outcome =
            io::send_read(slave).and_then(|()| io::receive(|rx| decode_registers(slave, rx)));
        io::publish(outcome);
    }
}
