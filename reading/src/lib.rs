#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

use rust_decimal::Decimal;

/// Energy registers of one direction (import or export), in kWh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
pub struct EnergyRegisters {
    /// Total register (all tariffs), kWh.
    pub total: Option<Decimal>,
    /// Tariff registers T1–T4 (index 0 = T1), kWh.
    pub tariffs: [Option<Decimal>; 4],
}

/// An instantaneous value per phase, plus the total or average where the meter reports one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
pub struct PhaseValues {
    /// Phase L1 (or the only phase of a single-phase meter).
    pub l1: Option<Decimal>,
    /// Phase L2.
    pub l2: Option<Decimal>,
    /// Phase L3.
    pub l3: Option<Decimal>,
    /// Total (power) as reported by the meter.
    pub total: Option<Decimal>,
}

/// One reading of a meter at a caller-supplied time.
///
/// Every value is optional: a meter or profile that does not provide a quantity leaves it
/// `None`, and so does a register holding the meter's "not available" sentinel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[non_exhaustive]
pub struct MeterReading<T> {
    /// When the reading was taken, as the caller measures time.
    pub timestamp: T,
    /// Imported (forward, consumed) active energy, kWh.
    pub import: EnergyRegisters,
    /// Exported (reverse, delivered) active energy, kWh.
    pub export: EnergyRegisters,
    /// Phase-to-neutral voltage, V (`total` unused).
    pub voltage: PhaseValues,
    /// Current, A (`total` unused).
    pub current: PhaseValues,
    /// Active power, W; negative when exporting.
    pub active_power: PhaseValues,
    /// Total power factor.
    pub power_factor: Option<Decimal>,
    /// Grid frequency, Hz.
    pub frequency: Option<Decimal>,
}

/// A quantity a meter reports, named independently of any protocol.
///
/// With `serde-1` the names are snake case, e.g. `import_energy_total`, `voltage_l1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde-1", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
#[allow(missing_docs)] // the names are the documentation; units are in `unit()`
pub enum Quantity {
    ImportEnergyTotal,
    ImportEnergyT1,
    ImportEnergyT2,
    ImportEnergyT3,
    ImportEnergyT4,
    ExportEnergyTotal,
    ExportEnergyT1,
    ExportEnergyT2,
    ExportEnergyT3,
    ExportEnergyT4,
    VoltageL1,
    VoltageL2,
    VoltageL3,
    CurrentL1,
    CurrentL2,
    CurrentL3,
    ActivePowerL1,
    ActivePowerL2,
    ActivePowerL3,
    ActivePowerTotal,
    PowerFactor,
    Frequency,
}

impl Quantity {
    /// Every quantity, in declaration order.
    pub const ALL: [Quantity; 22] = [
        Quantity::ImportEnergyTotal,
        Quantity::ImportEnergyT1,
        Quantity::ImportEnergyT2,
        Quantity::ImportEnergyT3,
        Quantity::ImportEnergyT4,
        Quantity::ExportEnergyTotal,
        Quantity::ExportEnergyT1,
        Quantity::ExportEnergyT2,
        Quantity::ExportEnergyT3,
        Quantity::ExportEnergyT4,
        Quantity::VoltageL1,
        Quantity::VoltageL2,
        Quantity::VoltageL3,
        Quantity::CurrentL1,
        Quantity::CurrentL2,
        Quantity::CurrentL3,
        Quantity::ActivePowerL1,
        Quantity::ActivePowerL2,
        Quantity::ActivePowerL3,
        Quantity::ActivePowerTotal,
        Quantity::PowerFactor,
        Quantity::Frequency,
    ];

    /// The unit a [`MeterReading`] stores this quantity in: `"kWh"`, `"V"`, `"A"`, `"W"`,
    /// `"Hz"`, or `""` for the power factor.
    pub const fn unit(self) -> &'static str {
        match self {
            Quantity::ImportEnergyTotal
            | Quantity::ImportEnergyT1
            | Quantity::ImportEnergyT2
            | Quantity::ImportEnergyT3
            | Quantity::ImportEnergyT4
            | Quantity::ExportEnergyTotal
            | Quantity::ExportEnergyT1
            | Quantity::ExportEnergyT2
            | Quantity::ExportEnergyT3
            | Quantity::ExportEnergyT4 => "kWh",
            Quantity::VoltageL1 | Quantity::VoltageL2 | Quantity::VoltageL3 => "V",
            Quantity::CurrentL1 | Quantity::CurrentL2 | Quantity::CurrentL3 => "A",
            Quantity::ActivePowerL1
            | Quantity::ActivePowerL2
            | Quantity::ActivePowerL3
            | Quantity::ActivePowerTotal => "W",
            Quantity::PowerFactor => "",
            Quantity::Frequency => "Hz",
        }
    }

    /// Whether this is a cumulative energy register (the values billing is based on).
    pub const fn is_energy(self) -> bool {
        matches!(self.unit().as_bytes(), b"kWh")
    }

    /// The snake-case name, e.g. `"import_energy_t1"` (the same as the serde name).
    pub const fn name(self) -> &'static str {
        match self {
            Quantity::ImportEnergyTotal => "import_energy_total",
            Quantity::ImportEnergyT1 => "import_energy_t1",
            Quantity::ImportEnergyT2 => "import_energy_t2",
            Quantity::ImportEnergyT3 => "import_energy_t3",
            Quantity::ImportEnergyT4 => "import_energy_t4",
            Quantity::ExportEnergyTotal => "export_energy_total",
            Quantity::ExportEnergyT1 => "export_energy_t1",
            Quantity::ExportEnergyT2 => "export_energy_t2",
            Quantity::ExportEnergyT3 => "export_energy_t3",
            Quantity::ExportEnergyT4 => "export_energy_t4",
            Quantity::VoltageL1 => "voltage_l1",
            Quantity::VoltageL2 => "voltage_l2",
            Quantity::VoltageL3 => "voltage_l3",
            Quantity::CurrentL1 => "current_l1",
            Quantity::CurrentL2 => "current_l2",
            Quantity::CurrentL3 => "current_l3",
            Quantity::ActivePowerL1 => "active_power_l1",
            Quantity::ActivePowerL2 => "active_power_l2",
            Quantity::ActivePowerL3 => "active_power_l3",
            Quantity::ActivePowerTotal => "active_power_total",
            Quantity::PowerFactor => "power_factor",
            Quantity::Frequency => "frequency",
        }
    }

    /// The quantity with the given [`name`](Self::name), if any.
    pub fn from_name(name: &str) -> Option<Quantity> {
        Quantity::ALL.into_iter().find(|q| q.name() == name)
    }
}

impl core::fmt::Display for Quantity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl<T> MeterReading<T> {
    /// An empty reading taken at `timestamp`.
    pub fn new(timestamp: T) -> Self {
        MeterReading {
            timestamp,
            import: EnergyRegisters::default(),
            export: EnergyRegisters::default(),
            voltage: PhaseValues::default(),
            current: PhaseValues::default(),
            active_power: PhaseValues::default(),
            power_factor: None,
            frequency: None,
        }
    }

    fn slot_mut(&mut self, quantity: Quantity) -> &mut Option<Decimal> {
        match quantity {
            Quantity::ImportEnergyTotal => &mut self.import.total,
            Quantity::ImportEnergyT1 => &mut self.import.tariffs[0],
            Quantity::ImportEnergyT2 => &mut self.import.tariffs[1],
            Quantity::ImportEnergyT3 => &mut self.import.tariffs[2],
            Quantity::ImportEnergyT4 => &mut self.import.tariffs[3],
            Quantity::ExportEnergyTotal => &mut self.export.total,
            Quantity::ExportEnergyT1 => &mut self.export.tariffs[0],
            Quantity::ExportEnergyT2 => &mut self.export.tariffs[1],
            Quantity::ExportEnergyT3 => &mut self.export.tariffs[2],
            Quantity::ExportEnergyT4 => &mut self.export.tariffs[3],
            Quantity::VoltageL1 => &mut self.voltage.l1,
            Quantity::VoltageL2 => &mut self.voltage.l2,
            Quantity::VoltageL3 => &mut self.voltage.l3,
            Quantity::CurrentL1 => &mut self.current.l1,
            Quantity::CurrentL2 => &mut self.current.l2,
            Quantity::CurrentL3 => &mut self.current.l3,
            Quantity::ActivePowerL1 => &mut self.active_power.l1,
            Quantity::ActivePowerL2 => &mut self.active_power.l2,
            Quantity::ActivePowerL3 => &mut self.active_power.l3,
            Quantity::ActivePowerTotal => &mut self.active_power.total,
            Quantity::PowerFactor => &mut self.power_factor,
            Quantity::Frequency => &mut self.frequency,
        }
    }

    /// Stores `value` (in the quantity's [`unit`](Quantity::unit)).
    pub fn set(&mut self, quantity: Quantity, value: Decimal) {
        *self.slot_mut(quantity) = Some(value);
    }

    /// The stored value of `quantity`, if it was read.
    pub fn get(&self, quantity: Quantity) -> Option<Decimal> {
        // Copy out of a mutable view of a copy: keeps the field mapping in one place.
        let mut this = MeterReading {
            timestamp: (),
            import: self.import,
            export: self.export,
            voltage: self.voltage,
            current: self.current,
            active_power: self.active_power,
            power_factor: self.power_factor,
            frequency: self.frequency,
        };
        *this.slot_mut(quantity)
    }

    /// Every quantity that holds a value, with that value, in [`Quantity::ALL`] order.
    pub fn values(&self) -> impl Iterator<Item = (Quantity, Decimal)> + '_ {
        Quantity::ALL
            .into_iter()
            .filter_map(|q| self.get(q).map(|v| (q, v)))
    }
}

#[cfg(feature = "defmt-1")]
impl<T: defmt::Format> defmt::Format for MeterReading<T> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "MeterReading @ {}", self.timestamp);
        for (q, v) in self.values() {
            // Decimal has no defmt impl; its mantissa and scale are exact.
            defmt::write!(f, " {}={}e-{}", q.name(), v.mantissa(), v.scale());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_quantity_has_its_own_slot() {
        let mut r = MeterReading::new(0_i64);
        for (i, q) in Quantity::ALL.into_iter().enumerate() {
            r.set(q, Decimal::from(i));
        }
        for (i, q) in Quantity::ALL.into_iter().enumerate() {
            assert_eq!(r.get(q), Some(Decimal::from(i)), "{q}");
        }
        assert_eq!(r.values().count(), Quantity::ALL.len());
    }

    #[test]
    fn names_round_trip_and_units() {
        for q in Quantity::ALL {
            assert_eq!(Quantity::from_name(q.name()), Some(q));
        }
        assert_eq!(Quantity::from_name("bogus"), None);
        assert!(Quantity::ExportEnergyT4.is_energy());
        assert!(!Quantity::ActivePowerTotal.is_energy());
        assert_eq!(Quantity::ActivePowerTotal.unit(), "W");
    }
}
