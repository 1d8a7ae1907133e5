//! nom parsers for the data-field layouts of every function.
//!
//! A layout is a sequence of fixed-width fields, sometimes followed by a variable tail;
//! each function's parser in `message` is a nom sequence of the field parsers here,
//! run over the data field (already minus 0x33) with `all_consuming` where the layout
//! is fixed. nom stays inside this crate: failures become [`Error`] at the boundary.

use chrono::{NaiveDate, NaiveDateTime};
use nom::{
    IResult, Parser,
    bytes::complete::take,
    error::{ErrorKind, ParseError},
    number::complete::le_u8,
};

use crate::{Address, Di, Edition, Error};

/// Why a layout did not match, with how much input was left at that point so the
/// boundary can name the offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LayoutError {
    /// The data field ended early or went on too long.
    Length,
    /// A field's byte is not acceptable.
    Field {
        field: &'static str,
        remaining: usize,
        byte: u8,
    },
}

impl<'a> ParseError<&'a [u8]> for LayoutError {
    fn from_error_kind(_: &'a [u8], _: ErrorKind) -> Self {
        // Every nom-level failure over fixed-width fields is a length mismatch:
        // `take` past the end (Eof) or input left over (`all_consuming`).
        LayoutError::Length
    }

    fn append(_: &'a [u8], _: ErrorKind, other: Self) -> Self {
        other
    }
}

pub(crate) type In<'a> = &'a [u8];
pub(crate) type Parsed<'a, T> = IResult<In<'a>, T, LayoutError>;

fn field_error<'a, T>(field: &'static str, at: In<'a>, byte: u8) -> Parsed<'a, T> {
    Err(nom::Err::Error(LayoutError::Field {
        field,
        remaining: at.len(),
        byte,
    }))
}

/// Converts a layout failure over `data` to the crate error for control byte `control`.
pub(crate) fn to_error(
    error: &nom::Err<LayoutError>,
    data: &[u8],
    control: u8,
    expected: &'static str,
) -> Error {
    match error {
        nom::Err::Error(LayoutError::Field {
            field,
            remaining,
            byte,
        })
        | nom::Err::Failure(LayoutError::Field {
            field,
            remaining,
            byte,
        }) => Error::Field {
            field,
            offset: data.len() - remaining,
            byte: *byte,
        },
        _ => Error::DataLength {
            control,
            expected,
            actual: data.len(),
        },
    }
}

/// `N` bytes as an array.
pub(crate) fn array<const N: usize>(input: In<'_>) -> Parsed<'_, [u8; N]> {
    let (rest, bytes) = take(N).parse(input)?;
    let mut out = [0; N];
    out.copy_from_slice(bytes);
    Ok((rest, out))
}

/// One byte.
pub(crate) fn byte(input: In<'_>) -> Parsed<'_, u8> {
    le_u8(input)
}

/// A data identifier of `edition`, low byte first.
pub(crate) fn di(edition: Edition) -> impl Fn(In<'_>) -> Parsed<'_, Di> {
    move |input| match edition {
        Edition::V2007 => array::<4>.map(Di::from_wire_2007).parse(input),
        Edition::V1997 => array::<2>.map(Di::from_wire_1997).parse(input),
    }
}

/// A meter address, low byte first.
pub(crate) fn address(input: In<'_>) -> Parsed<'_, Address> {
    array::<6>.map(Address::from_wire).parse(input)
}

/// One BCD byte holding 0..=99.
pub(crate) fn bcd(field: &'static str) -> impl Fn(In<'_>) -> Parsed<'_, u8> {
    move |input| {
        let (rest, raw) = le_u8(input)?;
        match crate::bcd::byte_to_u8(raw) {
            Some(v) => Ok((rest, v)),
            None => field_error(field, input, raw),
        }
    }
}

/// `[ss] mm hh DD MM YY` in BCD (seconds only when `N` is 6), years 2000..=2099.
pub(crate) fn datetime<const N: usize>(
    field: &'static str,
) -> impl Fn(In<'_>) -> Parsed<'_, NaiveDateTime> {
    move |input| {
        let mut fields = [0u8; 6];
        let mut rest = input;
        for slot in &mut fields[6 - N..] {
            (rest, *slot) = bcd(field)(rest)?;
        }
        let [ss, mm, hh, day, month, yy] = fields;
        NaiveDate::from_ymd_opt(2000 + i32::from(yy), u32::from(month), u32::from(day))
            .and_then(|d| d.and_hms_opt(u32::from(hh), u32::from(mm), u32::from(ss)))
            .map_or_else(
                || field_error(field, input, input.first().copied().unwrap_or(0)),
                |t| Ok((rest, t)),
            )
    }
}

/// A byte that must satisfy `convert`, which names the field on failure.
pub(crate) fn checked_byte<T>(
    field: &'static str,
    convert: impl Fn(u8) -> Option<T>,
) -> impl Fn(In<'_>) -> Parsed<'_, T> {
    move |input| {
        let (rest, raw) = le_u8(input)?;
        match convert(raw) {
            Some(v) => Ok((rest, v)),
            None => field_error(field, input, raw),
        }
    }
}
