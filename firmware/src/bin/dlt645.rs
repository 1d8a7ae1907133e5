//! DL/T 645-2007 the way a small firmware would use the crate: build the read of total
//! forward active energy with the request builder, then find the meter's reply with the
//! streaming decoder and read the value straight from the zero-copy [`Frame`] view — the
//! checksum, length and 0x33 offset handled by the crate, the energy's BCD decoded by
//! [`dlt645::bcd`]. The DI's format (XXXXXX.XX kWh, unsigned) is known because we asked for
//! it, so the catalogue of every DI and format is not needed.
//!
//! Everything lives on the stack; there is no heap. `dlt645_full` does the same job through
//! the owned message layer; README.md compares the two.
#![no_std]
#![no_main]

#[path = "../io/dlt645.rs"]
mod io;

use cortex_m_rt::entry;
use dlt645::{
    Direction, Frame, bcd,
    stream::{Decoded, Decoder},
};
use io::Failure;

/// XXXXXX.XX: four BCD bytes, two decimals.
const ENERGY_BYTES: usize = 4;
const ENERGY_DECIMALS: u8 = 2;

/// The energy in the meter's reply to our read, as (mantissa, scale).
fn energy_of(frame: &Frame<&[u8]>) -> Result<(i64, u8), Failure> {
    if frame.control().is_abnormal() || frame.di() != Some(io::ENERGY) {
        return Err(Failure::BadReply);
    }
    // DI (4 bytes) then the value, 0x33 already removed by `copy_data`.
    let mut data = [0u8; 4 + ENERGY_BYTES];
    let value = frame
        .copy_data(&mut data)
        .ok()
        .and_then(|d| d.get(4..))
        .filter(|v| v.len() == ENERGY_BYTES)
        .ok_or(Failure::BadValue)?;
    let hundredths = bcd::decode(value).map_err(|_| Failure::BadValue)?;
    // Eight BCD digits are below 10^8, far inside i64.
    let mantissa = i64::try_from(hundredths).map_err(|_| Failure::BadValue)?;
    Ok((mantissa, ENERGY_DECIMALS))
}

/// The first reply in `rx` (our own echo and garbage skipped).
fn decode_energy(rx: &[u8]) -> Result<(i64, u8), Failure> {
    let decoder = Decoder::new();
    let mut rest = rx;
    loop {
        match decoder.decode_eof(rest) {
            Decoded::Frame {
                frame, consumed, ..
            } => {
                if frame.control().direction() == Direction::Reply {
                    return energy_of(&frame);
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
        let outcome = io::send_read(io::meter()).and_then(|()| io::receive(decode_energy));
        io::publish(outcome);
    }
}
