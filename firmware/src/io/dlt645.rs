//! The DL/T 645 binaries' "hardware": configuration in, the UART's buffers, results out.
//! Shared by `dlt645` and `dlt645_full` so both measure the same job.

use dlt645::{
    Address, Di,
    message::{ReadSelector, Request},
};
use meterkit_firmware::{Volatile, padded};

/// Total forward (import) active energy, XXXXXX.XX kWh.
pub const ENERGY: Di = Di::V2007(0x0001_0000);

/// Longest exchange kept: our request echo plus the reply, with wake-up bytes.
pub const RX_CAPACITY: usize = 64;
/// Longest request sent: four wake-up bytes and a 16-byte read frame.
pub const TX_CAPACITY: usize = 32;

/// The meter's address in wire order (nameplate 000102030425), as configuration would
/// provide it.
#[unsafe(no_mangle)]
pub static METER: Volatile<[u8; 6]> = Volatile::new([0x25, 0x04, 0x03, 0x02, 0x01, 0x00]);

/// What the UART received: the echo of our request (RS-485 is half duplex), two wake-up
/// bytes, and the meter's reply carrying 1206.42 kWh (`75 39 45 33` minus 0x33 is the
/// BCD field `42 06 12 00`, low byte first: 00120642 hundredths).
#[unsafe(no_mangle)]
pub static RX: Volatile<[u8; RX_CAPACITY]> = Volatile::new(padded([
    0x68, 0x25, 0x04, 0x03, 0x02, 0x01, 0x00, 0x68, 0x11, 0x04, 0x33, 0x33, 0x34, 0x33, 0xE1, 0x16,
    0xFE, 0xFE, 0x68, 0x25, 0x04, 0x03, 0x02, 0x01, 0x00, 0x68, 0x91, 0x08, 0x33, 0x33, 0x34, 0x33,
    0x75, 0x39, 0x45, 0x33, 0x8B, 0x16,
]));
/// How many bytes of [`RX`] are valid.
#[unsafe(no_mangle)]
pub static RX_LEN: Volatile<usize> = Volatile::new(38);

/// The request frame for the UART to send, and its length.
#[unsafe(no_mangle)]
pub static TX: Volatile<[u8; TX_CAPACITY]> = Volatile::new([0; TX_CAPACITY]);
#[unsafe(no_mangle)]
pub static TX_LEN: Volatile<usize> = Volatile::new(0);
/// The energy as an exact decimal: `ENERGY_MANTISSA × 10^-ENERGY_SCALE` kWh
/// (120642 and 2 for the reply above).
#[unsafe(no_mangle)]
pub static ENERGY_MANTISSA: Volatile<i64> = Volatile::new(0);
#[unsafe(no_mangle)]
pub static ENERGY_SCALE: Volatile<u8> = Volatile::new(0);
/// 0 after a good exchange, else the [`Failure`] code.
#[unsafe(no_mangle)]
pub static STATUS: Volatile<u8> = Volatile::new(0);

/// Why an exchange failed, as the number left in [`STATUS`].
#[derive(Clone, Copy)]
#[repr(u8)]
pub enum Failure {
    /// The request did not fit [`TX`].
    Build = 1,
    /// No reply to our read in what was received.
    NoReply = 2,
    /// The meter refused (abnormal reply) or the reply had the wrong layout.
    BadReply = 3,
    /// The value field is not the number we asked for.
    BadValue = 4,
}

/// The meter to read, from configuration.
pub fn meter() -> Address {
    Address::from_wire(METER.read())
}

/// The read of total forward active energy (DI 00 01 00 00) for `meter`, with four wake-up
/// bytes (most meters want them after a quiet line), written into [`TX`]. Both binaries
/// build the request the same way: the crate has one request builder.
///
/// # Errors
/// [`Failure::Build`] when the frame does not fit [`TX`] (it always does).
pub fn send_read(meter: Address) -> Result<(), Failure> {
    let read = Request::Read {
        di: ENERGY,
        selector: ReadSelector::Current,
    };
    let mut tx = [0u8; TX_CAPACITY];
    let len = read
        .to_frame(meter)
        .and_then(|frame| frame.emit(4, &mut tx))
        .map_err(|_| Failure::Build)?;
    TX.write(tx);
    TX_LEN.write(len);
    Ok(())
}

/// Runs `decode` over the valid part of [`RX`].
pub fn receive<T>(decode: impl FnOnce(&[u8]) -> T) -> T {
    let rx = RX.read();
    decode(rx.get(..RX_LEN.read()).unwrap_or_default())
}

/// Publishes the outcome of one poll.
pub fn publish(outcome: Result<(i64, u8), Failure>) {
    match outcome {
        Ok((mantissa, scale)) => {
            ENERGY_MANTISSA.write(mantissa);
            ENERGY_SCALE.write(scale);
            STATUS.write(0);
        }
        Err(failure) => STATUS.write(failure as u8),
    }
}
