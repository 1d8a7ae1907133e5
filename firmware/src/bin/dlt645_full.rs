//! DL/T 645-2007 through the crate's high-level API, as its README shows it: the reply is
//! found by the streaming decoder, copied into an owned [`FrameRepr`], classified by the
//! message layer ([`Message::parse`], every function of both editions) and decoded by the
//! catalogue-driven [`value::decode`] (every data identifier and value format).
//!
//! Compare with `dlt645`, which decodes the same reply from the zero-copy view: the
//! difference is what the generality costs in flash (see README.md). Everything lives on
//! the stack; there is no heap.
#![no_std]
#![no_main]

#[path = "../io/dlt645.rs"]
mod io;

use cortex_m_rt::entry;
use dlt645::{
    FrameRepr,
    message::{Message, Reply},
    stream::{Decoded, Decoder},
    value::{self, Value},
};
use io::Failure;

/// The first read reply in `rx`, decoded as whatever its DI says it is, as (mantissa, scale).
fn decode_energy(rx: &[u8]) -> Result<(i64, u8), Failure> {
    let decoder = Decoder::new();
    let mut rest = rx;
    loop {
        match decoder.decode_eof(rest) {
            Decoded::Frame {
                frame, consumed, ..
            } => match Message::parse(&FrameRepr::parse(&frame)) {
                Ok(Message::Reply(Reply::Read { di, data, .. })) => {
                    return match value::decode(di, &data) {
                        Ok(Value::Number(n)) => i64::try_from(n.mantissa())
                            .map(|m| (m, n.scale()))
                            .map_err(|_| Failure::BadValue),
                        _ => Err(Failure::BadValue),
                    };
                }
                // Our own echo: skip it.
                Ok(Message::Request(_)) => rest = rest.get(consumed..).unwrap_or_default(),
                _ => return Err(Failure::BadReply),
            },
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
