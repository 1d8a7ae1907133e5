//! Reading a set of meters on a schedule into [`MeterReading`]s.
//!
//! A [`MeterSource`] reads one meter into a reading: [`Dlt645Meter`] (a list of
//! data identifiers, each into a quantity) or [`ModbusMeter`] (a register profile),
//! both through a shared [`BusHandle`]; [`AnyMeter`] mixes them. A [`Poller`] reads a
//! set of sources on a schedule and yields the results.

use std::{future::Future, time::Duration};

use dlt645::{
    Address, Di,
    catalogue::{self, Unit},
    value::Value,
};
use meterkit_modbus::profile::{Profile, Ratios};
use meterkit_reading::{MeterReading, Quantity};
use rust_decimal::Decimal;
use tokio::{sync::mpsc, task::JoinHandle, time::MissedTickBehavior};

use crate::{
    bus::BusHandle,
    client::Client,
    error::{Error, ProtocolError},
    link::Connector,
    modbus::ModbusClient,
    sim::ERR_NO_DATA,
};

/// One data identifier read into one quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollItem {
    /// What to read.
    pub di: Di,
    /// Where it goes.
    pub quantity: Quantity,
}

/// The DL/T 645-2007 items of every [`Quantity`]: forward (import) and reverse
/// (export) active energy total and tariffs 1–4, phase voltages and currents, active
/// power total and per phase, power factor, frequency.
pub fn standard_items() -> Vec<PollItem> {
    let item = |di, quantity| PollItem {
        di: Di::V2007(di),
        quantity,
    };
    vec![
        item(0x0001_0000, Quantity::ImportEnergyTotal),
        item(0x0001_0100, Quantity::ImportEnergyT1),
        item(0x0001_0200, Quantity::ImportEnergyT2),
        item(0x0001_0300, Quantity::ImportEnergyT3),
        item(0x0001_0400, Quantity::ImportEnergyT4),
        item(0x0002_0000, Quantity::ExportEnergyTotal),
        item(0x0002_0100, Quantity::ExportEnergyT1),
        item(0x0002_0200, Quantity::ExportEnergyT2),
        item(0x0002_0300, Quantity::ExportEnergyT3),
        item(0x0002_0400, Quantity::ExportEnergyT4),
        item(0x0201_0100, Quantity::VoltageL1),
        item(0x0201_0200, Quantity::VoltageL2),
        item(0x0201_0300, Quantity::VoltageL3),
        item(0x0202_0100, Quantity::CurrentL1),
        item(0x0202_0200, Quantity::CurrentL2),
        item(0x0202_0300, Quantity::CurrentL3),
        item(0x0203_0000, Quantity::ActivePowerTotal),
        item(0x0203_0100, Quantity::ActivePowerL1),
        item(0x0203_0200, Quantity::ActivePowerL2),
        item(0x0203_0300, Quantity::ActivePowerL3),
        item(0x0206_0000, Quantity::PowerFactor),
        item(0x0280_0002, Quantity::Frequency),
    ]
}

/// The exact decimal a single-number value gives, in the unit [`MeterReading`]
/// stores `quantity` in: the meter's kW become W (× 1000, exact), everything else is
/// kept as sent.
///
/// # Errors
///
/// [`ProtocolError::NotNumeric`] for a value that is not one number, or that
/// overflows a decimal.
pub fn to_quantity(di: Di, value: &Value, quantity: Quantity) -> Result<Decimal, ProtocolError> {
    let not_numeric = ProtocolError::NotNumeric { di };
    let Value::Number(number) = value else {
        return Err(not_numeric);
    };
    let decimal = Decimal::try_from_i128_with_scale(number.mantissa(), u32::from(number.scale()))
        .map_err(|_| not_numeric.clone())?;
    let kilo = catalogue::lookup(di).is_some_and(|info| info.unit == Unit::Kilowatt);
    if kilo && quantity.unit() == "W" {
        decimal
            .checked_mul(Decimal::ONE_THOUSAND)
            .ok_or(not_numeric)
    } else {
        Ok(decimal)
    }
}

/// Reads `items` from the meter at `address` into one reading stamped `timestamp`.
/// An item the meter refuses with "no requested data" is left empty; any other error
/// fails the reading.
///
/// # Errors
///
/// The first error other than a "no data" refusal; that refusal itself when the
/// meter had none of the items.
pub async fn read_meter<C: Connector + 'static, T>(
    bus: &BusHandle<Client<C>>,
    address: Address,
    items: &[PollItem],
    timestamp: T,
) -> Result<MeterReading<T>, Error> {
    let mut reading = MeterReading::new(timestamp);
    let mut refused = None;
    let mut read_any = false;
    for item in items {
        match bus.read_value(address, item.di).await {
            Ok(value) => {
                reading.set(item.quantity, to_quantity(item.di, &value, item.quantity)?);
                read_any = true;
            }
            Err(e @ Error::Abnormal { error, .. }) if error.bits & ERR_NO_DATA != 0 => {
                refused = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    match refused {
        Some(e) if !read_any => Err(e),
        _ => Ok(reading),
    }
}

/// Something a [`Poller`] reads: one meter.
pub trait MeterSource<T>: Send + Sync + 'static {
    /// The meter in a few words, e.g. `dlt645 123456789012` or `modbus unit 1`.
    fn id(&self) -> String;

    /// Reads the meter into a reading stamped `timestamp`.
    ///
    /// # Errors
    ///
    /// Whatever stopped the reading (timeouts, refusals, a closed bus).
    fn read(&self, timestamp: T) -> impl Future<Output = Result<MeterReading<T>, Error>> + Send;
}

/// A DL/T 645 meter on a shared bus.
#[derive(Debug)]
pub struct Dlt645Meter<C: Connector> {
    /// The bus.
    pub bus: BusHandle<Client<C>>,
    /// The meter's address.
    pub address: Address,
    /// What to read ([`standard_items`] for everything).
    pub items: Vec<PollItem>,
}

impl<C: Connector + 'static, T: Send + 'static> MeterSource<T> for Dlt645Meter<C> {
    fn id(&self) -> String {
        format!("dlt645 {}", self.address)
    }

    fn read(&self, timestamp: T) -> impl Future<Output = Result<MeterReading<T>, Error>> + Send {
        read_meter(&self.bus, self.address, &self.items, timestamp)
    }
}

/// A Modbus meter on a shared bus, read through its register profile.
#[derive(Debug)]
pub struct ModbusMeter<C: Connector> {
    /// The bus.
    pub bus: BusHandle<ModbusClient<C>>,
    /// Slave address or unit id.
    pub unit: u8,
    /// Its register map, e.g. `meterkit_modbus::profile::SDM630`.
    pub profile: Profile<'static>,
    /// What to read.
    pub quantities: Vec<Quantity>,
    /// Instrument-transformer ratios.
    pub ratios: Ratios,
}

impl<C: Connector + 'static, T: Send + 'static> MeterSource<T> for ModbusMeter<C> {
    fn id(&self) -> String {
        format!("modbus {} unit {}", self.profile.name, self.unit)
    }

    fn read(&self, timestamp: T) -> impl Future<Output = Result<MeterReading<T>, Error>> + Send {
        self.bus.read_profile(
            self.unit,
            self.profile,
            self.quantities.clone(),
            self.ratios,
            timestamp,
        )
    }
}

/// Either kind of meter, so one poller can read both.
#[derive(Debug)]
pub enum AnyMeter<A: Connector, B: Connector> {
    /// A DL/T 645 meter.
    Dlt645(Dlt645Meter<A>),
    /// A Modbus meter.
    Modbus(ModbusMeter<B>),
}

impl<A, B, T> MeterSource<T> for AnyMeter<A, B>
where
    A: Connector + 'static,
    B: Connector + 'static,
    T: Send + 'static,
{
    fn id(&self) -> String {
        match self {
            AnyMeter::Dlt645(m) => MeterSource::<T>::id(m),
            AnyMeter::Modbus(m) => MeterSource::<T>::id(m),
        }
    }

    async fn read(&self, timestamp: T) -> Result<MeterReading<T>, Error> {
        match self {
            AnyMeter::Dlt645(m) => m.read(timestamp).await,
            AnyMeter::Modbus(m) => m.read(timestamp).await,
        }
    }
}

/// One meter's outcome in one polling round.
#[derive(Debug)]
pub struct Polled<T> {
    /// The meter ([`MeterSource::id`]).
    pub meter: String,
    /// Its position in the list the poller was given.
    pub index: usize,
    /// Its reading, or why there is none this round.
    pub reading: Result<MeterReading<T>, Error>,
}

/// Polls meters on a schedule; take results with [`next`](Poller::next). Dropping
/// the poller stops it.
#[derive(Debug)]
pub struct Poller<T> {
    results: mpsc::Receiver<Polled<T>>,
    task: JoinHandle<()>,
}

impl<T: Send + 'static> Poller<T> {
    /// Starts polling: every `interval` (the first round at once; a round that
    /// overruns delays the next instead of bunching them), each meter in turn,
    /// stamped by `clock` when its reading starts.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (as `tokio::spawn` does).
    pub fn spawn<M, F>(meters: Vec<M>, interval: Duration, mut clock: F) -> Self
    where
        M: MeterSource<T>,
        F: FnMut() -> T + Send + 'static,
    {
        let (tx, results) = mpsc::channel(meters.len().max(1));
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                for (index, meter) in meters.iter().enumerate() {
                    let reading = meter.read(clock()).await;
                    let polled = Polled {
                        meter: meter.id(),
                        index,
                        reading,
                    };
                    if tx.send(polled).await.is_err() {
                        return;
                    }
                }
            }
        });
        Poller { results, task }
    }

    /// The next result; `None` once the poller has stopped.
    pub async fn next(&mut self) -> Option<Polled<T>> {
        self.results.recv().await
    }
}

impl<T> Drop for Poller<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use dlt645::value::Number;

    use super::*;

    #[test]
    fn kilowatts_become_watts_exactly() {
        // 2.2000 kW (scale 4) × 1000 = 2200.0000 W.
        let value = Value::Number(Number::new(22_000, 4, false));
        let w = to_quantity(Di::V2007(0x0203_0000), &value, Quantity::ActivePowerTotal).unwrap();
        assert_eq!(w, Decimal::new(22_000_000, 4));
        assert_eq!(w.to_string(), "2200.0000");
        // Export shows as a negative power.
        let export = Value::Number(Number::new(15, 4, true));
        let w = to_quantity(Di::V2007(0x0203_0000), &export, Quantity::ActivePowerTotal).unwrap();
        assert_eq!(w.to_string(), "-1.5000");
    }

    #[test]
    fn energy_keeps_the_meters_scale() {
        let value = Value::Number(Number::new(120_642, 2, false));
        let kwh = to_quantity(Di::V2007(0x0001_0000), &value, Quantity::ImportEnergyTotal).unwrap();
        assert_eq!(kwh.to_string(), "1206.42");
        let block = Value::Numbers([Number::new(1, 2, false)].into_iter().collect());
        assert_eq!(
            to_quantity(Di::V2007(0x0001_FF00), &block, Quantity::ImportEnergyTotal),
            Err(ProtocolError::NotNumeric {
                di: Di::V2007(0x0001_FF00)
            })
        );
    }

    #[test]
    fn standard_items_cover_every_quantity_once() {
        let items = standard_items();
        for quantity in Quantity::ALL {
            assert_eq!(
                items.iter().filter(|i| i.quantity == quantity).count(),
                1,
                "{quantity}"
            );
            let item = items.iter().find(|i| i.quantity == quantity).unwrap();
            assert!(
                catalogue::lookup(item.di).is_some(),
                "{quantity} not in catalogue"
            );
        }
    }
}
