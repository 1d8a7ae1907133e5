//! A simulated Modbus meter (and a bus of them) answering from register tables, RTU
//! or TCP, with the same switchable [`Faults`] as the DL/T 645 simulator. Serve it with
//! [`crate::sim::serve`] or [`crate::sim::serve_tcp`].
//!
//! With [`ModbusSim::with_metering`] the energy registers (total and T1..T4, where the
//! profile maps them) and total active power follow a [`Metering`] on the server's
//! [`MeterClock`], like the DL/T 645 meter's.

use std::{collections::BTreeMap, time::Duration};

use meterkit_modbus::{
    Decoded, Direction, ExceptionCode, Pdu, Registers, Request, Response,
    profile::{DataType, Profile, RegisterKind, Source, Unit, WordOrder},
    rtu, tcp,
};
use meterkit_reading::{MeterReading, Quantity};
use rust_decimal::{Decimal, RoundingStrategy, prelude::ToPrimitive};

use crate::{
    modbus::Framing,
    sim::{Faults, MeterClock, Metering, Simulated, Step, collide},
};

/// One simulated Modbus server: holding and input registers by address.
#[derive(Debug, Clone, Default)]
pub struct ModbusSim {
    unit: u8,
    holding: BTreeMap<u16, u16>,
    input: BTreeMap<u16, u16>,
    unmapped: Option<u16>,
    metering: Option<(Profile<'static>, Metering)>,
    clock: MeterClock,
}

impl ModbusSim {
    /// A server answering unit id (slave address) `unit`, with empty tables.
    pub fn new(unit: u8) -> Self {
        ModbusSim {
            unit,
            ..ModbusSim::default()
        }
    }

    /// The unit id.
    pub fn unit(&self) -> u8 {
        self.unit
    }

    /// Sets holding registers from `address` on.
    #[must_use]
    pub fn with_holding(mut self, address: u16, values: &[u16]) -> Self {
        store(&mut self.holding, address, values);
        self
    }

    /// Sets input registers from `address` on.
    #[must_use]
    pub fn with_input(mut self, address: u16, values: &[u16]) -> Self {
        store(&mut self.input, address, values);
        self
    }

    /// Stores every value of `reading` that `profile` has a register for, encoded as
    /// the profile says (type, word order, scale, unit), so that a client reading the
    /// profile gets the same values back. Integer registers take the value rounded to
    /// the register's resolution with [`RoundingStrategy::MidpointNearestEven`]; float
    /// registers take the nearest `f32` (the meter's own format). Ratios are not
    /// applied: the registers hold what a direct-connected meter shows.
    ///
    /// # Errors
    ///
    /// [`SimValueError`] for a value that does not fit its register.
    pub fn with_reading<T>(
        mut self,
        profile: &Profile<'_>,
        reading: &MeterReading<T>,
    ) -> Result<Self, SimValueError> {
        self.store_reading(profile, reading)?;
        Ok(self)
    }

    fn store_reading<T>(
        &mut self,
        profile: &Profile<'_>,
        reading: &MeterReading<T>,
    ) -> Result<(), SimValueError> {
        for (quantity, value) in reading.values() {
            let Some(source) = profile.source(quantity) else {
                continue;
            };
            let words = encode_source(source, value)
                .map_err(|reason| SimValueError { quantity, reason })?;
            let table = match source.kind {
                RegisterKind::Holding => &mut self.holding,
                RegisterKind::Input => &mut self.input,
            };
            store(table, source.address, &words);
        }
        Ok(())
    }

    /// Lets import energy (total and tariffs T1..T4, as far as `profile` maps them)
    /// and total active power follow `metering`: before each request the registers
    /// are rewritten with the energy at that moment, counted into the rate the
    /// period table gives on the server's clock ([`with_clock`](Self::with_clock)).
    /// Energy is exact in 0.01 kWh; a float register holds the nearest `f32`.
    ///
    /// # Errors
    ///
    /// [`SimValueError`] when the starting energy or the power does not fit its
    /// register.
    pub fn with_metering(
        mut self,
        profile: &Profile<'static>,
        metering: Metering,
    ) -> Result<Self, SimValueError> {
        self.metering = Some((*profile, metering));
        self.refresh(Duration::ZERO)?;
        Ok(self)
    }

    /// Sets the server's clock, which the period table of
    /// [`with_metering`](Self::with_metering) reads (default: [`MeterClock::default`]).
    #[must_use]
    pub fn with_clock(mut self, clock: MeterClock) -> Self {
        self.clock = clock;
        self
    }

    /// Rewrites the metered registers for the moment `elapsed` after the start.
    fn refresh(&mut self, elapsed: Duration) -> Result<(), SimValueError> {
        let Some((profile, metering)) = &mut self.metering else {
            return Ok(());
        };
        let profile = *profile;
        // Counting up to now keeps each request's work to the periods since the last.
        metering.settle(&self.clock, elapsed);
        let registers = metering.registers(&self.clock, elapsed);
        let mut reading = MeterReading::new(());
        // One register unit is 0.01 kWh.
        let kwh = |units: u64| Decimal::new(i64::try_from(units).unwrap_or(i64::MAX), 2);
        reading.set(Quantity::ImportEnergyTotal, kwh(registers.total()));
        let tariffs = [
            Quantity::ImportEnergyT1,
            Quantity::ImportEnergyT2,
            Quantity::ImportEnergyT3,
            Quantity::ImportEnergyT4,
        ];
        for (quantity, units) in tariffs.into_iter().zip(registers.rates) {
            reading.set(quantity, kwh(units));
        }
        reading.set(
            Quantity::ActivePowerTotal,
            Decimal::from(metering.profile().power_w),
        );
        self.store_reading(&profile, &reading)
    }

    /// [`handle`](Self::handle) at the moment `elapsed` after the start: metered
    /// registers are brought up to date first. A value that no longer fits its
    /// register leaves the register as it was.
    pub fn handle_at(&mut self, request: &Request<'_>, elapsed: Duration) -> Vec<u8> {
        // Ignoring the error keeps the last value that fitted, as a meter whose
        // register wrapped would show something rather than fall silent.
        let _ = self.refresh(elapsed);
        self.handle(request)
    }

    /// Answers reads of registers the tables lack with `value` instead of an
    /// illegal-data-address exception, as meters do for the undocumented registers a
    /// profile's planned reads bridge.
    #[must_use]
    pub fn with_unmapped(mut self, value: u16) -> Self {
        self.unmapped = Some(value);
        self
    }

    /// A holding register's value.
    pub fn holding(&self, address: u16) -> Option<u16> {
        self.holding.get(&address).copied()
    }

    /// The reply PDU bytes to `request`: register reads and writes, an
    /// illegal-data-address exception for a register the table lacks, illegal function
    /// for any other function.
    pub fn handle(&mut self, request: &Request<'_>) -> Vec<u8> {
        let function = request.function().code();
        let exception = |code| Response::Exception { function, code };
        let mut values = Vec::new();
        let response = match *request {
            Request::ReadHoldingRegisters { address, quantity } => {
                if read(&self.holding, self.unmapped, address, quantity, &mut values) {
                    Response::ReadHoldingRegisters {
                        registers: Registers::from_values(&values),
                    }
                } else {
                    exception(ExceptionCode::IllegalDataAddress)
                }
            }
            Request::ReadInputRegisters { address, quantity } => {
                if read(&self.input, self.unmapped, address, quantity, &mut values) {
                    Response::ReadInputRegisters {
                        registers: Registers::from_values(&values),
                    }
                } else {
                    exception(ExceptionCode::IllegalDataAddress)
                }
            }
            Request::WriteSingleRegister { address, value } => {
                self.holding.insert(address, value);
                Response::WriteSingleRegister { address, value }
            }
            Request::WriteMultipleRegisters { address, registers } => {
                let written: Vec<u16> = registers.iter().collect();
                store(&mut self.holding, address, &written);
                Response::WriteMultipleRegisters {
                    address,
                    quantity: u16::try_from(written.len()).unwrap_or(u16::MAX),
                }
            }
            _ => exception(ExceptionCode::IllegalFunction),
        };
        let mut out = vec![0u8; response.buffer_len()];
        match response.emit(&mut out) {
            Ok(n) => out.truncate(n),
            Err(_) => out.clear(),
        }
        out
    }
}

/// A value that does not fit the register a profile gives it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot simulate {quantity}: {reason}")]
pub struct SimValueError {
    /// The quantity.
    pub quantity: Quantity,
    /// Why.
    pub reason: &'static str,
}

/// The register words of `value` (in the reading's unit) for `source`, most
/// significant word first before the source's word order is applied.
fn encode_source(source: &Source, value: Decimal) -> Result<Vec<u16>, &'static str> {
    // The inverse of the profile's decoding: from the reading's unit (kWh, W) to the
    // register's (Wh: × 1000; kW: ÷ 1000), then raw = value × 10^(−scale).
    let to_register_unit = match source.unit {
        Unit::Wh => value.checked_mul(Decimal::ONE_THOUSAND),
        Unit::KW => value.checked_div(Decimal::ONE_THOUSAND),
        _ => Some(value),
    }
    .ok_or("out of range")?;
    let scaled = scale_down(to_register_unit, source.scale).ok_or("out of range")?;
    let raw: u64 = match source.data_type {
        DataType::F32 => {
            let float = scaled.to_f32().ok_or("out of f32 range")?;
            u64::from(float.to_bits())
        }
        integer => {
            let whole = scaled.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
            let n = whole.mantissa();
            // Signed types store their two's complement bits.
            let bits = match integer {
                DataType::U16 => u16::try_from(n).map(u64::from),
                DataType::I16 => i16::try_from(n).map(|v| u64::from(v.cast_unsigned())),
                DataType::U32 => u32::try_from(n).map(u64::from),
                DataType::I32 => i32::try_from(n).map(|v| u64::from(v.cast_unsigned())),
                _ => u64::try_from(n),
            };
            bits.map_err(|_| "does not fit the register type")?
        }
    };
    let count = usize::from(source.data_type.registers());
    let mut words: Vec<u16> = (0..count)
        .rev()
        .map(|i| u16::try_from((raw >> (16 * i)) & 0xFFFF).unwrap_or(0))
        .collect();
    if matches!(source.word_order, WordOrder::Cdab | WordOrder::Dcba) {
        words.reverse();
    }
    if matches!(source.word_order, WordOrder::Badc | WordOrder::Dcba) {
        for w in &mut words {
            *w = w.swap_bytes();
        }
    }
    Ok(words)
}

/// `value × 10^(−scale)`: the raw register value of a scaled source.
fn scale_down(value: Decimal, scale: i8) -> Option<Decimal> {
    let factor = Decimal::from(10u64.checked_pow(u32::from(scale.unsigned_abs()))?);
    if scale < 0 {
        value.checked_mul(factor)
    } else {
        value.checked_div(factor)
    }
}

fn store(table: &mut BTreeMap<u16, u16>, address: u16, values: &[u16]) {
    for (a, v) in (address..=u16::MAX).zip(values) {
        table.insert(a, *v);
    }
}

/// Copies `quantity` registers from `address` into `out` (missing ones as `unmapped`);
/// `false` when one is missing and there is no such default.
fn read(
    table: &BTreeMap<u16, u16>,
    unmapped: Option<u16>,
    address: u16,
    quantity: u16,
    out: &mut Vec<u16>,
) -> bool {
    (0..quantity).all(|offset| {
        let value = address
            .checked_add(offset)
            .and_then(|a| table.get(&a).copied().or(unmapped));
        value.map(|v| out.push(v)).is_some()
    })
}

/// Several Modbus servers on one line (RTU) or behind one gateway (TCP).
#[derive(Debug, Clone)]
pub struct ModbusSimBus {
    /// The servers.
    pub servers: Vec<ModbusSim>,
    /// RTU or TCP framing.
    pub framing: Framing,
    /// Fault injection: echo, garbage, foreign reply (from unit + 1), dropped and
    /// corrupt replies, delay, split writes. `reply_preamble` does not apply.
    pub faults: Faults,
}

impl ModbusSimBus {
    /// A bus of `servers` with `framing` and no faults.
    pub fn new(servers: Vec<ModbusSim>, framing: Framing) -> Self {
        ModbusSimBus {
            servers,
            framing,
            faults: Faults::default(),
        }
    }

    fn adu(unit: u8, transaction: Option<u16>, pdu: &[u8], out: &mut Vec<u8>) {
        let Ok(response) = Pdu::parse(pdu, Direction::Response) else {
            return;
        };
        let mut buf = [0u8; tcp::MAX_ADU_LEN];
        let written = match transaction {
            Some(transaction) => tcp::Repr {
                transaction,
                unit,
                pdu: response,
            }
            .emit(&mut buf),
            None => rtu::Repr {
                slave: unit,
                pdu: response,
            }
            .emit(&mut buf),
        };
        if let Ok(n) = written {
            out.extend_from_slice(buf.get(..n).unwrap_or_default());
        }
    }

    /// The bytes the line carries in answer to one request frame `raw` for `unit`,
    /// `elapsed` after the start. An RTU broadcast (unit 0) reaches every server and
    /// none answers; servers sharing a unit id all answer and their replies collide
    /// ([`collide`]).
    pub fn respond(
        &mut self,
        raw: &[u8],
        unit: u8,
        transaction: Option<u16>,
        request: &Request<'_>,
        elapsed: Duration,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        if self.faults.echo {
            out.extend_from_slice(raw);
        }
        let broadcast = self.framing == Framing::Rtu && unit == 0;
        let pdus: Vec<Vec<u8>> = self
            .servers
            .iter_mut()
            .filter(|s| broadcast || s.unit == unit)
            .map(|s| s.handle_at(request, elapsed))
            .collect();
        let Some(first) = pdus.first() else {
            return out;
        };
        if broadcast {
            return out;
        }
        if self.faults.drop_replies > 0 {
            self.faults.drop_replies -= 1;
            return out;
        }
        if self.faults.garbage_before_reply {
            out.extend_from_slice(&[0x00, 0xFF, 0x03]);
        }
        if self.faults.foreign_reply_first {
            Self::adu(
                unit.wrapping_add(1),
                transaction.map(|t| t.wrapping_add(1)),
                first,
                &mut out,
            );
        }
        let wires: Vec<Vec<u8>> = pdus
            .iter()
            .map(|pdu| {
                let mut wire = Vec::new();
                Self::adu(unit, transaction, pdu, &mut wire);
                wire
            })
            .collect();
        out.extend_from_slice(&collide(&wires));
        if self.faults.corrupt_replies > 0 {
            self.faults.corrupt_replies -= 1;
            if let Some(last) = out.last_mut() {
                *last ^= 0xFF;
            }
        }
        out
    }
}

impl Simulated for ModbusSimBus {
    fn step(&mut self, input: &[u8], elapsed: Duration) -> Step {
        let skip = |count| Step::Consumed {
            count,
            reply: Vec::new(),
        };
        let (consumed, raw, unit, transaction, pdu) = match self.framing {
            Framing::Rtu => match rtu::Decoder::new(Direction::Request).decode(input) {
                Decoded::Frame { frame, consumed } => (
                    consumed,
                    input.get(..consumed).unwrap_or_default(),
                    frame.slave(),
                    None,
                    frame.pdu_bytes(),
                ),
                Decoded::Skip { count, .. } => return skip(count),
                Decoded::NeedMore { .. } => return Step::NeedMore,
            },
            Framing::Tcp => match tcp::Decoder::new(Direction::Request).decode(input) {
                Decoded::Frame { frame, consumed } => (
                    consumed,
                    input.get(..consumed).unwrap_or_default(),
                    frame.unit(),
                    Some(frame.transaction()),
                    frame.pdu_bytes(),
                ),
                Decoded::Skip { count, .. } => return skip(count),
                Decoded::NeedMore { .. } => return Step::NeedMore,
            },
        };
        let reply = match Request::parse(pdu) {
            Ok(request) => self.respond(raw, unit, transaction, &request, elapsed),
            Err(_) => Vec::new(),
        };
        Step::Consumed {
            count: consumed,
            reply,
        }
    }

    fn faults(&self) -> &Faults {
        &self.faults
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_encode_as_the_source_says() {
        let source = |order| {
            Source::new(RegisterKind::Holding, 0, DataType::U32, Unit::KWh)
                .scaled(-2)
                .order(order)
        };
        // 12 345.67 kWh at 0.01 kWh = 1 234 567 = 0x0012_D687.
        let kwh = Decimal::new(1_234_567, 2);
        assert_eq!(
            encode_source(&source(WordOrder::Abcd), kwh),
            Ok(vec![0x0012, 0xD687])
        );
        assert_eq!(
            encode_source(&source(WordOrder::Cdab), kwh),
            Ok(vec![0xD687, 0x0012])
        );
        assert_eq!(
            encode_source(&source(WordOrder::Badc), kwh),
            Ok(vec![0x1200, 0x87D6])
        );
        assert_eq!(
            encode_source(&source(WordOrder::Dcba), kwh),
            Ok(vec![0x87D6, 0x1200])
        );
        // 0.125 kWh = 12.5 hundredths: half to even gives 12.
        assert_eq!(
            encode_source(&source(WordOrder::Abcd), Decimal::new(125, 3)),
            Ok(vec![0, 12])
        );
        assert!(encode_source(&source(WordOrder::Abcd), Decimal::NEGATIVE_ONE).is_err());
        // 1.5 kW from 1500 W into a float register: 0x3FC0_0000.
        let kw = Source::new(RegisterKind::Input, 0, DataType::F32, Unit::KW);
        assert_eq!(
            encode_source(&kw, Decimal::from(1500)),
            Ok(vec![0x3FC0, 0x0000])
        );
        // −2 A into a signed 16-bit register at 0.001 A: −2000 = 0xF830.
        let amps = Source::new(RegisterKind::Input, 0, DataType::I16, Unit::A).scaled(-3);
        assert_eq!(encode_source(&amps, Decimal::from(-2)), Ok(vec![0xF830]));
    }

    #[test]
    fn reads_writes_and_exceptions() {
        let mut sim = ModbusSim::new(1).with_holding(0x10, &[7, 8]);
        // FC03 of 2 registers: 03, byte count 4, 00 07 00 08.
        let read = Request::ReadHoldingRegisters {
            address: 0x10,
            quantity: 2,
        };
        assert_eq!(sim.handle(&read), [0x03, 0x04, 0x00, 0x07, 0x00, 0x08]);
        // One register past the table: exception 02 to function 03 = 83 02.
        let past = Request::ReadHoldingRegisters {
            address: 0x11,
            quantity: 2,
        };
        assert_eq!(sim.handle(&past), [0x83, 0x02]);
        let write = Request::WriteSingleRegister {
            address: 0x11,
            value: 0x1234,
        };
        assert_eq!(sim.handle(&write), [0x06, 0x00, 0x11, 0x12, 0x34]);
        assert_eq!(sim.holding(0x11), Some(0x1234));
        assert_eq!(sim.handle(&Request::ReadExceptionStatus), [0x87, 0x01]);
    }
}
