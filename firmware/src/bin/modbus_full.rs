//! Modbus RTU through the crate's owned representation, as its README shows it: the
//! streaming decoder finds the reply, [`rtu::Repr::parse`] validates it as a full response
//! PDU (every public function code), and the register view gives the values.
//!
//! Compare with `modbus`, which reads the same reply from the zero-copy view: the
//! difference is what the generality costs in flash (see README.md). Everything lives on
//! the stack; there is no heap.
#![no_std]
#![no_main]

#[path = "../io/modbus.rs"]
mod io;

use cortex_m_rt::entry;
use io::{Failure, QUANTITY};
use meterkit_modbus::{Decoded, Direction, rtu};

/// The registers in our slave's reply in `rx`.
fn decode_registers(slave: u8, rx: &[u8]) -> Result<[u16; QUANTITY as usize], Failure> {
    let decoder = rtu::Decoder::new(Direction::Response);
    let mut rest = rx;
    loop {
        match decoder.decode_eof(rest) {
            Decoded::Frame { frame, consumed } => {
                let reply =
                    rtu::Repr::parse(&frame, Direction::Response).map_err(|_| Failure::BadReply)?;
                if reply.slave == slave {
                    let registers = reply.pdu.registers().ok_or(Failure::BadReply)?;
                    let mut words = [0u16; QUANTITY as usize];
                    return if registers.copy_to(&mut words) == words.len() {
                        Ok(words)
                    } else {
                        Err(Failure::WrongShape)
                    };
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
