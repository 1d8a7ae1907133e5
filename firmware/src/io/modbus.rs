//! The Modbus binaries' "hardware": configuration in, the UART's buffers, results out.
//! Shared by `modbus` and `modbus_full` so both measure the same job.

use meterkit_firmware::{Volatile, padded};
use meterkit_modbus::{Request, rtu};

/// Longest reply kept: an FC03 reply for two registers is 9 bytes.
pub const RX_CAPACITY: usize = 32;
/// An FC03 request is 8 bytes.
pub const TX_CAPACITY: usize = 8;
/// Registers read per poll: one 32-bit energy counter.
pub const QUANTITY: u16 = 2;

/// Slave address and first register, as configuration would provide them.
#[unsafe(no_mangle)]
pub static SLAVE: Volatile<u8> = Volatile::new(1);
#[unsafe(no_mangle)]
pub static REGISTER: Volatile<u16> = Volatile::new(0x0000);

/// What the UART received: slave 1's FC03 reply with registers [6, 5]
/// (byte count 4, then big-endian words, then the CRC low byte first).
#[unsafe(no_mangle)]
pub static RX: Volatile<[u8; RX_CAPACITY]> = Volatile::new(padded([
    0x01, 0x03, 0x04, 0x00, 0x06, 0x00, 0x05, 0xDA, 0x31,
]));
#[unsafe(no_mangle)]
pub static RX_LEN: Volatile<usize> = Volatile::new(9);

/// The request for the UART to send, and its length.
#[unsafe(no_mangle)]
pub static TX: Volatile<[u8; TX_CAPACITY]> = Volatile::new([0; TX_CAPACITY]);
#[unsafe(no_mangle)]
pub static TX_LEN: Volatile<usize> = Volatile::new(0);
/// The two registers as one big-endian 32-bit count (`0x0006_0005` for the reply above).
#[unsafe(no_mangle)]
pub static ENERGY_COUNT: Volatile<u32> = Volatile::new(0);
/// 0 after a good exchange, else the [`Failure`] code.
#[unsafe(no_mangle)]
pub static STATUS: Volatile<u8> = Volatile::new(0);

/// Why an exchange failed, as the number left in [`STATUS`].
#[derive(Clone, Copy)]
#[repr(u8)]
pub enum Failure {
    /// The request did not fit [`TX`].
    Build = 1,
    /// No complete reply from our slave in what was received.
    NoReply = 2,
    /// The slave answered with an exception or a malformed PDU.
    BadReply = 3,
    /// The reply holds a different number of registers than asked for.
    WrongShape = 4,
}

/// The slave to poll, from configuration.
pub fn slave() -> u8 {
    SLAVE.read()
}

/// FC03, read [`QUANTITY`] holding registers from the configured register, written into
/// [`TX`]. Both binaries build the request the same way: the crate has one ADU builder.
///
/// # Errors
/// [`Failure::Build`] when the ADU does not fit [`TX`] (it always does).
pub fn send_read(slave: u8) -> Result<(), Failure> {
    let request = rtu::Repr {
        slave,
        pdu: Request::ReadHoldingRegisters {
            address: REGISTER.read(),
            quantity: QUANTITY,
        }
        .into(),
    };
    let mut tx = [0u8; TX_CAPACITY];
    let len = request.emit(&mut tx).map_err(|_| Failure::Build)?;
    TX.write(tx);
    TX_LEN.write(len);
    Ok(())
}

/// Runs `decode` over the valid part of [`RX`].
pub fn receive<T>(decode: impl FnOnce(&[u8]) -> T) -> T {
    let rx = RX.read();
    decode(rx.get(..RX_LEN.read()).unwrap_or_default())
}

/// Publishes the outcome of one poll: the two registers, high word first.
pub fn publish(outcome: Result<[u16; QUANTITY as usize], Failure>) {
    match outcome {
        Ok([high, low]) => {
            ENERGY_COUNT.write(u32::from(high) << 16 | u32::from(low));
            STATUS.write(0);
        }
        Err(failure) => STATUS.write(failure as u8),
    }
}
