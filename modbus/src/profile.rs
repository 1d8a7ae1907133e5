//! Declarative meter profiles: which registers hold which quantity, how to read them with
//! the fewest requests, and how to turn the replies into an exact [`MeterReading`].
//!
//! A [`Profile`] maps each [`Quantity`] to a [`Source`]: register kind (FC03 holding or
//! FC04 input), address, [`DataType`], [`WordOrder`], power-of-ten scale, [`Unit`],
//! optional not-available sentinel and which primary/secondary [`Ratio`] applies.
//! Built-in profiles are `const`; with `serde-1` a profile loads from TOML
//! (see `profiles/*.toml`).
//!
//! # Exactness
//! Integer registers become exact decimals: raw × 10^scale, unit-converted (Wh → kWh,
//! kW → W) by moving the decimal point, never through floating point. A `f32` register is
//! converted from its exact binary value (`0x43663333`, the float nearest 230.2, is
//! 230.1999969482421875):
//! every `f32` whose binary exponent is ≥ −28 (all values ≥ 2⁻⁵ ≈ 0.031, and every
//! smaller value with few mantissa bits) converts exactly; smaller values are rounded to 28
//! decimal places, half to even. What remains is the meter's own resolution: an `f32` has
//! a 24-bit significand, so an energy register resolves 1/1024 kWh below 16 384 kWh,
//! 1/128 kWh up to 131 072 kWh, and only 1/16 kWh at 1 000 000 kWh. For billing prefer
//! the integer energy registers where a meter has them (ABB, Acrel, Carlo Gavazzi), and
//! bill differences between readings, which keep this resolution rather than add to it.

use meterkit_reading::{MeterReading, Quantity};
use rust_decimal::Decimal;

use crate::Registers;
use crate::pdu::{Request, Response};

/// Which register table (and function code) a source lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde-1", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum RegisterKind {
    /// Holding registers, read with FC03.
    Holding,
    /// Input registers, read with FC04.
    Input,
}

impl RegisterKind {
    /// The read function code: 3 or 4.
    pub const fn function_code(self) -> u8 {
        match self {
            RegisterKind::Holding => 3,
            RegisterKind::Input => 4,
        }
    }
}

/// How the register words encode the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde-1", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum DataType {
    /// Unsigned 16-bit, one register.
    U16,
    /// Signed 16-bit, one register.
    I16,
    /// Unsigned 32-bit, two registers.
    U32,
    /// Signed 32-bit, two registers.
    I32,
    /// Unsigned 64-bit, four registers.
    U64,
    /// IEEE 754 single precision, two registers.
    F32,
}

impl DataType {
    /// Registers the type occupies.
    pub const fn registers(self) -> u16 {
        match self {
            DataType::U16 | DataType::I16 => 1,
            DataType::U32 | DataType::I32 | DataType::F32 => 2,
            DataType::U64 => 4,
        }
    }
}

/// Order of words and bytes for multi-byte values (A = most significant byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde-1", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum WordOrder {
    /// Big-endian words and bytes (most meters).
    #[default]
    Abcd,
    /// Least significant word first, big-endian bytes ("word-swapped", Carlo Gavazzi).
    Cdab,
    /// Most significant word first, bytes swapped within each word.
    Badc,
    /// Fully little-endian.
    Dcba,
}

impl WordOrder {
    const fn lsw_first(self) -> bool {
        matches!(self, WordOrder::Cdab | WordOrder::Dcba)
    }

    const fn bytes_swapped(self) -> bool {
        matches!(self, WordOrder::Badc | WordOrder::Dcba)
    }
}

/// Unit the register holds; decoding converts it to the [`Quantity::unit`] of the reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum Unit {
    /// Watt-hours.
    Wh,
    /// Kilowatt-hours.
    #[cfg_attr(feature = "serde-1", serde(rename = "kWh"))]
    KWh,
    /// Watts.
    W,
    /// Kilowatts.
    #[cfg_attr(feature = "serde-1", serde(rename = "kW"))]
    KW,
    /// Volts.
    V,
    /// Amperes.
    A,
    /// Hertz.
    Hz,
    /// Dimensionless (power factor).
    #[cfg_attr(feature = "serde-1", serde(rename = "1"))]
    One,
}

impl Unit {
    /// The reading unit this unit converts to, and the power of ten of that conversion.
    const fn canonical(self) -> (&'static str, i8) {
        match self {
            Unit::Wh => ("kWh", -3),
            Unit::KWh => ("kWh", 0),
            Unit::W => ("W", 0),
            Unit::KW => ("W", 3),
            Unit::V => ("V", 0),
            Unit::A => ("A", 0),
            Unit::Hz => ("Hz", 0),
            Unit::One => ("", 0),
        }
    }
}

/// Which installation ratio multiplies a value to get the primary-side quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde-1", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum Ratio {
    /// The register is already primary side (or the meter is direct-connected).
    #[default]
    None,
    /// Multiply by the current-transformer ratio.
    Ct,
    /// Multiply by the voltage-transformer ratio.
    Pt,
    /// Multiply by both (energy and power on the secondary side).
    CtPt,
}

/// Installation ratios of an instrument-transformer-connected meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
pub struct Ratios {
    /// Current-transformer ratio, e.g. 200/5 = 40.
    pub ct: Decimal,
    /// Voltage-transformer ratio, e.g. 10 kV / 100 V = 100.
    pub pt: Decimal,
}

impl Ratios {
    /// Direct connection: both ratios 1.
    pub const DIRECT: Ratios = Ratios {
        ct: Decimal::ONE,
        pt: Decimal::ONE,
    };
}

impl Default for Ratios {
    fn default() -> Self {
        Ratios::DIRECT
    }
}

/// Where and how one quantity is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct Source {
    /// Register table (FC03 / FC04).
    pub kind: RegisterKind,
    /// 0-based PDU address of the first register (30001/40001 numbering minus the base).
    pub address: u16,
    /// Encoding.
    #[cfg_attr(feature = "serde-1", serde(rename = "type"))]
    pub data_type: DataType,
    /// Word and byte order.
    #[cfg_attr(feature = "serde-1", serde(default))]
    pub word_order: WordOrder,
    /// Power of ten applied to the raw value: value = raw × 10^scale (−2 for 0.01 kWh).
    #[cfg_attr(feature = "serde-1", serde(default))]
    pub scale: i8,
    /// Unit after scaling.
    pub unit: Unit,
    /// Raw bit pattern meaning "not available" (e.g. ABB all-ones). NaN and infinite
    /// floats are always not available.
    #[cfg_attr(feature = "serde-1", serde(default))]
    pub not_available: Option<u64>,
    /// Installation ratio to apply.
    #[cfg_attr(feature = "serde-1", serde(default))]
    pub ratio: Ratio,
}

impl Source {
    /// A big-endian source with scale 0, no sentinel and no ratio.
    pub const fn new(kind: RegisterKind, address: u16, data_type: DataType, unit: Unit) -> Self {
        Source {
            kind,
            address,
            data_type,
            word_order: WordOrder::Abcd,
            scale: 0,
            unit,
            not_available: None,
            ratio: Ratio::None,
        }
    }

    /// With a power-of-ten scale.
    #[must_use]
    pub const fn scaled(mut self, scale: i8) -> Self {
        self.scale = scale;
        self
    }

    /// With a word order.
    #[must_use]
    pub const fn order(mut self, word_order: WordOrder) -> Self {
        self.word_order = word_order;
        self
    }

    /// With the type's conventional "not available" sentinel: all ones for unsigned types,
    /// the maximum positive value for signed ones (ABB, SunSpec).
    #[must_use]
    pub const fn nan_sentinel(mut self) -> Self {
        self.not_available = Some(match self.data_type {
            DataType::U16 => 0xFFFF,
            DataType::I16 => 0x7FFF,
            DataType::U32 => 0xFFFF_FFFF,
            DataType::I32 => 0x7FFF_FFFF,
            DataType::U64 => u64::MAX,
            DataType::F32 => 0x7FC0_0000,
        });
        self
    }

    /// With an installation ratio.
    #[must_use]
    pub const fn with_ratio(mut self, ratio: Ratio) -> Self {
        self.ratio = ratio;
        self
    }

    /// One past the last register.
    pub const fn end(&self) -> u32 {
        self.address as u32 + self.data_type.registers() as u32
    }

    /// Decodes this source from `registers`, whose first register is at `start`.
    ///
    /// Returns `Ok(None)` when the source is not inside the block, or the value is the
    /// not-available sentinel, NaN or infinite.
    ///
    /// # Errors
    /// [`ProfileError::OutOfRange`] when the scaled value does not fit a `Decimal`.
    pub fn decode(
        &self,
        start: u16,
        registers: &Registers<'_>,
        ratios: &Ratios,
    ) -> Result<Option<Decimal>, ProfileError> {
        let Some(offset) = self.address.checked_sub(start) else {
            return Ok(None);
        };
        let words = usize::from(self.data_type.registers());
        let offset = usize::from(offset);
        let mut raw = 0u64;
        for i in 0..words {
            // usize arithmetic: a source at 0xFFFF must not overflow a u16 index.
            let index = if self.word_order.lsw_first() {
                offset + words - 1 - i
            } else {
                offset + i
            };
            let Some(mut word) = registers.get(index) else {
                return Ok(None);
            };
            if self.word_order.bytes_swapped() {
                word = word.swap_bytes();
            }
            raw = raw << 16 | u64::from(word);
        }
        if self.not_available == Some(raw) {
            return Ok(None);
        }
        let out_of_range = ProfileError::OutOfRange {
            address: self.address,
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        // reinterpreting raw bits
        let value = match self.data_type {
            DataType::U16 | DataType::U32 | DataType::U64 => Decimal::from(raw),
            DataType::I16 => Decimal::from(raw as u16 as i16),
            DataType::I32 => Decimal::from(raw as u32 as i32),
            DataType::F32 => match f32_to_decimal(raw as u32) {
                Ok(Some(v)) => v,
                Ok(None) => return Ok(None),
                Err(()) => return Err(out_of_range),
            },
        };
        let (_, unit_pow) = self.unit.canonical();
        let value =
            scale_pow10(value, i16::from(self.scale) + i16::from(unit_pow)).ok_or(out_of_range)?;
        let value = match self.ratio {
            Ratio::None => Some(value),
            Ratio::Ct => value.checked_mul(ratios.ct),
            Ratio::Pt => value.checked_mul(ratios.pt),
            Ratio::CtPt => value
                .checked_mul(ratios.ct)
                .and_then(|v| v.checked_mul(ratios.pt)),
        };
        value.map(Some).ok_or(out_of_range)
    }
}

/// `value × 10^exp`, exact while the result has at most 28 decimal places; beyond that
/// rounded half to even (the `Decimal` division rule).
fn scale_pow10(value: Decimal, exp: i16) -> Option<Decimal> {
    if exp >= 0 {
        let factor = 10i64.checked_pow(u32::try_from(exp).ok()?)?;
        return value.checked_mul(Decimal::from(factor));
    }
    let shift = u32::try_from(-exp).ok()?;
    let scale = value.scale().checked_add(shift)?;
    if scale <= Decimal::MAX_SCALE {
        return Decimal::try_from_i128_with_scale(value.mantissa(), scale).ok();
    }
    let factor = 10i64.checked_pow(shift)?;
    value.checked_div(Decimal::from(factor))
}

/// The exact value of an IEEE 754 single: `Ok(None)` for NaN and infinities, `Err` when
/// it exceeds the `Decimal` range (|v| ≥ 2⁹⁶).
fn f32_to_decimal(bits: u32) -> Result<Option<Decimal>, ()> {
    let negative = bits >> 31 == 1;
    let biased = (bits >> 23) & 0xFF;
    let fraction = bits & 0x7F_FFFF;
    if biased == 0xFF {
        return Ok(None);
    }
    // value = significand × 2^exp, with the implicit leading 1 for normal numbers.
    let (significand, exp) = if biased == 0 {
        (fraction, -149i32)
    } else {
        (
            fraction | 0x80_0000,
            i32::try_from(biased).map_err(|_| ())? - 150,
        )
    };
    if significand == 0 {
        return Ok(Some(Decimal::ZERO));
    }
    let zeros = significand.trailing_zeros();
    let (significand, exp) = (
        u128::from(significand >> zeros),
        exp + i32::try_from(zeros).map_err(|_| ())?,
    );
    let magnitude = if exp >= 0 {
        // Decimal holds 96-bit mantissas; significand < 2^24.
        let mantissa = significand
            .checked_shl(u32::try_from(exp).map_err(|_| ())?)
            .filter(|m| *m < 1 << 96)
            .ok_or(())?;
        Decimal::try_from_i128_with_scale(i128::try_from(mantissa).map_err(|_| ())?, 0)
            .map_err(|_| ())?
    } else {
        let k = exp.unsigned_abs();
        if k <= Decimal::MAX_SCALE {
            // m / 2^k = m·5^k / 10^k exactly; m·5^28 < 2^24·2^66 fits in i128.
            let mantissa = significand * 5u128.pow(k);
            Decimal::try_from_i128_with_scale(i128::try_from(mantissa).map_err(|_| ())?, k)
                .map_err(|_| ())?
        } else {
            // Round m·10^28 / 2^k half to even; m·10^28 < 2^118.
            let num = significand * 10u128.pow(Decimal::MAX_SCALE);
            let (quotient, rem, half) = if k >= 128 {
                (0, num, u128::MAX)
            } else {
                (num >> k, num & ((1u128 << k) - 1), 1u128 << (k - 1))
            };
            let round_up = rem > half || (rem == half && quotient & 1 == 1);
            let q = quotient + u128::from(round_up);
            Decimal::try_from_i128_with_scale(
                i128::try_from(q).map_err(|_| ())?,
                Decimal::MAX_SCALE,
            )
            .map_err(|_| ())?
        }
    };
    Ok(Some(if negative { -magnitude } else { magnitude }))
}

/// One quantity of a profile and where it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct Entry {
    /// The quantity.
    pub quantity: Quantity,
    /// Its register source.
    #[cfg_attr(feature = "serde-1", serde(flatten))]
    pub source: Source,
}

/// A meter's register map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
pub struct Profile<'a> {
    /// Short identifier, e.g. `"sdm630"`.
    pub name: &'a str,
    /// Manufacturer and model.
    pub description: &'a str,
    /// Where the register facts come from, and known variants.
    pub provenance: &'a str,
    /// Largest number of registers the meter answers in one read (≤ 125).
    pub max_registers_per_read: u16,
    /// Largest run of unused registers a planned read may bridge.
    pub max_gap: u16,
    /// Quantities and their sources.
    pub entries: &'a [Entry],
}

/// Errors of profile planning and decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum ProfileError {
    /// The caller's buffer for planned reads is too small.
    #[error("read plan needs {needed} ranges, buffer holds {available}")]
    PlanTooLarge {
        /// Ranges the plan needs.
        needed: usize,
        /// Ranges the buffer holds.
        available: usize,
    },
    /// A reply does not answer the planned read.
    #[error("reply does not answer the read of {expected} registers with FC{function:02X}")]
    WrongReply {
        /// Function code of the planned read.
        function: u8,
        /// Registers the read asked for.
        expected: u16,
    },
    /// A scaled value does not fit a `Decimal`.
    #[error("value of the register at {address:#06X} is out of range")]
    OutOfRange {
        /// Address of the register.
        address: u16,
    },
    /// A profile entry is inconsistent: unit wrong for the quantity, scale beyond ±18,
    /// a source past register 65535 or a read limit outside 1..=125.
    #[error("profile entry for {quantity} is invalid: {reason}")]
    InvalidEntry {
        /// The quantity concerned.
        quantity: Quantity,
        /// What is wrong.
        reason: &'static str,
    },
}

/// One planned register-range read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct ReadRange {
    /// Register table.
    pub kind: RegisterKind,
    /// First register.
    pub address: u16,
    /// Number of registers (1–125).
    pub quantity: u16,
}

impl ReadRange {
    /// The FC03/FC04 request that performs this read.
    pub const fn request(&self) -> Request<'static> {
        match self.kind {
            RegisterKind::Holding => Request::ReadHoldingRegisters {
                address: self.address,
                quantity: self.quantity,
            },
            RegisterKind::Input => Request::ReadInputRegisters {
                address: self.address,
                quantity: self.quantity,
            },
        }
    }

    /// The registers of `response` if it answers this read (right function, right count).
    ///
    /// # Errors
    /// [`ProfileError::WrongReply`] otherwise (including exception replies).
    pub fn registers<'r>(&self, response: &Response<'r>) -> Result<Registers<'r>, ProfileError> {
        let wrong = ProfileError::WrongReply {
            function: self.kind.function_code(),
            expected: self.quantity,
        };
        let registers = match (self.kind, response) {
            (RegisterKind::Holding, Response::ReadHoldingRegisters { registers })
            | (RegisterKind::Input, Response::ReadInputRegisters { registers }) => *registers,
            _ => return Err(wrong),
        };
        if registers.len() != usize::from(self.quantity) {
            return Err(wrong);
        }
        Ok(registers)
    }
}

/// Largest register count of one FC03/FC04 read.
pub const MAX_READ: u16 = 125;

impl Profile<'_> {
    /// The source of `quantity`, if the profile has one.
    pub fn source(&self, quantity: Quantity) -> Option<&Source> {
        self.entries
            .iter()
            .find(|e| e.quantity == quantity)
            .map(|e| &e.source)
    }

    /// Checks units against quantities, scales, address ranges and the read limit.
    ///
    /// # Errors
    /// [`ProfileError::InvalidEntry`] for the first inconsistent entry.
    pub fn validate(&self) -> Result<(), ProfileError> {
        for e in self.entries {
            let invalid = |reason| {
                Err(ProfileError::InvalidEntry {
                    quantity: e.quantity,
                    reason,
                })
            };
            if e.source.unit.canonical().0 != e.quantity.unit() {
                return invalid("unit does not fit the quantity");
            }
            if !(-18..=18).contains(&e.source.scale) {
                return invalid("scale outside -18..=18");
            }
            if e.source.end() > 0x1_0000 {
                return invalid("register past 65535");
            }
            if !(4..=MAX_READ).contains(&self.max_registers_per_read) {
                return invalid("max_registers_per_read outside 4..=125");
            }
            if self
                .entries
                .iter()
                .filter(|o| o.quantity == e.quantity)
                .count()
                > 1
            {
                return invalid("quantity listed twice");
            }
        }
        Ok(())
    }

    /// Plans the fewest register-range reads that cover the sources of `wanted` (quantities
    /// the profile lacks are ignored), each at most `max_registers_per_read` long, bridging
    /// gaps of at most `max_gap` unused registers. Writes the ranges into `out`, ordered by
    /// kind and address, and returns how many.
    ///
    /// Greedy extension over the sorted sources is optimal here: a read covers a contiguous
    /// run of sorted sources, and extending each read as far as the limits allow never
    /// increases the number of reads needed for the rest.
    ///
    /// # Errors
    /// [`ProfileError::PlanTooLarge`] with the number of ranges needed when `out` is short.
    pub fn plan(&self, wanted: &[Quantity], out: &mut [ReadRange]) -> Result<usize, ProfileError> {
        // A profile has at most one source per quantity, so the quantity count bounds them.
        let mut spans = [(RegisterKind::Holding, 0u32, 0u32); Quantity::ALL.len()];
        let mut n = 0;
        for q in Quantity::ALL.into_iter().filter(|q| wanted.contains(q)) {
            if let (Some(s), Some(slot)) = (self.source(q), spans.get_mut(n)) {
                *slot = (s.kind, u32::from(s.address), s.end());
                n += 1;
            }
        }
        let spans = spans.get_mut(..n).unwrap_or_default();
        spans.sort_unstable();
        let limit = u32::from(self.max_registers_per_read.clamp(4, MAX_READ));
        let mut count = 0;
        let mut current: Option<(RegisterKind, u32, u32)> = None;
        let mut push = |range: (RegisterKind, u32, u32), count: &mut usize| {
            if let Some(slot) = out.get_mut(*count) {
                *slot = ReadRange {
                    kind: range.0,
                    address: u16::try_from(range.1).unwrap_or(u16::MAX),
                    quantity: u16::try_from(range.2 - range.1).unwrap_or(MAX_READ),
                };
            }
            *count += 1;
        };
        for &(kind, start, end) in spans.iter() {
            current = match current {
                Some((k, s, e))
                    if k == kind
                        && start <= e + u32::from(self.max_gap)
                        && end.max(e) - s <= limit =>
                {
                    Some((k, s, e.max(end)))
                }
                Some(done) => {
                    push(done, &mut count);
                    Some((kind, start, end))
                }
                None => Some((kind, start, end)),
            };
        }
        if let Some(done) = current {
            push(done, &mut count);
        }
        if count > out.len() {
            return Err(ProfileError::PlanTooLarge {
                needed: count,
                available: out.len(),
            });
        }
        Ok(count)
    }

    /// Decodes every source of this profile that lies inside the block of `registers`
    /// (of `kind`, starting at `start`) into `reading`; returns how many values were set.
    /// Sources holding their not-available sentinel are left untouched.
    ///
    /// # Errors
    /// [`ProfileError::OutOfRange`] when a value does not fit a `Decimal`.
    pub fn decode_block<T>(
        &self,
        kind: RegisterKind,
        start: u16,
        registers: &Registers<'_>,
        ratios: &Ratios,
        reading: &mut MeterReading<T>,
    ) -> Result<usize, ProfileError> {
        let block_end = u32::from(start) + u32::try_from(registers.len()).unwrap_or(u32::MAX);
        let mut set = 0;
        for e in self.entries {
            let s = &e.source;
            if s.kind != kind || s.address < start || s.end() > block_end {
                continue;
            }
            if let Some(value) = s.decode(start, registers, ratios)? {
                reading.set(e.quantity, value);
                set += 1;
            }
        }
        Ok(set)
    }

    /// Decodes the reply to a planned read into `reading` (see [`decode_block`](Self::decode_block)).
    ///
    /// # Errors
    /// [`ProfileError::WrongReply`] when `response` does not answer `range`, or the
    /// [`decode_block`](Self::decode_block) error.
    pub fn decode_reply<T>(
        &self,
        range: &ReadRange,
        response: &Response<'_>,
        ratios: &Ratios,
        reading: &mut MeterReading<T>,
    ) -> Result<usize, ProfileError> {
        let registers = range.registers(response)?;
        self.decode_block(range.kind, range.address, &registers, ratios, reading)
    }
}

#[cfg(feature = "serde-1")]
mod owned {
    use alloc::string::String;
    use alloc::vec::Vec;

    use super::{Entry, Profile};

    /// A profile loaded at run time (from TOML), owning its strings and entries.
    ///
    /// ```
    /// # #[cfg(feature = "serde-1")] {
    /// let toml = r#"
    /// name = "my-meter"
    /// description = "A single-phase meter"
    /// provenance = "vendor manual rev. 3"
    /// max_registers_per_read = 100
    /// max_gap = 4
    ///
    /// [[entries]]
    /// quantity = "import_energy_total"
    /// kind = "holding"
    /// address = 0x0100
    /// type = "u32"
    /// scale = -2
    /// unit = "kWh"
    /// "#;
    /// let owned = meterkit_modbus::profile::OwnedProfile::from_toml_str(toml).unwrap();
    /// assert_eq!(owned.profile().entries.len(), 1);
    /// # }
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    pub struct OwnedProfile {
        /// Short identifier.
        pub name: String,
        /// Manufacturer and model.
        #[serde(default)]
        pub description: String,
        /// Where the register facts come from.
        #[serde(default)]
        pub provenance: String,
        /// Largest number of registers per read.
        #[serde(default = "default_max_read")]
        pub max_registers_per_read: u16,
        /// Largest bridged gap.
        #[serde(default)]
        pub max_gap: u16,
        /// Quantities and their sources.
        pub entries: Vec<Entry>,
    }

    const fn default_max_read() -> u16 {
        super::MAX_READ
    }

    /// Why a TOML profile could not be loaded.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    #[non_exhaustive]
    pub enum LoadError {
        /// The text is not valid TOML for a profile.
        #[error("profile TOML: {0}")]
        Toml(String),
        /// The profile parsed but is inconsistent.
        #[error(transparent)]
        Invalid(#[from] super::ProfileError),
    }

    impl OwnedProfile {
        /// Parses and validates a TOML profile.
        ///
        /// # Errors
        /// [`LoadError::Toml`] with the parser's message (line and column), or
        /// [`LoadError::Invalid`] from [`Profile::validate`].
        pub fn from_toml_str(text: &str) -> Result<Self, LoadError> {
            let owned: OwnedProfile =
                toml_no_std::from_str(text).map_err(|e| LoadError::Toml(alloc::format!("{e}")))?;
            owned.profile().validate()?;
            Ok(owned)
        }

        /// A borrowed view usable for planning and decoding.
        pub fn profile(&self) -> Profile<'_> {
            Profile {
                name: &self.name,
                description: &self.description,
                provenance: &self.provenance,
                max_registers_per_read: self.max_registers_per_read,
                max_gap: self.max_gap,
                entries: &self.entries,
            }
        }
    }

    impl From<&Profile<'_>> for OwnedProfile {
        fn from(p: &Profile<'_>) -> Self {
            OwnedProfile {
                name: p.name.into(),
                description: p.description.into(),
                provenance: p.provenance.into(),
                max_registers_per_read: p.max_registers_per_read,
                max_gap: p.max_gap,
                entries: p.entries.to_vec(),
            }
        }
    }
}

#[cfg(feature = "serde-1")]
pub use owned::{LoadError, OwnedProfile};

mod builtin;
pub use builtin::{
    ABB_B23, ACREL_ADL400, ACREL_ADW300, BUILT_IN, CHINT_DDSU666, CHINT_DTSU666, EM24, SDM72,
    SDM120, SDM630, built_in,
};
