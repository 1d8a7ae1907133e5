//! Modbus TCP: MBAP header `transaction(2) protocol(2)=0 length(2) unit(1)` then the PDU;
//! no CRC; at most 260 bytes (`length` ≤ 254).

use crate::pdu::{Direction, Pdu};
use crate::{Decoded, Error};

/// MBAP header length, unit id included.
pub const HEADER_LEN: usize = 7;
/// Largest TCP ADU: 7 + 253.
pub const MAX_ADU_LEN: usize = 260;
/// Smallest legal MBAP length field: unit id + function code.
pub const MIN_LENGTH_FIELD: u16 = 2;
/// Largest legal MBAP length field: unit id + 253-byte PDU.
pub const MAX_LENGTH_FIELD: u16 = 254;

/// A zero-copy view of one TCP ADU whose MBAP header has been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

fn be16(bytes: &[u8], at: usize) -> u16 {
    match bytes.get(at..at + 2) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

/// Checks an MBAP header prefix and returns the ADU length it announces.
fn announced_len(bytes: &[u8]) -> Result<Option<usize>, Error> {
    if bytes.len() >= 4 {
        let id = be16(bytes, 2);
        if id != 0 {
            return Err(Error::ProtocolId { id });
        }
    }
    if bytes.len() < 6 {
        return Ok(None);
    }
    let length = be16(bytes, 4);
    if !(MIN_LENGTH_FIELD..=MAX_LENGTH_FIELD).contains(&length) {
        return Err(Error::MbapLength { length });
    }
    Ok(Some(6 + usize::from(length)))
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps `buffer`, which must start with one ADU; bytes after it are ignored.
    ///
    /// # Errors
    /// [`Error::ProtocolId`], [`Error::MbapLength`], or [`Error::Truncated`] when the buffer
    /// is shorter than the header or the length it announces.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let bytes = buffer.as_ref();
        let needed = announced_len(bytes)?.unwrap_or(HEADER_LEN + 1);
        if bytes.len() < needed {
            return Err(Error::Truncated {
                needed,
                available: bytes.len(),
            });
        }
        Ok(Frame { buffer })
    }

    /// Transaction identifier.
    pub fn transaction(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }

    /// Protocol identifier (always 0 once checked).
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    /// The MBAP length field: unit id + PDU bytes.
    pub fn length_field(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }

    /// Unit identifier.
    pub fn unit(&self) -> u8 {
        self.buffer.as_ref().get(6).copied().unwrap_or_default()
    }

    /// The raw function code byte.
    pub fn function(&self) -> u8 {
        self.pdu().first().copied().unwrap_or_default()
    }

    /// Length of the ADU (header + PDU).
    pub fn len(&self) -> usize {
        6 + usize::from(self.length_field())
    }

    /// Always `false`: a checked ADU holds at least 8 bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The PDU.
    pub fn pdu(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..self.len())
            .unwrap_or_default()
    }

    /// The ADU bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref().get(..self.len()).unwrap_or_default()
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<'a> Frame<&'a [u8]> {
    /// The PDU, borrowed for the buffer's lifetime.
    pub fn pdu_bytes(&self) -> &'a [u8] {
        self.buffer.get(HEADER_LEN..self.len()).unwrap_or_default()
    }
}

/// An owned TCP ADU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct Repr<'a> {
    /// Transaction identifier (pairs a reply with its request).
    pub transaction: u16,
    /// Unit identifier (0 and 0xFF address the TCP device itself).
    pub unit: u8,
    /// The PDU.
    pub pdu: Pdu<'a>,
}

impl<'a> Repr<'a> {
    /// Parses a checked frame in the given direction.
    ///
    /// # Errors
    /// The PDU's error (see [`Pdu::parse`]).
    #[inline]
    pub fn parse(frame: &Frame<&'a [u8]>, direction: Direction) -> Result<Self, Error> {
        Ok(Repr {
            transaction: frame.transaction(),
            unit: frame.unit(),
            pdu: Pdu::parse(frame.pdu_bytes(), direction)?,
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.pdu.buffer_len()
    }

    /// Writes the ADU into `buf` and returns its length.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] with the size needed, [`Error::TooLong`] above 260 bytes,
    /// or the PDU's errors.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
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
        let (header, pdu) = out.split_at_mut(HEADER_LEN);
        self.pdu.emit(pdu)?;
        let length = u16::try_from(needed - 6).unwrap_or(u16::MAX);
        header[..2].copy_from_slice(&self.transaction.to_be_bytes());
        header[2..4].fill(0);
        header[4..6].copy_from_slice(&length.to_be_bytes());
        header[6] = self.unit;
        Ok(needed)
    }
}

/// Streaming TCP decoder for one direction.
///
/// Frames by the MBAP length field; a header with a protocol id other than 0 or a length
/// outside 2..=254 skips one byte. A frame whose PDU breaks a rule is skipped whole (the
/// MBAP length vouches for its boundaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoder {
    direction: Direction,
    /// Whether [`decode`](Self::decode) parses each framed PDU to check its fields.
    validate: bool,
}

impl Decoder {
    /// A decoder for ADUs travelling in `direction`.
    pub const fn new(direction: Direction) -> Self {
        Decoder {
            direction,
            validate: true,
        }
    }

    /// A decoder whose [`decode`](Self::decode) frames by the MBAP header but does not parse
    /// the PDU's fields, as [`rtu::Decoder::framing_only`](crate::rtu::Decoder::framing_only)
    /// does. [`decode_repr`](Self::decode_repr) always parses.
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
    #[inline]
    pub fn decode<'b>(&self, buf: &'b [u8]) -> Decoded<Frame<&'b [u8]>> {
        let (direction, validate) = (self.direction, self.validate);
        Self::decode_with(buf, |frame| {
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
    /// use meterkit_modbus::{Decoded, Direction, tcp};
    ///
    /// // Transaction 7, unit 1 answers FC03 with one register, 0x00FF.
    /// let bytes = [0, 7, 0, 0, 0, 5, 1, 0x03, 0x02, 0x00, 0xFF];
    /// let Decoded::Frame { frame, .. } = tcp::Decoder::new(Direction::Response).decode_repr(&bytes) else {
    ///     panic!("a whole frame");
    /// };
    /// assert_eq!(frame.transaction, 7);
    /// assert_eq!(frame.pdu.registers().unwrap().get(0), Some(0x00FF));
    /// ```
    #[inline]
    pub fn decode_repr<'b>(&self, buf: &'b [u8]) -> Decoded<Repr<'b>> {
        let direction = self.direction;
        Self::decode_with(buf, |frame| Repr::parse(&frame, direction))
    }

    /// Frames by the MBAP header, then lets `accept` turn the frame into the answer or
    /// reject it (skipped whole: the header vouches for its boundaries).
    #[inline]
    fn decode_with<'b, T>(
        buf: &'b [u8],
        accept: impl FnOnce(Frame<&'b [u8]>) -> Result<T, Error>,
    ) -> Decoded<T> {
        let total = match announced_len(buf) {
            Err(reason) => return Decoded::Skip { count: 1, reason },
            Ok(None) => {
                return Decoded::NeedMore {
                    at_least: HEADER_LEN + 1 - buf.len(),
                };
            }
            Ok(Some(total)) => total,
        };
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
            Err(reason) => Decoded::Skip {
                count: total,
                reason,
            },
        }
    }

    /// Like [`decode`](Self::decode), for a buffer that will not grow: an incomplete frame
    /// becomes `Skip { count: 1 }` with [`Error::Truncated`].
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
