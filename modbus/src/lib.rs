#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;

mod crc;
mod error;
pub mod pdu;
pub mod profile;
pub mod rtu;
pub mod tcp;

pub use crc::{crc16, update as crc16_update};
pub use error::Error;
pub use pdu::{
    Direction, ExceptionCode, FunctionCode, Pdu, ReadDeviceIdCode, Registers, RegistersIter,
    Request, Response, coil_state, pack_coils,
};

/// What a streaming decoder found at the start of its input.
///
/// Corrupt and incomplete input are different answers: `NeedMore` means "these bytes may
/// still become a frame", `Skip` means "these bytes are not one; drop `count` and call
/// again". A caller loops until it gets `NeedMore`, advancing by `consumed` or `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<F> {
    /// A complete, valid frame occupies the first `consumed` bytes.
    Frame {
        /// The frame (CRC or MBAP checked; its PDU validated for the decoder's direction).
        frame: F,
        /// Bytes to drop from the input.
        consumed: usize,
    },
    /// The input is a valid beginning (or empty); read more and call again.
    NeedMore {
        /// Bytes still missing at least: exact once the count fields have arrived,
        /// otherwise what the shortest frame with this start would need.
        at_least: usize,
    },
    /// The first `count` bytes cannot start a valid frame.
    Skip {
        /// Bytes to drop.
        count: usize,
        /// Why.
        reason: Error,
    },
}

impl<F> Decoded<F> {
    /// The same answer with the frame transformed by `f`.
    pub fn map<G>(self, f: impl FnOnce(F) -> G) -> Decoded<G> {
        match self {
            Decoded::Frame { frame, consumed } => Decoded::Frame {
                frame: f(frame),
                consumed,
            },
            Decoded::NeedMore { at_least } => Decoded::NeedMore { at_least },
            Decoded::Skip { count, reason } => Decoded::Skip { count, reason },
        }
    }

    /// Turns `NeedMore` into `Skip { count: 1, reason: Truncated }` for input that will
    /// not grow (end of a buffer, or silence on the line), so the bytes after an incomplete
    /// frame are still searched.
    #[must_use]
    pub fn at_end(self, available: usize) -> Self {
        match self {
            Decoded::NeedMore { at_least } if available > 0 => Decoded::Skip {
                count: 1,
                reason: Error::Truncated {
                    needed: available + at_least,
                    available,
                },
            },
            other => other,
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A streaming decoder: [`rtu::Decoder`] or [`tcp::Decoder`] (sealed), so transports and
/// tools can be generic over the two.
pub trait StreamDecoder: Copy + sealed::Sealed {
    /// The frame view it yields.
    type Frame<'a>;

    /// Looks at the start of `buf` (see [`Decoded`]).
    fn decode<'a>(&self, buf: &'a [u8]) -> Decoded<Self::Frame<'a>>;

    /// As [`decode`](Self::decode), for input that will not grow (end of a capture, or
    /// the line has been silent): an incomplete frame becomes a one-byte `Skip` with
    /// [`Error::Truncated`], so frames behind a false start are still found.
    fn decode_eof<'a>(&self, buf: &'a [u8]) -> Decoded<Self::Frame<'a>> {
        self.decode(buf).at_end(buf.len())
    }

    /// Every frame and every run of skipped bytes in a complete buffer, in order, with
    /// offsets. Adjacent skips are merged into one event carrying the first reason.
    fn scan(self, buf: &[u8]) -> Scan<'_, Self> {
        Scan {
            decoder: self,
            buf,
            pos: 0,
        }
    }
}

/// One event of a [`Scan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanEvent<F> {
    /// A valid frame starting at `offset`.
    Frame {
        /// Offset of the frame's first byte in the scanned buffer.
        offset: usize,
        /// The frame.
        frame: F,
    },
    /// `count` bytes at `offset` that are not part of any valid frame.
    Skipped {
        /// Offset of the first skipped byte.
        offset: usize,
        /// Number of bytes skipped.
        count: usize,
        /// Why the first of them was skipped.
        reason: Error,
    },
}

/// Iterator over the frames and garbage of a complete buffer ([`StreamDecoder::scan`]).
#[derive(Debug, Clone)]
pub struct Scan<'a, D> {
    decoder: D,
    buf: &'a [u8],
    pos: usize,
}

impl<'a, D: StreamDecoder> Iterator for Scan<'a, D> {
    type Item = ScanEvent<D::Frame<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut skipped: Option<(usize, usize, Error)> = None;
        loop {
            let rest = self.buf.get(self.pos..).unwrap_or_default();
            match self.decoder.decode_eof(rest) {
                Decoded::Frame { frame, consumed } => {
                    if let Some((offset, count, reason)) = skipped {
                        // Report the garbage first; the frame is found again next call.
                        return Some(ScanEvent::Skipped {
                            offset,
                            count,
                            reason,
                        });
                    }
                    let offset = self.pos;
                    self.pos += consumed;
                    return Some(ScanEvent::Frame { offset, frame });
                }
                Decoded::Skip { count, reason } => {
                    let (offset, run, first) = skipped.unwrap_or((self.pos, 0, reason));
                    skipped = Some((offset, run + count, first));
                    self.pos += count;
                }
                Decoded::NeedMore { .. } => {
                    return skipped.map(|(offset, count, reason)| ScanEvent::Skipped {
                        offset,
                        count,
                        reason,
                    });
                }
            }
        }
    }
}
