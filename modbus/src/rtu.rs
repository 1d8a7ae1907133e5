//! Modbus RTU: `[slave][PDU][CRC lo][CRC hi]`, at most 256 bytes.

// `#[inline(always)]` on the parse chain is measured, not decorative: it lets a decoder's
// validating parse, whose result is discarded, compile down to the checks alone, and builds
// the caller's repr in place (125-register FC03 decode + parse + sum: 168 → 136 ns).
#![allow(clippy::inline_always)]

use crate::pdu::{Direction, MAX_PDU_LEN, Pdu, PduLen, pdu_len};
use crate::{Decoded, Error, crc16};

/// Largest RTU ADU.
pub const MAX_ADU_LEN: usize = 256;
/// Smallest RTU ADU: slave, function code, CRC.
pub const MIN_ADU_LEN: usize = 4;
/// Largest unicast slave address; 248–255 are reserved.
pub const MAX_SLAVE: u8 = 247;

/// A zero-copy view of one RTU frame whose length and CRC have been checked.
///
/// The PDU inside is not yet validated; [`Repr::parse`] does that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps `buffer`, which must hold exactly one frame.
    ///
    /// # Errors
    /// [`Error::Truncated`] below 4 bytes, [`Error::TooLong`] above 256,
    /// [`Error::Crc`] when the trailing CRC does not match.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let bytes = buffer.as_ref();
        if bytes.len() < MIN_ADU_LEN {
            return Err(Error::Truncated {
                needed: MIN_ADU_LEN,
                available: bytes.len(),
            });
        }
        if bytes.len() > MAX_ADU_LEN {
            return Err(Error::TooLong {
                len: bytes.len(),
                max: MAX_ADU_LEN,
            });
        }
        let frame = Frame { buffer };
        let (expected, actual) = (frame.computed_crc(), frame.crc());
        if expected != actual {
            return Err(Error::Crc { expected, actual });
        }
        Ok(frame)
    }

    /// The slave (unit) address; 0 = broadcast.
    pub fn slave(&self) -> u8 {
        self.buffer.as_ref().first().copied().unwrap_or_default()
    }

    /// The raw function code byte (with the 0x80 bit on exception replies).
    pub fn function(&self) -> u8 {
        self.pdu().first().copied().unwrap_or_default()
    }

    /// The PDU: function code and data.
    pub fn pdu(&self) -> &[u8] {
        let bytes = self.buffer.as_ref();
        bytes
            .get(1..bytes.len().saturating_sub(2))
            .unwrap_or_default()
    }

    /// The CRC carried by the frame.
    pub fn crc(&self) -> u16 {
        let bytes = self.buffer.as_ref();
        match bytes.get(bytes.len().saturating_sub(2)..) {
            Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
            _ => 0,
        }
    }

    /// The CRC computed over slave address and PDU.
    pub fn computed_crc(&self) -> u16 {
        let bytes = self.buffer.as_ref();
        crc16(
            bytes
                .get(..bytes.len().saturating_sub(2))
                .unwrap_or_default(),
        )
    }

    /// The whole frame.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Frame length in bytes.
    pub fn len(&self) -> usize {
        self.buffer.as_ref().len()
    }

    /// Always `false`: a checked frame holds at least 4 bytes.
    pub fn is_empty(&self) -> bool {
        self.buffer.as_ref().is_empty()
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<'a> Frame<&'a [u8]> {
    /// The PDU, borrowed for the buffer's lifetime.
    pub fn pdu_bytes(&self) -> &'a [u8] {
        let bytes = self.buffer;
        bytes
            .get(1..bytes.len().saturating_sub(2))
            .unwrap_or_default()
    }
}

/// An owned RTU ADU: slave address and PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct Repr<'a> {
    /// Slave address (0 = broadcast, requests only).
    pub slave: u8,
    /// The PDU.
    pub pdu: Pdu<'a>,
}

impl<'a> Repr<'a> {
    /// Parses a checked frame in the given direction.
    ///
    /// # Errors
    /// The PDU's error (see [`Pdu::parse`]) or the address rule broken ([`Repr::check`]).
    #[inline(always)]
    pub fn parse(frame: &Frame<&'a [u8]>, direction: Direction) -> Result<Self, Error> {
        let repr = Repr {
            slave: frame.slave(),
            pdu: Pdu::parse(frame.pdu_bytes(), direction)?,
        };
        repr.check()?;
        Ok(repr)
    }

    /// Checks the address rules: 248–255 reserved; 0 only for requests that write.
    ///
    /// # Errors
    /// [`Error::InvalidSlave`] or [`Error::BroadcastNotAllowed`].
    #[inline(always)]
    pub fn check(&self) -> Result<(), Error> {
        check_slave(self.slave, self.pdu.direction())?;
        if self.slave == 0 && !self.pdu.broadcastable() {
            return Err(Error::BroadcastNotAllowed {
                function: self.pdu.function_code(),
            });
        }
        Ok(())
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        1 + self.pdu.buffer_len() + 2
    }

    /// Writes the ADU with its CRC into `buf` and returns its length.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] with the size needed, [`Error::TooLong`] above 256 bytes,
    /// or the PDU's and [`check`](Self::check)'s errors.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.check()?;
        let needed = self.buffer_len();
        if needed > MAX_ADU_LEN {
            return Err(Error::TooLong {
                len: needed,
                max: MAX_ADU_LEN,
            });
        }
        let available = buf.len();
        let out = buf
            .get_mut(..needed)
            .ok_or(Error::BufferTooSmall { needed, available })?;
        let (head, crc_bytes) = out.split_at_mut(needed - 2);
        let (slave, pdu) = head.split_at_mut(1);
        slave.fill(self.slave);
        self.pdu.emit(pdu)?;
        crc_bytes.copy_from_slice(&crc16(head).to_le_bytes());
        Ok(needed)
    }
}

fn check_slave(slave: u8, direction: Direction) -> Result<(), Error> {
    if slave > MAX_SLAVE || (slave == 0 && direction == Direction::Response) {
        return Err(Error::InvalidSlave { slave });
    }
    Ok(())
}

/// Streaming RTU decoder for one direction.
///
/// It frames by structure: slave address, function code, and the count fields that fix
/// the length. It never waits for silence and never scans for a CRC match. A CRC mismatch
/// skips one byte (the real frame may start inside the bad one). So does a frame whose CRC
/// matches but whose content breaks a rule: such a "frame" is as likely garbage whose CRC
/// matched by chance (1 in 65 536) as a real one, and skipping it whole could swallow the
/// start of the real frame behind it.
///
/// Function codes outside the public set (user-defined 65–72, 100–110) cannot be framed by
/// structure and are skipped as garbage; FC08 is framed with one 16-bit data word, which
/// covers every sub-function except an echo of longer query data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoder {
    direction: Direction,
    /// Whether [`decode`](Self::decode) parses each framed PDU to check its fields.
    validate: bool,
}

impl Decoder {
    /// A decoder for frames travelling in `direction`.
    pub const fn new(direction: Direction) -> Self {
        Decoder {
            direction,
            validate: true,
        }
    }

    /// A decoder whose [`decode`](Self::decode) frames by structure and checks the CRC but
    /// does not parse the PDU's fields (quantity limits, byte count against quantity, …).
    ///
    /// For firmware that reads the few functions it asked for straight from the
    /// [`Frame`] view: the general parser of every function code is then never called, and
    /// link-time optimisation drops it (about 2.5 KiB on a Cortex-M4). A frame that is
    /// structurally sound but breaks a field rule is handed over rather than skipped, so
    /// the caller checks what it reads. [`decode_repr`](Self::decode_repr) always parses.
    #[must_use]
    pub const fn framing_only(self) -> Self {
        Decoder {
            validate: false,
            ..self
        }
    }

    /// The direction this decoder expects.
    pub const fn direction(&self) -> Direction {
        self.direction
    }

    /// Looks at the start of `buf` (see [`Decoded`]).
    #[inline(always)]
    pub fn decode<'b>(&self, buf: &'b [u8]) -> Decoded<Frame<&'b [u8]>> {
        let (direction, validate) = (self.direction, self.validate);
        self.decode_with(buf, |frame| {
            if validate {
                Repr::parse(&frame, direction)?;
            }
            Ok(frame)
        })
    }

    /// Like [`decode`](Self::decode), handing back the parsed frame: the decoder parses it to
    /// validate it anyway, so this saves the caller a second [`Repr::parse`].
    ///
    /// ```
    /// use meterkit_modbus::{Decoded, Direction, rtu};
    ///
    /// // Unit 1 answers FC03 with two registers, 0x0001 and 0x0002.
    /// let bytes = [0x01, 0x03, 0x04, 0x00, 0x01, 0x00, 0x02, 0x2A, 0x32];
    /// let Decoded::Frame { frame, consumed } = rtu::Decoder::new(Direction::Response).decode_repr(&bytes) else {
    ///     panic!("a whole frame");
    /// };
    /// assert_eq!((frame.slave, consumed), (1, 9));
    /// let registers: Vec<u16> = frame.pdu.registers().unwrap().iter().collect();
    /// assert_eq!(registers, [1, 2]);
    /// ```
    #[inline]
    pub fn decode_repr<'b>(&self, buf: &'b [u8]) -> Decoded<Repr<'b>> {
        let direction = self.direction;
        self.decode_with(buf, |frame| Repr::parse(&frame, direction))
    }

    /// Frames by structure and checks the CRC, then lets `accept` turn the frame into the
    /// answer or reject it (skipped like a CRC mismatch).
    #[inline(always)]
    fn decode_with<'b, T>(
        self,
        buf: &'b [u8],
        accept: impl FnOnce(Frame<&'b [u8]>) -> Result<T, Error>,
    ) -> Decoded<T> {
        let Some(&slave) = buf.first() else {
            return Decoded::NeedMore {
                at_least: MIN_ADU_LEN,
            };
        };
        if let Err(reason) = check_slave(slave, self.direction) {
            return Decoded::Skip { count: 1, reason };
        }
        let pdu_bytes = buf.get(1..).unwrap_or_default();
        let total = match pdu_len(self.direction, pdu_bytes) {
            Err(reason) => return Decoded::Skip { count: 1, reason },
            Ok(PduLen::AtLeast(n)) => {
                let at_least = (1 + n + 2).max(MIN_ADU_LEN) - buf.len();
                return Decoded::NeedMore { at_least };
            }
            Ok(PduLen::Known(n)) => 1 + n + 2,
        };
        debug_assert!(total <= 1 + MAX_PDU_LEN + 2);
        let Some(bytes) = buf.get(..total) else {
            return Decoded::NeedMore {
                at_least: total - buf.len(),
            };
        };
        let frame = match Frame::new_checked(bytes) {
            Ok(frame) => frame,
            Err(reason) => return Decoded::Skip { count: 1, reason },
        };
        match accept(frame) {
            Ok(frame) => Decoded::Frame {
                frame,
                consumed: total,
            },
            Err(reason) => Decoded::Skip { count: 1, reason },
        }
    }

    /// Like [`decode`](Self::decode), for a buffer that will not grow (end of input, or the
    /// transport saw the t3.5 silence): an incomplete frame becomes `Skip { count: 1 }`
    /// with [`Error::Truncated`], so the bytes after it are still searched.
    pub fn decode_eof<'b>(&self, buf: &'b [u8]) -> Decoded<Frame<&'b [u8]>> {
        self.decode(buf).at_end(buf.len())
    }
}

impl crate::StreamDecoder for Decoder {
    type Frame<'a> = Frame<&'a [u8]>;

    fn decode<'a>(&self, buf: &'a [u8]) -> Decoded<Frame<&'a [u8]>> {
        Decoder::decode(self, buf)
    }
}

impl crate::sealed::Sealed for Decoder {}
