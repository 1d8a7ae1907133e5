//! Finding frames in a byte stream.
//!
//! A serial port delivers bytes in arbitrary chunks: wake-up bytes, our own echo on
//! two-wire adapters, several meters answering, line noise. [`Decoder::decode`] looks
//! at the start of a buffer and answers one of three things:
//!
//! * [`Decoded::Frame`]: a complete, checksum-verified frame and how many bytes to drop;
//! * [`Decoded::NeedMore`]: the buffer starts with what may be a frame that has not
//!   fully arrived (incomplete is not corrupt);
//! * [`Decoded::Skip`]: drop this many bytes, with the reason (garbage, a false start,
//!   a corrupt frame).
//!
//! Frames are delimited by their length byte only. The decoder never searches for 0x16
//! to find an end (checksums are 0x16 or 0x68 often enough in real captures), accepts
//! any number of 0xFE wake-up bytes, and after a false start drops a single byte and
//! tries again, so a doubled 0x68 or a frame hiding behind garbage is still found. The
//! answer depends only on the bytes, so any split of a stream into chunks yields the
//! same frames.
//!
//! ```
//! use dlt645::stream::{Decoded, Decoder};
//!
//! let capture = [
//!     0x00, 0x68, // line noise, and a start byte that leads nowhere
//!     0xFE, 0xFE, 0x68, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68, 0x01, 0x02, 0x44, 0xE9, 0x03, 0x16,
//! ];
//! let mut rest = &capture[..];
//! let mut frames = 0;
//! while !rest.is_empty() {
//!     match Decoder::new().decode(rest) {
//!         Decoded::Frame { consumed, .. } => { frames += 1; rest = &rest[consumed..]; }
//!         Decoded::Skip { count, .. } => rest = &rest[count..],
//!         Decoded::NeedMore { .. } => break, // read more bytes from the port
//!     }
//! }
//! assert_eq!(frames, 1);
//! ```

use crate::{
    Error,
    frame::{self, Frame, HEADER_LEN, MIN_FRAME_LEN, PREAMBLE, START},
};

/// Why bytes are to be dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum SkipReason {
    /// Wake-up bytes (0xFE) with no frame after them yet. Not an error.
    Preamble,
    /// Bytes that cannot start a frame.
    Garbage,
    /// A 0x68 that is not a frame start: the frame it would begin is malformed in the
    /// way the error says (second start byte, checksum, end byte; or, at the end of
    /// input, truncated).
    FalseStart(Error),
}

/// What [`Decoder::decode`] found at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A complete, valid frame.
    Frame {
        /// The frame, from its first 0x68 to its end byte.
        frame: Frame<&'a [u8]>,
        /// Wake-up bytes (0xFE) before it in this buffer.
        preamble: usize,
        /// Bytes to drop from the buffer: preamble plus frame.
        consumed: usize,
    },
    /// The buffer holds the beginning of what may be a frame (or nothing); read more.
    NeedMore {
        /// Bytes still missing at least: exact once the length byte has been seen,
        /// otherwise what the smallest frame would need.
        at_least: usize,
    },
    /// Drop `count` bytes from the front of the buffer and call again.
    Skip {
        /// Bytes to drop (at least 1).
        count: usize,
        /// Why.
        reason: SkipReason,
    },
}

/// The streaming frame decoder. It keeps no state: the caller owns the buffer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Decoder {
    _private: (),
}

impl Decoder {
    /// A decoder.
    pub const fn new() -> Self {
        Decoder { _private: () }
    }

    /// Looks at the start of `buf`; see the [module docs](self).
    pub fn decode<'a>(&self, buf: &'a [u8]) -> Decoded<'a> {
        decode(buf, false)
    }

    /// As [`decode`](Self::decode), for when no more bytes will come (end of a
    /// capture file, or the line has been silent past the reply deadline): a partial
    /// frame becomes [`SkipReason::FalseStart`] with [`Error::Truncated`], so frames
    /// hiding behind a false start are still found. Returns `NeedMore` only for an
    /// empty buffer (`at_least` is then the smallest frame's length).
    pub fn decode_eof<'a>(&self, buf: &'a [u8]) -> Decoded<'a> {
        decode(buf, true)
    }

    /// Every frame and every skipped run in a complete buffer, in order, with offsets.
    pub fn scan<'a>(&self, buf: &'a [u8]) -> Scan<'a> {
        Scan {
            buf,
            pos: 0,
            pending: None,
        }
    }
}

#[inline]
fn decode(buf: &[u8], eof: bool) -> Decoded<'_> {
    let preamble = buf.iter().take_while(|b| **b == PREAMBLE).count();
    let rest = &buf[preamble..];
    let Some(&first) = rest.first() else {
        return if preamble > 0 {
            Decoded::Skip {
                count: preamble,
                reason: SkipReason::Preamble,
            }
        } else {
            Decoded::NeedMore {
                at_least: MIN_FRAME_LEN,
            }
        };
    };
    if first != START {
        // Only 0x68 or 0xFE can begin the next candidate.
        // Only 0x68 or 0xFE can begin the next candidate; memchr2 searches 16 bytes at
        // a time, which is most of a scan's work on a noisy line.
        let garbage = memchr::memchr2(START, PREAMBLE, &rest[1..]).map_or(rest.len(), |i| i + 1);
        return Decoded::Skip {
            count: preamble + garbage,
            reason: SkipReason::Garbage,
        };
    }
    let false_start = |error| Decoded::Skip {
        count: preamble + 1,
        reason: SkipReason::FalseStart(error),
    };
    if let Some(&second) = rest.get(7)
        && second != START
    {
        return false_start(Error::StartByte {
            offset: 7,
            found: second,
        });
    }
    let total = match rest.get(HEADER_LEN - 1) {
        Some(&len) => MIN_FRAME_LEN + usize::from(len),
        None if eof => {
            return false_start(Error::Truncated {
                needed: HEADER_LEN,
                available: rest.len(),
            });
        }
        None => {
            return Decoded::NeedMore {
                at_least: MIN_FRAME_LEN - rest.len(),
            };
        }
    };
    if rest.len() < total {
        if eof {
            return false_start(Error::Truncated {
                needed: total,
                available: rest.len(),
            });
        }
        return Decoded::NeedMore {
            at_least: total - rest.len(),
        };
    }
    let candidate = &rest[..total];
    match frame::check(candidate) {
        Ok(_) => Decoded::Frame {
            frame: Frame::new_unchecked(candidate),
            preamble,
            consumed: preamble + total,
        },
        Err(error) => false_start(error),
    }
}

/// One event of a [`Scan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanEvent<'a> {
    /// A valid frame.
    Frame {
        /// Offset of its first 0x68 in the scanned buffer.
        offset: usize,
        /// Wake-up bytes right before it.
        preamble: usize,
        /// The frame.
        frame: Frame<&'a [u8]>,
    },
    /// Bytes that are not part of a valid frame (wake-up bytes not followed by a frame
    /// are not reported). Adjacent garbage is reported as one run.
    Skipped {
        /// Offset of the first skipped byte.
        offset: usize,
        /// Number of bytes.
        count: usize,
        /// Why the first of them was dropped.
        reason: SkipReason,
    },
}

/// Iterator over the frames and garbage of a complete buffer; see [`Decoder::scan`].
#[derive(Debug, Clone)]
pub struct Scan<'a> {
    buf: &'a [u8],
    pos: usize,
    /// A frame found right after garbage, returned after the garbage is reported.
    pending: Option<ScanEvent<'a>>,
}

impl<'a> Iterator for Scan<'a> {
    type Item = ScanEvent<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(event) = self.pending.take() {
            return Some(event);
        }
        let mut skipped: Option<(usize, usize, SkipReason)> = None;
        loop {
            let rest = self.buf.get(self.pos..).unwrap_or_default();
            match decode(rest, true) {
                Decoded::Frame {
                    frame,
                    preamble,
                    consumed,
                } => {
                    let event = ScanEvent::Frame {
                        offset: self.pos + preamble,
                        preamble,
                        frame,
                    };
                    self.pos += consumed;
                    if let Some((offset, count, reason)) = skipped {
                        // Report the garbage first and keep the frame for the next call.
                        self.pending = Some(event);
                        return Some(ScanEvent::Skipped {
                            offset,
                            count,
                            reason,
                        });
                    }
                    return Some(event);
                }
                Decoded::Skip {
                    count,
                    reason: SkipReason::Preamble,
                } => {
                    self.pos += count;
                }
                Decoded::Skip { count, reason } => {
                    let start = self.pos;
                    self.pos += count;
                    skipped = Some(match skipped {
                        Some((offset, run, first)) if offset + run == start => {
                            (offset, run + count, first)
                        }
                        Some(run) => {
                            // Not adjacent (wake-up bytes in between): report what we have.
                            self.pos = start;
                            return Some(ScanEvent::Skipped {
                                offset: run.0,
                                count: run.1,
                                reason: run.2,
                            });
                        }
                        None => (start, count, reason),
                    });
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

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: [u8; 16] = [
        0x68, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x68, 0x11, 0x04, 0x33, 0x33, 0x34, 0x33, 0x68,
        0x16,
    ];

    #[test]
    fn incomplete_is_not_corrupt() {
        let d = Decoder::new();
        assert_eq!(d.decode(&FRAME[..5]), Decoded::NeedMore { at_least: 7 });
        assert_eq!(d.decode(&FRAME[..12]), Decoded::NeedMore { at_least: 4 });
        let mut corrupt = FRAME;
        corrupt[12] = 0x35;
        assert_eq!(
            d.decode(&corrupt),
            Decoded::Skip {
                count: 1,
                reason: SkipReason::FalseStart(Error::Checksum {
                    carried: 0x68,
                    computed: 0x69
                })
            }
        );
    }

    #[test]
    fn checksum_equal_to_start_byte_is_not_a_start() {
        // The frame's checksum is 0x68; two frames back to back must both be found.
        let mut two = [0u8; 32];
        two[..16].copy_from_slice(&FRAME);
        two[16..].copy_from_slice(&FRAME);
        let frames = Decoder::new()
            .scan(&two)
            .filter(|e| matches!(e, ScanEvent::Frame { .. }))
            .count();
        assert_eq!(frames, 2);
    }

    #[test]
    fn doubled_start_byte_resynchronises() {
        let mut buf = [0u8; 17];
        buf[0] = START;
        buf[1..].copy_from_slice(&FRAME);
        let events: heapless::Vec<_, 4> = Decoder::new().scan(&buf).collect();
        assert_eq!(events.len(), 2);
        assert!(matches!(
            events[0],
            ScanEvent::Skipped {
                offset: 0,
                count: 1,
                ..
            }
        ));
        assert!(matches!(events[1], ScanEvent::Frame { offset: 1, .. }));
    }

    #[test]
    fn a_truncated_false_start_does_not_hide_a_later_frame() {
        // 0x68 ... 0x68 with a length of 0xFF: a decoder that waited for 267 bytes at
        // the end of a capture would lose the real frame behind it.
        let mut buf = [0u8; 26];
        buf[..10].copy_from_slice(&[0x68, 1, 2, 3, 4, 5, 6, 0x68, 0x11, 0xFF]);
        buf[10..].copy_from_slice(&FRAME);
        let found: heapless::Vec<_, 8> = Decoder::new()
            .scan(&buf)
            .filter_map(|e| match e {
                ScanEvent::Frame { offset, .. } => Some(offset),
                ScanEvent::Skipped { .. } => None,
            })
            .collect();
        assert_eq!(found, [10]);
    }

    #[test]
    fn lone_preamble_is_dropped_not_buffered() {
        assert_eq!(
            Decoder::new().decode(&[0xFE; 7]),
            Decoded::Skip {
                count: 7,
                reason: SkipReason::Preamble
            }
        );
    }
}
