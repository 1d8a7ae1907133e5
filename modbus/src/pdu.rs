//! Protocol data units: function codes, exception codes, the owned [`Request`] and
//! [`Response`] representations, and the structural length rules shared by RTU and TCP.
//!
//! The representations borrow variable-length data (register values, coil bytes, device
//! identification objects) from the frame they were parsed from, so parsing never copies
//! or allocates. Every representation can also be built from plain arguments and emitted.

// `#[inline(always)]` on the parse chain is measured, not decorative: it lets a decoder's
// validating parse, whose result is discarded, compile down to the checks alone, and builds
// the caller's repr in place (125-register FC03 decode + parse + sum: 168 → 136 ns).
#![allow(clippy::inline_always)]

use crate::Error;

/// Largest PDU (function code + data): 256-byte RTU ADU minus address and CRC.
pub const MAX_PDU_LEN: usize = 253;

/// Whether a PDU travels from client to server or back.
///
/// Modbus RTU cannot tell the two apart from the bytes alone (`01 03 00 6B 00 03 …` is a
/// request, `01 03 06 …` a response), so decoders take the direction as an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "serde-1", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum Direction {
    /// Client (master) to server (slave).
    Request,
    /// Server to client, including exception replies.
    Response,
}

impl Direction {
    /// `"request"` or `"response"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }
}

/// A public function code this crate can frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[repr(u8)]
#[non_exhaustive]
pub enum FunctionCode {
    /// 0x01 Read Coils.
    ReadCoils = 0x01,
    /// 0x02 Read Discrete Inputs.
    ReadDiscreteInputs = 0x02,
    /// 0x03 Read Holding Registers.
    ReadHoldingRegisters = 0x03,
    /// 0x04 Read Input Registers.
    ReadInputRegisters = 0x04,
    /// 0x05 Write Single Coil.
    WriteSingleCoil = 0x05,
    /// 0x06 Write Single Register.
    WriteSingleRegister = 0x06,
    /// 0x07 Read Exception Status (serial line only).
    ReadExceptionStatus = 0x07,
    /// 0x08 Diagnostics (serial line only).
    Diagnostics = 0x08,
    /// 0x0B Get Comm Event Counter (serial line only).
    GetCommEventCounter = 0x0B,
    /// 0x0C Get Comm Event Log (serial line only).
    GetCommEventLog = 0x0C,
    /// 0x0F Write Multiple Coils.
    WriteMultipleCoils = 0x0F,
    /// 0x10 Write Multiple Registers.
    WriteMultipleRegisters = 0x10,
    /// 0x11 Report Server ID (serial line only).
    ReportServerId = 0x11,
    /// 0x14 Read File Record.
    ReadFileRecord = 0x14,
    /// 0x15 Write File Record.
    WriteFileRecord = 0x15,
    /// 0x16 Mask Write Register.
    MaskWriteRegister = 0x16,
    /// 0x17 Read/Write Multiple Registers.
    ReadWriteMultipleRegisters = 0x17,
    /// 0x18 Read FIFO Queue.
    ReadFifoQueue = 0x18,
    /// 0x2B / MEI 0x0E Read Device Identification.
    ReadDeviceIdentification = 0x2B,
}

impl FunctionCode {
    /// Every function code, in numeric order.
    pub const ALL: [FunctionCode; 19] = [
        FunctionCode::ReadCoils,
        FunctionCode::ReadDiscreteInputs,
        FunctionCode::ReadHoldingRegisters,
        FunctionCode::ReadInputRegisters,
        FunctionCode::WriteSingleCoil,
        FunctionCode::WriteSingleRegister,
        FunctionCode::ReadExceptionStatus,
        FunctionCode::Diagnostics,
        FunctionCode::GetCommEventCounter,
        FunctionCode::GetCommEventLog,
        FunctionCode::WriteMultipleCoils,
        FunctionCode::WriteMultipleRegisters,
        FunctionCode::ReportServerId,
        FunctionCode::ReadFileRecord,
        FunctionCode::WriteFileRecord,
        FunctionCode::MaskWriteRegister,
        FunctionCode::ReadWriteMultipleRegisters,
        FunctionCode::ReadFifoQueue,
        FunctionCode::ReadDeviceIdentification,
    ];

    /// The function code for a byte, if this crate knows it.
    pub const fn from_u8(code: u8) -> Option<FunctionCode> {
        use FunctionCode as F;
        Some(match code {
            0x01 => F::ReadCoils,
            0x02 => F::ReadDiscreteInputs,
            0x03 => F::ReadHoldingRegisters,
            0x04 => F::ReadInputRegisters,
            0x05 => F::WriteSingleCoil,
            0x06 => F::WriteSingleRegister,
            0x07 => F::ReadExceptionStatus,
            0x08 => F::Diagnostics,
            0x0B => F::GetCommEventCounter,
            0x0C => F::GetCommEventLog,
            0x0F => F::WriteMultipleCoils,
            0x10 => F::WriteMultipleRegisters,
            0x11 => F::ReportServerId,
            0x14 => F::ReadFileRecord,
            0x15 => F::WriteFileRecord,
            0x16 => F::MaskWriteRegister,
            0x17 => F::ReadWriteMultipleRegisters,
            0x18 => F::ReadFifoQueue,
            0x2B => F::ReadDeviceIdentification,
            _ => return None,
        })
    }

    /// The function code byte.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// Whether a request with this code may be broadcast (RTU slave 0): the writes.
    pub const fn broadcastable(self) -> bool {
        matches!(
            self,
            FunctionCode::WriteSingleCoil
                | FunctionCode::WriteSingleRegister
                | FunctionCode::WriteMultipleCoils
                | FunctionCode::WriteMultipleRegisters
                | FunctionCode::WriteFileRecord
                | FunctionCode::MaskWriteRegister
        )
    }
}

/// The code of an exception reply (`function | 0x80`, code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum ExceptionCode {
    /// 0x01 Illegal Function.
    IllegalFunction,
    /// 0x02 Illegal Data Address.
    IllegalDataAddress,
    /// 0x03 Illegal Data Value.
    IllegalDataValue,
    /// 0x04 Server Device Failure.
    ServerDeviceFailure,
    /// 0x05 Acknowledge (long operation accepted).
    Acknowledge,
    /// 0x06 Server Device Busy.
    ServerDeviceBusy,
    /// 0x07 Negative Acknowledge (PI-MBUS-300 era; not in V1.1b3 but still sent by old devices).
    NegativeAcknowledge,
    /// 0x08 Memory Parity Error.
    MemoryParityError,
    /// 0x0A Gateway Path Unavailable.
    GatewayPathUnavailable,
    /// 0x0B Gateway Target Device Failed to Respond.
    GatewayTargetFailedToRespond,
    /// Any other code (0x09 is not defined; vendors use others), kept as received.
    Other(u8),
}

impl ExceptionCode {
    /// The code for a byte; unknown codes become [`ExceptionCode::Other`].
    pub const fn from_u8(code: u8) -> ExceptionCode {
        match code {
            0x01 => ExceptionCode::IllegalFunction,
            0x02 => ExceptionCode::IllegalDataAddress,
            0x03 => ExceptionCode::IllegalDataValue,
            0x04 => ExceptionCode::ServerDeviceFailure,
            0x05 => ExceptionCode::Acknowledge,
            0x06 => ExceptionCode::ServerDeviceBusy,
            0x07 => ExceptionCode::NegativeAcknowledge,
            0x08 => ExceptionCode::MemoryParityError,
            0x0A => ExceptionCode::GatewayPathUnavailable,
            0x0B => ExceptionCode::GatewayTargetFailedToRespond,
            other => ExceptionCode::Other(other),
        }
    }

    /// The code byte.
    pub const fn code(self) -> u8 {
        match self {
            ExceptionCode::IllegalFunction => 0x01,
            ExceptionCode::IllegalDataAddress => 0x02,
            ExceptionCode::IllegalDataValue => 0x03,
            ExceptionCode::ServerDeviceFailure => 0x04,
            ExceptionCode::Acknowledge => 0x05,
            ExceptionCode::ServerDeviceBusy => 0x06,
            ExceptionCode::NegativeAcknowledge => 0x07,
            ExceptionCode::MemoryParityError => 0x08,
            ExceptionCode::GatewayPathUnavailable => 0x0A,
            ExceptionCode::GatewayTargetFailedToRespond => 0x0B,
            ExceptionCode::Other(code) => code,
        }
    }
}

/// Read Device Identification access codes (request field "Read Device ID code").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum ReadDeviceIdCode {
    /// 0x01: stream the basic objects (vendor, product code, revision).
    Basic,
    /// 0x02: stream the regular objects.
    Regular,
    /// 0x03: stream the extended objects.
    Extended,
    /// 0x04: one specific object.
    Specific,
}

impl ReadDeviceIdCode {
    /// The code for a byte, if it is 1..=4.
    pub const fn from_u8(code: u8) -> Option<ReadDeviceIdCode> {
        match code {
            1 => Some(ReadDeviceIdCode::Basic),
            2 => Some(ReadDeviceIdCode::Regular),
            3 => Some(ReadDeviceIdCode::Extended),
            4 => Some(ReadDeviceIdCode::Specific),
            _ => None,
        }
    }

    /// The code byte.
    pub const fn code(self) -> u8 {
        match self {
            ReadDeviceIdCode::Basic => 1,
            ReadDeviceIdCode::Regular => 2,
            ReadDeviceIdCode::Extended => 3,
            ReadDeviceIdCode::Specific => 4,
        }
    }
}

/// MEI type of Read Device Identification.
const MEI_READ_DEVICE_ID: u8 = 0x0E;
/// Reference type of every file sub-request.
const FILE_REF_TYPE: u8 = 0x06;
/// Largest FIFO count (FC18).
const MAX_FIFO_COUNT: usize = 31;

// ---------------------------------------------------------------------------------------
// Borrowed variable-length data.

/// A run of 16-bit register values, either borrowed big-endian from a frame or borrowed
/// from the caller's `&[u16]` to build a request or response.
#[derive(Clone, Copy)]
pub struct Registers<'a>(RegistersInner<'a>);

#[derive(Clone, Copy)]
enum RegistersInner<'a> {
    Wire(&'a [u8]),
    Values(&'a [u16]),
}

impl<'a> Registers<'a> {
    /// Registers from big-endian wire bytes.
    ///
    /// # Errors
    /// [`Error::Length`] when `bytes` has an odd length.
    pub fn from_wire(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() % 2 == 1 {
            return Err(Error::Length {
                expected: bytes.len() - 1,
                actual: bytes.len(),
            });
        }
        Ok(Registers(RegistersInner::Wire(bytes)))
    }

    /// Registers from values.
    pub const fn from_values(values: &'a [u16]) -> Self {
        Registers(RegistersInner::Values(values))
    }

    /// Number of registers.
    pub const fn len(&self) -> usize {
        match self.0 {
            RegistersInner::Wire(b) => b.len() / 2,
            RegistersInner::Values(v) => v.len(),
        }
    }

    /// Whether there are no registers.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of wire bytes (2 per register).
    pub const fn byte_len(&self) -> usize {
        self.len() * 2
    }

    /// The register at `index`.
    pub fn get(&self, index: usize) -> Option<u16> {
        match self.0 {
            RegistersInner::Wire(b) => b
                .as_chunks::<2>()
                .0
                .get(index)
                .map(|p| u16::from_be_bytes(*p)),
            RegistersInner::Values(v) => v.get(index).copied(),
        }
    }

    /// The register values in order.
    pub fn iter(&self) -> RegistersIter<'a> {
        RegistersIter(match self.0 {
            RegistersInner::Wire(b) => IterInner::Wire(b.as_chunks::<2>().0.iter()),
            RegistersInner::Values(v) => IterInner::Values(v.iter()),
        })
    }

    /// Copies the values into `out` and returns how many were written.
    pub fn copy_to(&self, out: &mut [u16]) -> usize {
        out.iter_mut()
            .zip(self.iter())
            .map(|(slot, v)| *slot = v)
            .count()
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        match self.0 {
            RegistersInner::Wire(b) => w.bytes(b),
            RegistersInner::Values(v) => v.iter().try_for_each(|&x| w.u16(x)),
        }
    }
}

impl<'a> IntoIterator for Registers<'a> {
    type Item = u16;
    type IntoIter = RegistersIter<'a>;

    fn into_iter(self) -> RegistersIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &Registers<'a> {
    type Item = u16;
    type IntoIter = RegistersIter<'a>;

    fn into_iter(self) -> RegistersIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Registers`] values.
#[derive(Debug, Clone)]
pub struct RegistersIter<'a>(IterInner<'a>);

#[derive(Debug, Clone)]
enum IterInner<'a> {
    Wire(core::slice::Iter<'a, [u8; 2]>),
    Values(core::slice::Iter<'a, u16>),
}

impl Iterator for RegistersIter<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        match &mut self.0 {
            IterInner::Wire(pairs) => pairs.next().map(|p| u16::from_be_bytes(*p)),
            IterInner::Values(values) => values.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterInner::Wire(pairs) => pairs.size_hint(),
            IterInner::Values(values) => values.size_hint(),
        }
    }

    // Delegating `fold` lets sums and copies over wire bytes vectorise.
    fn fold<B, F: FnMut(B, u16) -> B>(self, init: B, mut f: F) -> B {
        match self.0 {
            IterInner::Wire(pairs) => pairs.fold(init, |acc, p| f(acc, u16::from_be_bytes(*p))),
            IterInner::Values(values) => values.fold(init, |acc, &v| f(acc, v)),
        }
    }
}

impl ExactSizeIterator for RegistersIter<'_> {}

impl PartialEq for Registers<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Registers<'_> {}

impl core::fmt::Debug for Registers<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(feature = "serde-1")]
impl serde::Serialize for Registers<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(feature = "defmt-1")]
impl defmt::Format for Registers<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "[");
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                defmt::write!(f, ", ");
            }
            defmt::write!(f, "{=u16}", v);
        }
        defmt::write!(f, "]");
    }
}

/// The state of coil `index` in packed coil bytes (LSB of the first byte = first coil).
pub fn coil_state(coil_bytes: &[u8], index: usize) -> Option<bool> {
    coil_bytes.get(index / 8).map(|b| b >> (index % 8) & 1 == 1)
}

/// Packs coil states into bytes as the wire carries them, for
/// [`Request::WriteMultipleCoils`] or [`Response::ReadCoils`]; returns the bytes written.
///
/// # Errors
/// [`Error::BufferTooSmall`] when `out` is shorter than `ceil(coils.len() / 8)`.
pub fn pack_coils(coils: &[bool], out: &mut [u8]) -> Result<usize, Error> {
    let needed = coils.len().div_ceil(8);
    let available = out.len();
    let out = out
        .get_mut(..needed)
        .ok_or(Error::BufferTooSmall { needed, available })?;
    out.fill(0);
    for (byte, chunk) in out.iter_mut().zip(coils.chunks(8)) {
        for (bit, &on) in chunk.iter().enumerate() {
            *byte |= u8::from(on) << bit;
        }
    }
    Ok(needed)
}

/// Device identification objects of an FC2B/0E reply, as `(object id, value bytes)`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct DeviceObjects<'a> {
    count: u8,
    bytes: &'a [u8],
}

impl<'a> DeviceObjects<'a> {
    /// Objects from their wire form: `count` entries of `id, len, value[len]`.
    ///
    /// # Errors
    /// [`Error::Truncated`] or [`Error::Length`] when the entries do not fill `bytes` exactly.
    pub fn from_wire(count: u8, bytes: &'a [u8]) -> Result<Self, Error> {
        let end = walk_objects(count, bytes)?.ok_or(Error::Truncated {
            needed: bytes.len() + 1,
            available: bytes.len(),
        })?;
        if end != bytes.len() {
            return Err(Error::Length {
                expected: end,
                actual: bytes.len(),
            });
        }
        Ok(DeviceObjects { count, bytes })
    }

    /// Encodes `(id, value)` objects into `out` and returns them, for building a
    /// [`Response::ReadDeviceIdentification`] from arguments.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] with the size needed, [`Error::TooLong`] for a value over
    /// 255 bytes or more than 255 objects.
    pub fn encode(objects: &[(u8, &[u8])], out: &'a mut [u8]) -> Result<Self, Error> {
        let count = u8::try_from(objects.len()).map_err(|_| Error::TooLong {
            len: objects.len(),
            max: 255,
        })?;
        let mut w = Writer::new(out);
        for &(id, value) in objects {
            let len = u8::try_from(value.len()).map_err(|_| Error::TooLong {
                len: value.len(),
                max: 255,
            })?;
            w.u8(id)?;
            w.u8(len)?;
            w.bytes(value)?;
        }
        let n = w.position();
        let bytes: &'a [u8] = w.into_inner();
        Self::from_wire(count, bytes.get(..n).unwrap_or_default())
    }

    /// Number of objects.
    pub const fn count(&self) -> u8 {
        self.count
    }

    /// The wire bytes of all objects.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The objects in order.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let mut rest = self.bytes;
        core::iter::from_fn(move || {
            let (&id, tail) = rest.split_first()?;
            let (&len, tail) = tail.split_first()?;
            let value = tail.get(..usize::from(len))?;
            rest = tail.get(usize::from(len)..)?;
            Some((id, value))
        })
    }
}

impl core::fmt::Debug for DeviceObjects<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(feature = "serde-1")]
impl serde::Serialize for DeviceObjects<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Walks `count` objects (`id, len, value`); `Ok(None)` when `bytes` ends first, otherwise
/// the end offset (which may be before the end of `bytes`).
fn walk_objects(count: u8, bytes: &[u8]) -> Result<Option<usize>, Error> {
    let mut at = 0usize;
    for _ in 0..count {
        let Some(&len) = bytes.get(at + 1) else {
            return Ok(None);
        };
        at += 2 + usize::from(len);
        if at > MAX_PDU_LEN {
            return Err(Error::TooLong {
                len: at,
                max: MAX_PDU_LEN,
            });
        }
    }
    Ok(if at <= bytes.len() { Some(at) } else { None })
}

/// The three layouts of file-record data (FC14/FC15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum FileLayout {
    /// FC14 request: `06 file(2) record(2) length(2)` per sub-request.
    ReadRequest,
    /// FC14 response: `len 06 data[len-1]` per sub-response.
    ReadResponse,
    /// FC15 request and response: `06 file(2) record(2) length(2) data[2·length]`.
    Write,
}

/// One file record group of FC14/FC15.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct FileRecord<'a> {
    /// File number (0 for a read response, which does not repeat it).
    pub file: u16,
    /// Starting record number (0 for a read response).
    pub record: u16,
    /// Record length in registers.
    pub length: u16,
    /// Record data (empty in a read request).
    pub data: Registers<'a>,
}

/// Validated file-record groups of FC14/FC15, borrowed from the wire.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct FileRecords<'a> {
    layout: FileLayout,
    bytes: &'a [u8],
}

impl<'a> FileRecords<'a> {
    /// Groups from their wire form (the bytes after the byte-count field).
    ///
    /// # Errors
    /// [`Error::Field`] for a reference type other than 6 or an odd sub-response length,
    /// [`Error::Truncated`] when a group runs past the end, [`Error::ByteCount`] when the
    /// byte count is outside what the function allows.
    pub fn from_wire(layout: FileLayout, bytes: &'a [u8]) -> Result<Self, Error> {
        let function = match layout {
            FileLayout::ReadRequest | FileLayout::ReadResponse => 0x14,
            FileLayout::Write => 0x15,
        };
        let (min, max) = match layout {
            FileLayout::ReadRequest => (0x07, 0xF5),
            FileLayout::ReadResponse => (0x04, 0xF5),
            FileLayout::Write => (0x09, 0xFB),
        };
        if !(min..=max).contains(&bytes.len()) {
            let expected = bytes.len().clamp(min, max);
            return Err(Error::ByteCount {
                function,
                expected,
                actual: bytes.len(),
            });
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let (group, tail) = split_file_group(layout, rest)?;
            let ref_type = match layout {
                FileLayout::ReadResponse => group.get(1),
                _ => group.first(),
            };
            if ref_type != Some(&FILE_REF_TYPE) {
                let value = u16::from(ref_type.copied().unwrap_or_default());
                return Err(Error::Field {
                    function,
                    field: "reference type",
                    value,
                });
            }
            rest = tail;
        }
        Ok(FileRecords { layout, bytes })
    }

    /// Encodes records into `out` in `layout` and returns them, for building FC14/FC15
    /// requests and responses from arguments. A read request uses `file`, `record` and
    /// `length` (no data); a read response only `data`; a write all four, with `length`
    /// equal to the number of data registers.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] with the size needed, or the [`from_wire`](Self::from_wire)
    /// error for records the layout cannot carry.
    pub fn encode(
        layout: FileLayout,
        records: &[FileRecord<'_>],
        out: &'a mut [u8],
    ) -> Result<Self, Error> {
        let mut w = Writer::new(out);
        for r in records {
            if layout == FileLayout::ReadResponse {
                let len = u8::try_from(1 + r.data.byte_len()).map_err(|_| Error::TooLong {
                    len: 1 + r.data.byte_len(),
                    max: 255,
                })?;
                w.u8(len)?;
                w.u8(FILE_REF_TYPE)?;
                r.data.write(&mut w)?;
            } else {
                w.u8(FILE_REF_TYPE)?;
                w.u16(r.file)?;
                w.u16(r.record)?;
                w.u16(r.length)?;
                if layout == FileLayout::Write {
                    r.data.write(&mut w)?;
                }
            }
        }
        let n = w.position();
        let bytes: &'a [u8] = w.into_inner();
        Self::from_wire(layout, bytes.get(..n).unwrap_or_default())
    }

    /// The layout of these groups.
    pub const fn layout(&self) -> FileLayout {
        self.layout
    }

    /// The wire bytes of all groups.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The groups in order.
    pub fn iter(&self) -> impl Iterator<Item = FileRecord<'a>> + 'a {
        let layout = self.layout;
        let mut rest = self.bytes;
        core::iter::from_fn(move || {
            let (group, tail) = split_file_group(layout, rest).ok()?;
            rest = tail;
            let mut r = Reader::new(group);
            Some(match layout {
                FileLayout::ReadResponse => {
                    let len = r.u8().ok()?;
                    r.u8().ok()?;
                    let data = Registers::from_wire(r.bytes(usize::from(len) - 1).ok()?).ok()?;
                    let length = u16::try_from(data.len()).ok()?;
                    FileRecord {
                        file: 0,
                        record: 0,
                        length,
                        data,
                    }
                }
                FileLayout::ReadRequest | FileLayout::Write => {
                    r.u8().ok()?;
                    let (file, record, length) = (r.u16().ok()?, r.u16().ok()?, r.u16().ok()?);
                    let data = Registers::from_wire(r.rest()).ok()?;
                    FileRecord {
                        file,
                        record,
                        length,
                        data,
                    }
                }
            })
        })
    }
}

/// Splits the first group off `bytes`.
fn split_file_group(layout: FileLayout, bytes: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let len = match layout {
        FileLayout::ReadRequest => 7,
        FileLayout::ReadResponse => {
            let len = bytes.first().copied().unwrap_or_default();
            if len == 0 || len % 2 == 0 {
                // `len` counts the reference byte plus whole registers: always odd.
                return Err(Error::Field {
                    function: 0x14,
                    field: "sub-response length",
                    value: u16::from(len),
                });
            }
            1 + usize::from(len)
        }
        FileLayout::Write => {
            let words = bytes
                .get(5..7)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            7 + 2 * usize::from(words)
        }
    };
    if len > bytes.len() {
        return Err(Error::Truncated {
            needed: len,
            available: bytes.len(),
        });
    }
    Ok(bytes.split_at(len))
}

impl core::fmt::Debug for FileRecords<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(feature = "serde-1")]
impl serde::Serialize for FileRecords<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

// ---------------------------------------------------------------------------------------
// Byte cursors that never panic.

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, at: 0 }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(Error::Truncated {
                needed: self.at.saturating_add(n),
                available: self.buf.len(),
            })?;
        let out = self.buf.get(self.at..end).unwrap_or_default();
        self.at = end;
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.bytes(1)?.first().copied().unwrap_or_default())
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Error> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([
            b.first().copied().unwrap_or_default(),
            b.get(1).copied().unwrap_or_default(),
        ]))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = self.buf.get(self.at..).unwrap_or_default();
        self.at = self.buf.len();
        out
    }
}

pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, at: 0 }
    }

    pub(crate) fn bytes(&mut self, data: &[u8]) -> Result<(), Error> {
        let end = self.at + data.len();
        let available = self.buf.len();
        self.buf
            .get_mut(self.at..end)
            .ok_or(Error::BufferTooSmall {
                needed: end,
                available,
            })?
            .copy_from_slice(data);
        self.at = end;
        Ok(())
    }

    pub(crate) fn u8(&mut self, v: u8) -> Result<(), Error> {
        self.bytes(&[v])
    }

    pub(crate) fn u16(&mut self, v: u16) -> Result<(), Error> {
        self.bytes(&v.to_be_bytes())
    }

    pub(crate) fn position(&self) -> usize {
        self.at
    }

    pub(crate) fn into_inner(self) -> &'a mut [u8] {
        self.buf
    }
}

// ---------------------------------------------------------------------------------------
// Structural length: how long a PDU is, from its function code and count fields.

/// What the bytes so far say about the PDU length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PduLen {
    /// The PDU is exactly this long.
    Known(usize),
    /// At least this many PDU bytes are needed to learn the length.
    AtLeast(usize),
}

/// A count byte at `offset` followed by that many bytes, after `offset + 1` fixed bytes.
fn counted(pdu: &[u8], offset: usize) -> PduLen {
    match pdu.get(offset) {
        Some(&n) => PduLen::Known(offset + 1 + usize::from(n)),
        None => PduLen::AtLeast(offset + 1),
    }
}

fn be16_at(pdu: &[u8], offset: usize) -> Option<u16> {
    let b = pdu.get(offset..offset + 2)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

/// Checks a byte count against its quantity as soon as both are present.
fn check_count(
    function: u8,
    quantity: Option<u16>,
    count: Option<u8>,
    per: Per,
) -> Result<(), Error> {
    if let (Some(q), Some(c)) = (quantity, count) {
        let expected = per.bytes(q);
        if usize::from(c) != expected {
            return Err(Error::ByteCount {
                function,
                expected,
                actual: usize::from(c),
            });
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Per {
    Coil,
    Register,
}

impl Per {
    fn bytes(self, quantity: u16) -> usize {
        match self {
            Per::Coil => usize::from(quantity).div_ceil(8),
            Per::Register => 2 * usize::from(quantity),
        }
    }
}

/// The length of the PDU that starts `pdu`, judged by structure alone.
///
/// # Errors
/// Unknown function codes, and count fields that no valid frame can carry (checked as soon
/// as they are present, so a decoder rejects garbage without waiting for its bogus length).
#[inline(always)]
pub(crate) fn pdu_len(direction: Direction, pdu: &[u8]) -> Result<PduLen, Error> {
    use FunctionCode as F;
    let Some(&fc) = pdu.first() else {
        return Ok(PduLen::AtLeast(1));
    };
    if fc & 0x80 != 0 {
        return match direction {
            Direction::Response => Ok(PduLen::Known(2)),
            Direction::Request => Err(Error::UnknownFunction { code: fc }),
        };
    }
    let function = FunctionCode::from_u8(fc).ok_or(Error::UnknownFunction { code: fc })?;
    let count_at = |i: usize| pdu.get(i).copied();
    let len = match direction {
        Direction::Request => match function {
            F::ReadExceptionStatus
            | F::GetCommEventCounter
            | F::GetCommEventLog
            | F::ReportServerId => PduLen::Known(1),
            F::ReadFifoQueue => PduLen::Known(3),
            F::ReadDeviceIdentification => {
                if let Some(mei) = count_at(1).filter(|&m| m != MEI_READ_DEVICE_ID) {
                    return Err(Error::Field {
                        function: fc,
                        field: "MEI type",
                        value: u16::from(mei),
                    });
                }
                PduLen::Known(4)
            }
            F::ReadCoils
            | F::ReadDiscreteInputs
            | F::ReadHoldingRegisters
            | F::ReadInputRegisters
            | F::WriteSingleCoil
            | F::WriteSingleRegister
            | F::Diagnostics => PduLen::Known(5),
            F::MaskWriteRegister => PduLen::Known(7),
            F::WriteMultipleCoils => {
                check_count(fc, be16_at(pdu, 3), count_at(5), Per::Coil)?;
                counted(pdu, 5)
            }
            F::WriteMultipleRegisters => {
                check_count(fc, be16_at(pdu, 3), count_at(5), Per::Register)?;
                counted(pdu, 5)
            }
            F::ReadWriteMultipleRegisters => {
                check_count(fc, be16_at(pdu, 7), count_at(9), Per::Register)?;
                counted(pdu, 9)
            }
            F::ReadFileRecord | F::WriteFileRecord => counted(pdu, 1),
        },
        Direction::Response => match function {
            F::ReadExceptionStatus => PduLen::Known(2),
            F::ReadCoils | F::ReadDiscreteInputs => {
                if count_at(1) == Some(0) {
                    return Err(Error::ByteCount {
                        function: fc,
                        expected: 1,
                        actual: 0,
                    });
                }
                counted(pdu, 1)
            }
            F::ReadHoldingRegisters | F::ReadInputRegisters | F::ReadWriteMultipleRegisters => {
                if let Some(n) = count_at(1).filter(|n| *n == 0 || n % 2 == 1) {
                    let expected = usize::from(n.max(1)).next_multiple_of(2);
                    return Err(Error::ByteCount {
                        function: fc,
                        expected,
                        actual: usize::from(n),
                    });
                }
                counted(pdu, 1)
            }
            F::WriteSingleCoil
            | F::WriteSingleRegister
            | F::Diagnostics
            | F::GetCommEventCounter
            | F::WriteMultipleCoils
            | F::WriteMultipleRegisters => PduLen::Known(5),
            F::MaskWriteRegister => PduLen::Known(7),
            F::GetCommEventLog | F::ReportServerId | F::ReadFileRecord | F::WriteFileRecord => {
                counted(pdu, 1)
            }
            F::ReadFifoQueue => match be16_at(pdu, 1) {
                Some(n) => PduLen::Known(3 + usize::from(n)),
                None => PduLen::AtLeast(3),
            },
            F::ReadDeviceIdentification => {
                if let Some(mei) = count_at(1).filter(|&m| m != MEI_READ_DEVICE_ID) {
                    return Err(Error::Field {
                        function: fc,
                        field: "MEI type",
                        value: u16::from(mei),
                    });
                }
                match count_at(6) {
                    None => PduLen::AtLeast(7),
                    Some(n) => match walk_objects(n, pdu.get(7..).unwrap_or_default())? {
                        Some(end) => PduLen::Known(7 + end),
                        // Not all objects are here: at least one more header byte is needed.
                        None => PduLen::AtLeast(pdu.len() + 1),
                    },
                }
            }
        },
    };
    if let PduLen::Known(n) = len
        && n > MAX_PDU_LEN
    {
        return Err(Error::TooLong {
            len: n,
            max: MAX_PDU_LEN,
        });
    }
    Ok(len)
}

/// Checks that `pdu` is exactly one complete PDU.
#[inline(always)]
fn exact_len(direction: Direction, pdu: &[u8]) -> Result<(), Error> {
    match pdu_len(direction, pdu)? {
        PduLen::Known(n) if n == pdu.len() => Ok(()),
        PduLen::Known(n) if n > pdu.len() => Err(Error::Truncated {
            needed: n,
            available: pdu.len(),
        }),
        PduLen::Known(n) => Err(Error::Length {
            expected: n,
            actual: pdu.len(),
        }),
        PduLen::AtLeast(n) => Err(Error::Truncated {
            needed: n,
            available: pdu.len(),
        }),
    }
}

fn check_quantity(function: FunctionCode, quantity: u16, max: u16) -> Result<(), Error> {
    if quantity == 0 || quantity > max {
        return Err(Error::Quantity {
            function: function.code(),
            quantity,
            max,
        });
    }
    Ok(())
}

fn coil_value(value: u16) -> Result<bool, Error> {
    match value {
        0xFF00 => Ok(true),
        0x0000 => Ok(false),
        value => Err(Error::CoilValue { value }),
    }
}

const fn coil_word(on: bool) -> u16 {
    if on { 0xFF00 } else { 0x0000 }
}

fn count_byte(function: FunctionCode, n: usize) -> Result<u8, Error> {
    u8::try_from(n).map_err(|_| Error::ByteCount {
        function: function.code(),
        expected: 255,
        actual: n,
    })
}

fn file_layout_matches(
    function: FunctionCode,
    records: &FileRecords<'_>,
    layout: FileLayout,
) -> Result<(), Error> {
    if records.layout != layout {
        return Err(Error::Field {
            function: function.code(),
            field: "file record layout",
            value: 0,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Requests.

/// A request PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum Request<'a> {
    /// FC01: read `quantity` (1–2000) coils from `address`.
    ReadCoils {
        /// First coil.
        address: u16,
        /// Number of coils, 1–2000.
        quantity: u16,
    },
    /// FC02: read `quantity` (1–2000) discrete inputs from `address`.
    ReadDiscreteInputs {
        /// First input.
        address: u16,
        /// Number of inputs, 1–2000.
        quantity: u16,
    },
    /// FC03: read `quantity` (1–125) holding registers from `address`.
    ReadHoldingRegisters {
        /// First register.
        address: u16,
        /// Number of registers, 1–125.
        quantity: u16,
    },
    /// FC04: read `quantity` (1–125) input registers from `address`.
    ReadInputRegisters {
        /// First register.
        address: u16,
        /// Number of registers, 1–125.
        quantity: u16,
    },
    /// FC05: set one coil (wire value 0xFF00 = on, 0x0000 = off).
    WriteSingleCoil {
        /// The coil.
        address: u16,
        /// New state.
        on: bool,
    },
    /// FC06: write one register.
    WriteSingleRegister {
        /// The register.
        address: u16,
        /// New value.
        value: u16,
    },
    /// FC07: read the eight exception status outputs.
    ReadExceptionStatus,
    /// FC08: diagnostics sub-function with its 16-bit data field.
    ///
    /// Every sub-function the specification defines carries one data word except 0x0000
    /// *Return Query Data*, whose echo may be longer. FC08 has no byte count, so a longer echo
    /// cannot be framed by structure on a serial line: FC08 is read with one word here (as
    /// libmodbus does), and a longer echo is not decoded (its CRC does not match at that
    /// length; over TCP its MBAP length does not).
    Diagnostics {
        /// Sub-function code.
        sub_function: u16,
        /// Data field.
        data: u16,
    },
    /// FC0B: get the communication event counter.
    GetCommEventCounter,
    /// FC0C: get the communication event log.
    GetCommEventLog,
    /// FC0F: write `quantity` (1–1968) coils packed in `coil_bytes` (see [`pack_coils`]).
    WriteMultipleCoils {
        /// First coil.
        address: u16,
        /// Number of coils, 1–1968.
        quantity: u16,
        /// `ceil(quantity / 8)` packed bytes.
        coil_bytes: &'a [u8],
    },
    /// FC10: write 1–123 registers starting at `address`.
    WriteMultipleRegisters {
        /// First register.
        address: u16,
        /// Values, 1–123.
        registers: Registers<'a>,
    },
    /// FC11: report the server id.
    ReportServerId,
    /// FC14: read file record sub-requests ([`FileLayout::ReadRequest`]).
    ReadFileRecord {
        /// The sub-requests.
        records: FileRecords<'a>,
    },
    /// FC15: write file records ([`FileLayout::Write`]).
    WriteFileRecord {
        /// The records.
        records: FileRecords<'a>,
    },
    /// FC16: `register = (register & and_mask) | (or_mask & !and_mask)`.
    MaskWriteRegister {
        /// The register.
        address: u16,
        /// AND mask.
        and_mask: u16,
        /// OR mask.
        or_mask: u16,
    },
    /// FC17: write 1–121 registers, then read 1–125 (the write happens first).
    ReadWriteMultipleRegisters {
        /// First register to read.
        read_address: u16,
        /// Number to read, 1–125.
        read_quantity: u16,
        /// First register to write.
        write_address: u16,
        /// Values to write, 1–121.
        registers: Registers<'a>,
    },
    /// FC18: read the FIFO queue at `address`.
    ReadFifoQueue {
        /// FIFO pointer address.
        address: u16,
    },
    /// FC2B/0E: read device identification.
    ReadDeviceIdentification {
        /// Which object category to stream.
        code: ReadDeviceIdCode,
        /// First object to return.
        object_id: u8,
    },
}

impl<'a> Request<'a> {
    /// Parses exactly one request PDU (function code first, no address, no CRC).
    ///
    /// # Errors
    /// Any [`Error`] describing the first rule the bytes break: unknown function, wrong
    /// length, byte count not matching the quantity, quantity outside the function's limits,
    /// invalid coil value, MEI type or device id code.
    #[inline(always)]
    pub fn parse(pdu: &'a [u8]) -> Result<Self, Error> {
        use FunctionCode as F;
        exact_len(Direction::Request, pdu)?;
        let mut r = Reader::new(pdu);
        let fc = r.u8()?;
        let function = FunctionCode::from_u8(fc).ok_or(Error::UnknownFunction { code: fc })?;
        let request = match function {
            F::ReadCoils => Request::ReadCoils {
                address: r.u16()?,
                quantity: r.u16()?,
            },
            F::ReadDiscreteInputs => Request::ReadDiscreteInputs {
                address: r.u16()?,
                quantity: r.u16()?,
            },
            F::ReadHoldingRegisters => Request::ReadHoldingRegisters {
                address: r.u16()?,
                quantity: r.u16()?,
            },
            F::ReadInputRegisters => Request::ReadInputRegisters {
                address: r.u16()?,
                quantity: r.u16()?,
            },
            F::WriteSingleCoil => Request::WriteSingleCoil {
                address: r.u16()?,
                on: coil_value(r.u16()?)?,
            },
            F::WriteSingleRegister => Request::WriteSingleRegister {
                address: r.u16()?,
                value: r.u16()?,
            },
            F::ReadExceptionStatus => Request::ReadExceptionStatus,
            F::Diagnostics => Request::Diagnostics {
                sub_function: r.u16()?,
                data: r.u16()?,
            },
            F::GetCommEventCounter => Request::GetCommEventCounter,
            F::GetCommEventLog => Request::GetCommEventLog,
            F::WriteMultipleCoils => {
                let (address, quantity, _count) = (r.u16()?, r.u16()?, r.u8()?);
                Request::WriteMultipleCoils {
                    address,
                    quantity,
                    coil_bytes: r.rest(),
                }
            }
            F::WriteMultipleRegisters => {
                let (address, _quantity, _count) = (r.u16()?, r.u16()?, r.u8()?);
                Request::WriteMultipleRegisters {
                    address,
                    registers: Registers::from_wire(r.rest())?,
                }
            }
            F::ReportServerId => Request::ReportServerId,
            F::ReadFileRecord => {
                r.u8()?;
                Request::ReadFileRecord {
                    records: FileRecords::from_wire(FileLayout::ReadRequest, r.rest())?,
                }
            }
            F::WriteFileRecord => {
                r.u8()?;
                Request::WriteFileRecord {
                    records: FileRecords::from_wire(FileLayout::Write, r.rest())?,
                }
            }
            F::MaskWriteRegister => Request::MaskWriteRegister {
                address: r.u16()?,
                and_mask: r.u16()?,
                or_mask: r.u16()?,
            },
            F::ReadWriteMultipleRegisters => {
                let (read_address, read_quantity, write_address) = (r.u16()?, r.u16()?, r.u16()?);
                let (_quantity, _count) = (r.u16()?, r.u8()?);
                let registers = Registers::from_wire(r.rest())?;
                Request::ReadWriteMultipleRegisters {
                    read_address,
                    read_quantity,
                    write_address,
                    registers,
                }
            }
            F::ReadFifoQueue => Request::ReadFifoQueue { address: r.u16()? },
            F::ReadDeviceIdentification => {
                r.u8()?; // MEI type, checked by `exact_len`
                let code = r.u8()?;
                let code = ReadDeviceIdCode::from_u8(code).ok_or(Error::Field {
                    function: fc,
                    field: "read device id code",
                    value: u16::from(code),
                })?;
                Request::ReadDeviceIdentification {
                    code,
                    object_id: r.u8()?,
                }
            }
        };
        request.check()?;
        Ok(request)
    }

    /// Checks the limits the wire format cannot express: quantities and byte counts.
    ///
    /// # Errors
    /// [`Error::Quantity`] or [`Error::ByteCount`] for the first limit broken.
    #[inline(always)]
    pub fn check(&self) -> Result<(), Error> {
        let function = self.function();
        match *self {
            Request::ReadCoils { quantity, .. } | Request::ReadDiscreteInputs { quantity, .. } => {
                check_quantity(function, quantity, 2000)
            }
            Request::ReadHoldingRegisters { quantity, .. }
            | Request::ReadInputRegisters { quantity, .. } => {
                check_quantity(function, quantity, 125)
            }
            Request::WriteMultipleCoils {
                quantity,
                coil_bytes,
                ..
            } => {
                check_quantity(function, quantity, 1968)?;
                let expected = usize::from(quantity).div_ceil(8);
                if coil_bytes.len() != expected {
                    return Err(Error::ByteCount {
                        function: function.code(),
                        expected,
                        actual: coil_bytes.len(),
                    });
                }
                Ok(())
            }
            Request::WriteMultipleRegisters { registers, .. } => check_quantity(
                function,
                u16::try_from(registers.len()).unwrap_or(u16::MAX),
                123,
            ),
            Request::ReadWriteMultipleRegisters {
                read_quantity,
                registers,
                ..
            } => {
                check_quantity(function, read_quantity, 125)?;
                check_quantity(
                    function,
                    u16::try_from(registers.len()).unwrap_or(u16::MAX),
                    121,
                )
            }
            Request::ReadFileRecord { records } => {
                file_layout_matches(function, &records, FileLayout::ReadRequest)
            }
            Request::WriteFileRecord { records } => {
                file_layout_matches(function, &records, FileLayout::Write)
            }
            _ => Ok(()),
        }
    }

    /// The function code.
    pub const fn function(&self) -> FunctionCode {
        use FunctionCode as F;
        match self {
            Request::ReadCoils { .. } => F::ReadCoils,
            Request::ReadDiscreteInputs { .. } => F::ReadDiscreteInputs,
            Request::ReadHoldingRegisters { .. } => F::ReadHoldingRegisters,
            Request::ReadInputRegisters { .. } => F::ReadInputRegisters,
            Request::WriteSingleCoil { .. } => F::WriteSingleCoil,
            Request::WriteSingleRegister { .. } => F::WriteSingleRegister,
            Request::ReadExceptionStatus => F::ReadExceptionStatus,
            Request::Diagnostics { .. } => F::Diagnostics,
            Request::GetCommEventCounter => F::GetCommEventCounter,
            Request::GetCommEventLog => F::GetCommEventLog,
            Request::WriteMultipleCoils { .. } => F::WriteMultipleCoils,
            Request::WriteMultipleRegisters { .. } => F::WriteMultipleRegisters,
            Request::ReportServerId => F::ReportServerId,
            Request::ReadFileRecord { .. } => F::ReadFileRecord,
            Request::WriteFileRecord { .. } => F::WriteFileRecord,
            Request::MaskWriteRegister { .. } => F::MaskWriteRegister,
            Request::ReadWriteMultipleRegisters { .. } => F::ReadWriteMultipleRegisters,
            Request::ReadFifoQueue { .. } => F::ReadFifoQueue,
            Request::ReadDeviceIdentification { .. } => F::ReadDeviceIdentification,
        }
    }

    /// The starting address (the read address for FC17).
    pub const fn address(&self) -> Option<u16> {
        match *self {
            Request::ReadCoils { address, .. }
            | Request::ReadDiscreteInputs { address, .. }
            | Request::ReadHoldingRegisters { address, .. }
            | Request::ReadInputRegisters { address, .. }
            | Request::WriteSingleCoil { address, .. }
            | Request::WriteSingleRegister { address, .. }
            | Request::WriteMultipleCoils { address, .. }
            | Request::WriteMultipleRegisters { address, .. }
            | Request::MaskWriteRegister { address, .. }
            | Request::ReadFifoQueue { address } => Some(address),
            Request::ReadWriteMultipleRegisters { read_address, .. } => Some(read_address),
            _ => None,
        }
    }

    /// The quantity of coils or registers (read quantity for FC17).
    pub fn quantity(&self) -> Option<u16> {
        match *self {
            Request::ReadCoils { quantity, .. }
            | Request::ReadDiscreteInputs { quantity, .. }
            | Request::ReadHoldingRegisters { quantity, .. }
            | Request::ReadInputRegisters { quantity, .. }
            | Request::WriteMultipleCoils { quantity, .. } => Some(quantity),
            Request::WriteMultipleRegisters { registers, .. } => {
                u16::try_from(registers.len()).ok()
            }
            Request::ReadWriteMultipleRegisters { read_quantity, .. } => Some(read_quantity),
            _ => None,
        }
    }

    /// The 16-bit value of FC05 (0xFF00 / 0x0000) and FC06.
    pub const fn value(&self) -> Option<u16> {
        match *self {
            Request::WriteSingleCoil { on, .. } => Some(coil_word(on)),
            Request::WriteSingleRegister { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The register values written by FC10 and FC17.
    pub const fn registers(&self) -> Option<Registers<'a>> {
        match *self {
            Request::WriteMultipleRegisters { registers, .. }
            | Request::ReadWriteMultipleRegisters { registers, .. } => Some(registers),
            _ => None,
        }
    }

    /// The packed coil bytes of FC0F.
    pub const fn coil_bytes(&self) -> Option<&'a [u8]> {
        match *self {
            Request::WriteMultipleCoils { coil_bytes, .. } => Some(coil_bytes),
            _ => None,
        }
    }

    /// The byte-count field, for the functions that carry one.
    pub fn byte_count(&self) -> Option<usize> {
        match *self {
            Request::WriteMultipleCoils { coil_bytes, .. } => Some(coil_bytes.len()),
            Request::WriteMultipleRegisters { registers, .. }
            | Request::ReadWriteMultipleRegisters { registers, .. } => Some(registers.byte_len()),
            Request::ReadFileRecord { records } | Request::WriteFileRecord { records } => {
                Some(records.bytes.len())
            }
            _ => None,
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        match *self {
            Request::ReadExceptionStatus
            | Request::GetCommEventCounter
            | Request::GetCommEventLog
            | Request::ReportServerId => 1,
            Request::ReadFifoQueue { .. } => 3,
            Request::ReadDeviceIdentification { .. } => 4,
            Request::MaskWriteRegister { .. } => 7,
            Request::WriteMultipleCoils { coil_bytes, .. } => 6 + coil_bytes.len(),
            Request::WriteMultipleRegisters { registers, .. } => 6 + registers.byte_len(),
            Request::ReadWriteMultipleRegisters { registers, .. } => 10 + registers.byte_len(),
            Request::ReadFileRecord { records } | Request::WriteFileRecord { records } => {
                2 + records.bytes.len()
            }
            _ => 5,
        }
    }

    /// Writes the PDU into `buf` and returns its length.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] with the size needed, or the [`check`](Self::check) error.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.check()?;
        let needed = self.buffer_len();
        if buf.len() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let function = self.function();
        let mut w = Writer::new(buf);
        w.u8(function.code())?;
        match *self {
            Request::ReadCoils { address, quantity }
            | Request::ReadDiscreteInputs { address, quantity }
            | Request::ReadHoldingRegisters { address, quantity }
            | Request::ReadInputRegisters { address, quantity } => {
                w.u16(address)?;
                w.u16(quantity)?;
            }
            Request::WriteSingleCoil { address, on } => {
                w.u16(address)?;
                w.u16(coil_word(on))?;
            }
            Request::WriteSingleRegister { address, value: a }
            | Request::Diagnostics {
                sub_function: address,
                data: a,
            } => {
                w.u16(address)?;
                w.u16(a)?;
            }
            Request::ReadExceptionStatus
            | Request::GetCommEventCounter
            | Request::GetCommEventLog
            | Request::ReportServerId => {}
            Request::WriteMultipleCoils {
                address,
                quantity,
                coil_bytes,
            } => {
                w.u16(address)?;
                w.u16(quantity)?;
                w.u8(count_byte(function, coil_bytes.len())?)?;
                w.bytes(coil_bytes)?;
            }
            Request::WriteMultipleRegisters { address, registers } => {
                w.u16(address)?;
                w.u16(u16::try_from(registers.len()).unwrap_or(u16::MAX))?;
                w.u8(count_byte(function, registers.byte_len())?)?;
                registers.write(&mut w)?;
            }
            Request::ReadFileRecord { records } | Request::WriteFileRecord { records } => {
                w.u8(count_byte(function, records.bytes.len())?)?;
                w.bytes(records.bytes)?;
            }
            Request::MaskWriteRegister {
                address,
                and_mask,
                or_mask,
            } => {
                w.u16(address)?;
                w.u16(and_mask)?;
                w.u16(or_mask)?;
            }
            Request::ReadWriteMultipleRegisters {
                read_address,
                read_quantity,
                write_address,
                registers,
            } => {
                w.u16(read_address)?;
                w.u16(read_quantity)?;
                w.u16(write_address)?;
                w.u16(u16::try_from(registers.len()).unwrap_or(u16::MAX))?;
                w.u8(count_byte(function, registers.byte_len())?)?;
                registers.write(&mut w)?;
            }
            Request::ReadFifoQueue { address } => w.u16(address)?,
            Request::ReadDeviceIdentification { code, object_id } => {
                w.u8(MEI_READ_DEVICE_ID)?;
                w.u8(code.code())?;
                w.u8(object_id)?;
            }
        }
        Ok(w.position())
    }
}

// ---------------------------------------------------------------------------------------
// Responses.

/// A response PDU, including exception replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum Response<'a> {
    /// FC01: packed coil states (LSB of the first byte = first coil).
    ReadCoils {
        /// 1–250 packed bytes.
        coil_bytes: &'a [u8],
    },
    /// FC02: packed input states.
    ReadDiscreteInputs {
        /// 1–250 packed bytes.
        coil_bytes: &'a [u8],
    },
    /// FC03: register values.
    ReadHoldingRegisters {
        /// 1–125 values.
        registers: Registers<'a>,
    },
    /// FC04: register values.
    ReadInputRegisters {
        /// 1–125 values.
        registers: Registers<'a>,
    },
    /// FC05: echo of the request.
    WriteSingleCoil {
        /// The coil.
        address: u16,
        /// New state.
        on: bool,
    },
    /// FC06: echo of the request.
    WriteSingleRegister {
        /// The register.
        address: u16,
        /// New value.
        value: u16,
    },
    /// FC07: the eight exception status outputs.
    ReadExceptionStatus {
        /// Output states.
        status: u8,
    },
    /// FC08: the sub-function and its data (an echo for most sub-functions).
    Diagnostics {
        /// Sub-function code.
        sub_function: u16,
        /// Data field.
        data: u16,
    },
    /// FC0B: status word and event counter.
    GetCommEventCounter {
        /// 0xFFFF while a previous command is still being processed.
        status: u16,
        /// Event counter.
        event_count: u16,
    },
    /// FC0C: status, counters and up to 64 event bytes.
    GetCommEventLog {
        /// Status word.
        status: u16,
        /// Event counter.
        event_count: u16,
        /// Bus message counter.
        message_count: u16,
        /// Event bytes, newest first.
        events: &'a [u8],
    },
    /// FC0F: address and quantity written.
    WriteMultipleCoils {
        /// First coil.
        address: u16,
        /// Coils written, 1–1968.
        quantity: u16,
    },
    /// FC10: address and quantity written.
    WriteMultipleRegisters {
        /// First register.
        address: u16,
        /// Registers written, 1–123.
        quantity: u16,
    },
    /// FC11: device-specific server id, then the run indicator (0x00 off, 0xFF on).
    ReportServerId {
        /// The data after the byte count (at least the run indicator).
        data: &'a [u8],
    },
    /// FC14: file sub-responses ([`FileLayout::ReadResponse`]).
    ReadFileRecord {
        /// The sub-responses.
        records: FileRecords<'a>,
    },
    /// FC15: echo of the request ([`FileLayout::Write`]).
    WriteFileRecord {
        /// The records written.
        records: FileRecords<'a>,
    },
    /// FC16: echo of the request.
    MaskWriteRegister {
        /// The register.
        address: u16,
        /// AND mask.
        and_mask: u16,
        /// OR mask.
        or_mask: u16,
    },
    /// FC17: the registers read.
    ReadWriteMultipleRegisters {
        /// 1–125 values.
        registers: Registers<'a>,
    },
    /// FC18: the queued values (0–31).
    ReadFifoQueue {
        /// Queue contents.
        values: Registers<'a>,
    },
    /// FC2B/0E: device identification objects.
    ReadDeviceIdentification {
        /// Access code of the request.
        code: ReadDeviceIdCode,
        /// Conformity level of the device.
        conformity: u8,
        /// Whether more objects follow in another transaction.
        more_follows: bool,
        /// Object id to ask for next when `more_follows`.
        next_object_id: u8,
        /// The objects.
        objects: DeviceObjects<'a>,
    },
    /// An exception reply.
    Exception {
        /// Function code of the failed request (without the 0x80 bit).
        function: u8,
        /// Why it failed.
        code: ExceptionCode,
    },
}

impl<'a> Response<'a> {
    /// Parses exactly one response PDU (function code first, no address, no CRC).
    ///
    /// # Errors
    /// Any [`Error`] describing the first rule the bytes break (see [`Request::parse`]).
    #[inline(always)]
    pub fn parse(pdu: &'a [u8]) -> Result<Self, Error> {
        use FunctionCode as F;
        exact_len(Direction::Response, pdu)?;
        let mut r = Reader::new(pdu);
        let fc = r.u8()?;
        if fc & 0x80 != 0 {
            return Ok(Response::Exception {
                function: fc & 0x7F,
                code: ExceptionCode::from_u8(r.u8()?),
            });
        }
        let function = FunctionCode::from_u8(fc).ok_or(Error::UnknownFunction { code: fc })?;
        let response = match function {
            F::ReadCoils => {
                r.u8()?;
                Response::ReadCoils {
                    coil_bytes: r.rest(),
                }
            }
            F::ReadDiscreteInputs => {
                r.u8()?;
                Response::ReadDiscreteInputs {
                    coil_bytes: r.rest(),
                }
            }
            F::ReadHoldingRegisters => {
                r.u8()?;
                Response::ReadHoldingRegisters {
                    registers: Registers::from_wire(r.rest())?,
                }
            }
            F::ReadInputRegisters => {
                r.u8()?;
                Response::ReadInputRegisters {
                    registers: Registers::from_wire(r.rest())?,
                }
            }
            F::ReadWriteMultipleRegisters => {
                r.u8()?;
                Response::ReadWriteMultipleRegisters {
                    registers: Registers::from_wire(r.rest())?,
                }
            }
            F::WriteSingleCoil => Response::WriteSingleCoil {
                address: r.u16()?,
                on: coil_value(r.u16()?)?,
            },
            F::WriteSingleRegister => Response::WriteSingleRegister {
                address: r.u16()?,
                value: r.u16()?,
            },
            F::ReadExceptionStatus => Response::ReadExceptionStatus { status: r.u8()? },
            F::Diagnostics => Response::Diagnostics {
                sub_function: r.u16()?,
                data: r.u16()?,
            },
            F::GetCommEventCounter => Response::GetCommEventCounter {
                status: r.u16()?,
                event_count: r.u16()?,
            },
            F::GetCommEventLog => {
                let count = r.u8()?;
                if !(6..=70).contains(&count) {
                    let expected = usize::from(count).clamp(6, 70);
                    return Err(Error::ByteCount {
                        function: fc,
                        expected,
                        actual: usize::from(count),
                    });
                }
                let (status, event_count, message_count) = (r.u16()?, r.u16()?, r.u16()?);
                Response::GetCommEventLog {
                    status,
                    event_count,
                    message_count,
                    events: r.rest(),
                }
            }
            F::WriteMultipleCoils => Response::WriteMultipleCoils {
                address: r.u16()?,
                quantity: r.u16()?,
            },
            F::WriteMultipleRegisters => Response::WriteMultipleRegisters {
                address: r.u16()?,
                quantity: r.u16()?,
            },
            F::ReportServerId => {
                r.u8()?;
                Response::ReportServerId { data: r.rest() }
            }
            F::ReadFileRecord => {
                r.u8()?;
                Response::ReadFileRecord {
                    records: FileRecords::from_wire(FileLayout::ReadResponse, r.rest())?,
                }
            }
            F::WriteFileRecord => {
                r.u8()?;
                Response::WriteFileRecord {
                    records: FileRecords::from_wire(FileLayout::Write, r.rest())?,
                }
            }
            F::MaskWriteRegister => Response::MaskWriteRegister {
                address: r.u16()?,
                and_mask: r.u16()?,
                or_mask: r.u16()?,
            },
            F::ReadFifoQueue => {
                let count = usize::from(r.u16()?);
                let fifo_count = usize::from(r.u16()?);
                if count != 2 + 2 * fifo_count {
                    return Err(Error::ByteCount {
                        function: fc,
                        expected: 2 + 2 * fifo_count,
                        actual: count,
                    });
                }
                Response::ReadFifoQueue {
                    values: Registers::from_wire(r.rest())?,
                }
            }
            F::ReadDeviceIdentification => {
                r.u8()?; // MEI type, checked by `exact_len`
                let code = r.u8()?;
                let code = ReadDeviceIdCode::from_u8(code).ok_or(Error::Field {
                    function: fc,
                    field: "read device id code",
                    value: u16::from(code),
                })?;
                let conformity = r.u8()?;
                let more_follows = match r.u8()? {
                    0x00 => false,
                    0xFF => true,
                    other => {
                        return Err(Error::Field {
                            function: fc,
                            field: "more follows",
                            value: u16::from(other),
                        });
                    }
                };
                let next_object_id = r.u8()?;
                let objects = DeviceObjects::from_wire(r.u8()?, r.rest())?;
                Response::ReadDeviceIdentification {
                    code,
                    conformity,
                    more_follows,
                    next_object_id,
                    objects,
                }
            }
        };
        response.check()?;
        Ok(response)
    }

    /// Checks the limits the wire format cannot express.
    ///
    /// # Errors
    /// [`Error::Quantity`] or [`Error::ByteCount`] for the first limit broken.
    #[inline(always)]
    pub fn check(&self) -> Result<(), Error> {
        let Some(function) = self.function() else {
            return Ok(());
        };
        let fc = function.code();
        let count_range = |n: usize, min: usize, max: usize| {
            if (min..=max).contains(&n) {
                Ok(())
            } else {
                Err(Error::ByteCount {
                    function: fc,
                    expected: n.clamp(min, max),
                    actual: n,
                })
            }
        };
        match *self {
            Response::ReadCoils { coil_bytes } | Response::ReadDiscreteInputs { coil_bytes } => {
                count_range(coil_bytes.len(), 1, 250)
            }
            Response::ReadHoldingRegisters { registers }
            | Response::ReadInputRegisters { registers }
            | Response::ReadWriteMultipleRegisters { registers } => {
                count_range(registers.byte_len(), 2, 250)
            }
            Response::GetCommEventLog { events, .. } => count_range(events.len(), 0, 64),
            Response::ReportServerId { data } => count_range(data.len(), 1, MAX_PDU_LEN - 2),
            Response::WriteMultipleCoils { quantity, .. } => {
                check_quantity(function, quantity, 1968)
            }
            Response::WriteMultipleRegisters { quantity, .. } => {
                check_quantity(function, quantity, 123)
            }
            Response::ReadFifoQueue { values } => count_range(values.len(), 0, MAX_FIFO_COUNT),
            Response::ReadFileRecord { records } => {
                file_layout_matches(function, &records, FileLayout::ReadResponse)
            }
            Response::WriteFileRecord { records } => {
                file_layout_matches(function, &records, FileLayout::Write)
            }
            _ => Ok(()),
        }
    }

    /// The function code, or `None` for an exception to a function this crate does not know.
    pub fn function(&self) -> Option<FunctionCode> {
        use FunctionCode as F;
        Some(match self {
            Response::ReadCoils { .. } => F::ReadCoils,
            Response::ReadDiscreteInputs { .. } => F::ReadDiscreteInputs,
            Response::ReadHoldingRegisters { .. } => F::ReadHoldingRegisters,
            Response::ReadInputRegisters { .. } => F::ReadInputRegisters,
            Response::WriteSingleCoil { .. } => F::WriteSingleCoil,
            Response::WriteSingleRegister { .. } => F::WriteSingleRegister,
            Response::ReadExceptionStatus { .. } => F::ReadExceptionStatus,
            Response::Diagnostics { .. } => F::Diagnostics,
            Response::GetCommEventCounter { .. } => F::GetCommEventCounter,
            Response::GetCommEventLog { .. } => F::GetCommEventLog,
            Response::WriteMultipleCoils { .. } => F::WriteMultipleCoils,
            Response::WriteMultipleRegisters { .. } => F::WriteMultipleRegisters,
            Response::ReportServerId { .. } => F::ReportServerId,
            Response::ReadFileRecord { .. } => F::ReadFileRecord,
            Response::WriteFileRecord { .. } => F::WriteFileRecord,
            Response::MaskWriteRegister { .. } => F::MaskWriteRegister,
            Response::ReadWriteMultipleRegisters { .. } => F::ReadWriteMultipleRegisters,
            Response::ReadFifoQueue { .. } => F::ReadFifoQueue,
            Response::ReadDeviceIdentification { .. } => F::ReadDeviceIdentification,
            Response::Exception { function, .. } => return FunctionCode::from_u8(*function),
        })
    }

    /// The function code byte without the 0x80 exception bit.
    pub fn function_code(&self) -> u8 {
        match self {
            Response::Exception { function, .. } => *function,
            other => other.function().map_or(0, FunctionCode::code),
        }
    }

    /// The exception code of an exception reply.
    pub const fn exception(&self) -> Option<ExceptionCode> {
        match *self {
            Response::Exception { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The address echoed by FC05, FC06, FC0F, FC10 and FC16.
    pub const fn address(&self) -> Option<u16> {
        match *self {
            Response::WriteSingleCoil { address, .. }
            | Response::WriteSingleRegister { address, .. }
            | Response::WriteMultipleCoils { address, .. }
            | Response::WriteMultipleRegisters { address, .. }
            | Response::MaskWriteRegister { address, .. } => Some(address),
            _ => None,
        }
    }

    /// The quantity echoed by FC0F and FC10.
    pub const fn quantity(&self) -> Option<u16> {
        match *self {
            Response::WriteMultipleCoils { quantity, .. }
            | Response::WriteMultipleRegisters { quantity, .. } => Some(quantity),
            _ => None,
        }
    }

    /// The value echoed by FC05 (0xFF00 / 0x0000) and FC06.
    pub const fn value(&self) -> Option<u16> {
        match *self {
            Response::WriteSingleCoil { on, .. } => Some(coil_word(on)),
            Response::WriteSingleRegister { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The register values of FC03, FC04, FC17 and FC18.
    pub const fn registers(&self) -> Option<Registers<'a>> {
        match *self {
            Response::ReadHoldingRegisters { registers }
            | Response::ReadInputRegisters { registers }
            | Response::ReadWriteMultipleRegisters { registers }
            | Response::ReadFifoQueue { values: registers } => Some(registers),
            _ => None,
        }
    }

    /// The packed coil or input bytes of FC01 and FC02.
    pub const fn coil_bytes(&self) -> Option<&'a [u8]> {
        match *self {
            Response::ReadCoils { coil_bytes } | Response::ReadDiscreteInputs { coil_bytes } => {
                Some(coil_bytes)
            }
            _ => None,
        }
    }

    /// The byte-count field, for the functions that carry one.
    pub fn byte_count(&self) -> Option<usize> {
        match *self {
            Response::ReadCoils { coil_bytes } | Response::ReadDiscreteInputs { coil_bytes } => {
                Some(coil_bytes.len())
            }
            Response::ReadHoldingRegisters { registers }
            | Response::ReadInputRegisters { registers }
            | Response::ReadWriteMultipleRegisters { registers } => Some(registers.byte_len()),
            Response::ReadFifoQueue { values } => Some(2 + values.byte_len()),
            Response::GetCommEventLog { events, .. } => Some(6 + events.len()),
            Response::ReportServerId { data } => Some(data.len()),
            Response::ReadFileRecord { records } | Response::WriteFileRecord { records } => {
                Some(records.bytes.len())
            }
            _ => None,
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        match *self {
            Response::Exception { .. } | Response::ReadExceptionStatus { .. } => 2,
            Response::ReadFifoQueue { values } => 5 + values.byte_len(),
            Response::GetCommEventLog { events, .. } => 8 + events.len(),
            Response::ReadDeviceIdentification { objects, .. } => 7 + objects.bytes.len(),
            Response::MaskWriteRegister { .. } => 7,
            Response::WriteSingleCoil { .. }
            | Response::WriteSingleRegister { .. }
            | Response::Diagnostics { .. }
            | Response::GetCommEventCounter { .. }
            | Response::WriteMultipleCoils { .. }
            | Response::WriteMultipleRegisters { .. } => 5,
            other => 2 + other.byte_count().unwrap_or_default(),
        }
    }

    /// Writes the PDU into `buf` and returns its length.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] with the size needed, or the [`check`](Self::check) error.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.check()?;
        let needed = self.buffer_len();
        if buf.len() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let mut w = Writer::new(buf);
        let fc = self.function_code();
        let function = self.function().unwrap_or(FunctionCode::ReadCoils);
        if let Response::Exception { code, .. } = *self {
            w.u8(fc | 0x80)?;
            w.u8(code.code())?;
            return Ok(w.position());
        }
        w.u8(fc)?;
        match *self {
            Response::ReadCoils { coil_bytes: bytes }
            | Response::ReadDiscreteInputs { coil_bytes: bytes }
            | Response::ReportServerId { data: bytes } => {
                w.u8(count_byte(function, bytes.len())?)?;
                w.bytes(bytes)?;
            }
            Response::ReadFileRecord { records } | Response::WriteFileRecord { records } => {
                w.u8(count_byte(function, records.bytes.len())?)?;
                w.bytes(records.bytes)?;
            }
            Response::ReadHoldingRegisters { registers }
            | Response::ReadInputRegisters { registers }
            | Response::ReadWriteMultipleRegisters { registers } => {
                w.u8(count_byte(function, registers.byte_len())?)?;
                registers.write(&mut w)?;
            }
            Response::WriteSingleCoil { address, on } => {
                w.u16(address)?;
                w.u16(coil_word(on))?;
            }
            Response::WriteSingleRegister {
                address: a,
                value: b,
            }
            | Response::Diagnostics {
                sub_function: a,
                data: b,
            }
            | Response::GetCommEventCounter {
                status: a,
                event_count: b,
            }
            | Response::WriteMultipleCoils {
                address: a,
                quantity: b,
            }
            | Response::WriteMultipleRegisters {
                address: a,
                quantity: b,
            } => {
                w.u16(a)?;
                w.u16(b)?;
            }
            Response::ReadExceptionStatus { status } => w.u8(status)?,
            Response::GetCommEventLog {
                status,
                event_count,
                message_count,
                events,
            } => {
                w.u8(count_byte(function, 6 + events.len())?)?;
                w.u16(status)?;
                w.u16(event_count)?;
                w.u16(message_count)?;
                w.bytes(events)?;
            }
            Response::MaskWriteRegister {
                address,
                and_mask,
                or_mask,
            } => {
                w.u16(address)?;
                w.u16(and_mask)?;
                w.u16(or_mask)?;
            }
            Response::ReadFifoQueue { values } => {
                w.u16(u16::try_from(2 + values.byte_len()).unwrap_or(u16::MAX))?;
                w.u16(u16::try_from(values.len()).unwrap_or(u16::MAX))?;
                values.write(&mut w)?;
            }
            Response::ReadDeviceIdentification {
                code,
                conformity,
                more_follows,
                next_object_id,
                objects,
            } => {
                w.u8(MEI_READ_DEVICE_ID)?;
                w.u8(code.code())?;
                w.u8(conformity)?;
                w.u8(if more_follows { 0xFF } else { 0x00 })?;
                w.u8(next_object_id)?;
                w.u8(objects.count)?;
                w.bytes(objects.bytes)?;
            }
            Response::Exception { .. } => {}
        }
        Ok(w.position())
    }
}

// ---------------------------------------------------------------------------------------
// Either direction.

/// A request or a response: what a decoder for a given [`Direction`] yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum Pdu<'a> {
    /// Client to server.
    Request(Request<'a>),
    /// Server to client.
    Response(Response<'a>),
}

impl<'a> Pdu<'a> {
    /// Parses exactly one PDU of the given direction.
    ///
    /// # Errors
    /// As [`Request::parse`] / [`Response::parse`].
    #[inline(always)]
    pub fn parse(pdu: &'a [u8], direction: Direction) -> Result<Self, Error> {
        match direction {
            Direction::Request => Request::parse(pdu).map(Pdu::Request),
            Direction::Response => Response::parse(pdu).map(Pdu::Response),
        }
    }

    /// The direction.
    pub const fn direction(&self) -> Direction {
        match self {
            Pdu::Request(_) => Direction::Request,
            Pdu::Response(_) => Direction::Response,
        }
    }

    /// The function code byte without the 0x80 exception bit.
    pub fn function_code(&self) -> u8 {
        match self {
            Pdu::Request(r) => r.function().code(),
            Pdu::Response(r) => r.function_code(),
        }
    }

    /// The exception code of an exception reply.
    pub const fn exception(&self) -> Option<ExceptionCode> {
        match self {
            Pdu::Request(_) => None,
            Pdu::Response(r) => r.exception(),
        }
    }

    /// See [`Request::address`] and [`Response::address`].
    pub const fn address(&self) -> Option<u16> {
        match self {
            Pdu::Request(r) => r.address(),
            Pdu::Response(r) => r.address(),
        }
    }

    /// See [`Request::quantity`] and [`Response::quantity`].
    pub fn quantity(&self) -> Option<u16> {
        match self {
            Pdu::Request(r) => r.quantity(),
            Pdu::Response(r) => r.quantity(),
        }
    }

    /// See [`Request::value`] and [`Response::value`].
    pub const fn value(&self) -> Option<u16> {
        match self {
            Pdu::Request(r) => r.value(),
            Pdu::Response(r) => r.value(),
        }
    }

    /// See [`Request::registers`] and [`Response::registers`].
    pub const fn registers(&self) -> Option<Registers<'a>> {
        match self {
            Pdu::Request(r) => r.registers(),
            Pdu::Response(r) => r.registers(),
        }
    }

    /// See [`Request::coil_bytes`] and [`Response::coil_bytes`].
    pub const fn coil_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Pdu::Request(r) => r.coil_bytes(),
            Pdu::Response(r) => r.coil_bytes(),
        }
    }

    /// See [`Request::byte_count`] and [`Response::byte_count`].
    pub fn byte_count(&self) -> Option<usize> {
        match self {
            Pdu::Request(r) => r.byte_count(),
            Pdu::Response(r) => r.byte_count(),
        }
    }

    /// Whether an RTU request with this PDU may go to slave 0 (broadcast).
    pub fn broadcastable(&self) -> bool {
        match self {
            Pdu::Request(r) => r.function().broadcastable(),
            Pdu::Response(_) => false,
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            Pdu::Request(r) => r.buffer_len(),
            Pdu::Response(r) => r.buffer_len(),
        }
    }

    /// Writes the PDU into `buf` and returns its length.
    ///
    /// # Errors
    /// As [`Request::emit`] / [`Response::emit`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        match self {
            Pdu::Request(r) => r.emit(buf),
            Pdu::Response(r) => r.emit(buf),
        }
    }
}

impl<'a> From<Request<'a>> for Pdu<'a> {
    fn from(r: Request<'a>) -> Self {
        Pdu::Request(r)
    }
}

impl<'a> From<Response<'a>> for Pdu<'a> {
    fn from(r: Response<'a>) -> Self {
        Pdu::Response(r)
    }
}
