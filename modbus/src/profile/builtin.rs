//! Built-in profiles, from the register facts collected in meterkit's `spec/modbus.md`.
//! Addresses are 0-based PDU addresses. `max_gap` only bridges registers that the
//! vendors' maps document (other parameters), never undocumented holes.

use meterkit_reading::Quantity as Q;

use super::DataType::{F32, I16, I32, U16, U32, U64};
use super::RegisterKind::{Holding, Input};
use super::{Entry, Profile, Source, Unit, WordOrder};

const fn e(quantity: Q, source: Source) -> Entry {
    Entry { quantity, source }
}

/// Eastron SDM family: input registers, float32 ABCD, SI units.
const fn sdm(address: u16, unit: Unit) -> Source {
    Source::new(Input, address, F32, unit)
}

/// Eastron SDM630 (Modbus protocol V2).
///
/// Provenance: volkszaehler/mbmd `meters/rs485/sdm.go`, Tasmota `xnrg_10_sdm630.ino`,
/// OpenEMS `MeterEastronSdm630Impl`. Variants: SDM72D-M V2, Weidmüller EM12x and Kostal
/// KEM-P use the same map. Float32 energy (see the module docs on precision); Eastron
/// answers at most 80 registers (40 parameters) per read.
pub const SDM630: Profile<'static> = Profile {
    name: "sdm630",
    description: "Eastron SDM630 three-phase meter",
    provenance: "mbmd sdm.go; Tasmota xnrg_10_sdm630; OpenEMS MeterEastronSdm630Impl. Same map: SDM72D-M V2, Weidmueller EM12x, Kostal KEM-P",
    max_registers_per_read: 80,
    max_gap: 40,
    entries: &[
        e(Q::VoltageL1, sdm(0x0000, Unit::V)),
        e(Q::VoltageL2, sdm(0x0002, Unit::V)),
        e(Q::VoltageL3, sdm(0x0004, Unit::V)),
        e(Q::CurrentL1, sdm(0x0006, Unit::A)),
        e(Q::CurrentL2, sdm(0x0008, Unit::A)),
        e(Q::CurrentL3, sdm(0x000A, Unit::A)),
        e(Q::ActivePowerL1, sdm(0x000C, Unit::W)),
        e(Q::ActivePowerL2, sdm(0x000E, Unit::W)),
        e(Q::ActivePowerL3, sdm(0x0010, Unit::W)),
        e(Q::ActivePowerTotal, sdm(0x0034, Unit::W)),
        e(Q::PowerFactor, sdm(0x003E, Unit::One)),
        e(Q::Frequency, sdm(0x0046, Unit::Hz)),
        e(Q::ImportEnergyTotal, sdm(0x0048, Unit::KWh)),
        e(Q::ExportEnergyTotal, sdm(0x004A, Unit::KWh)),
    ],
};

/// Eastron SDM120 (single phase).
///
/// Provenance: volkszaehler/mbmd `sdm120.go`. The phase-1 power register is also the
/// total. Variant: SDM120CT (CT-connected) reads primary side already.
pub const SDM120: Profile<'static> = Profile {
    name: "sdm120",
    description: "Eastron SDM120 single-phase meter",
    provenance: "mbmd sdm120.go",
    max_registers_per_read: 80,
    max_gap: 40,
    entries: &[
        e(Q::VoltageL1, sdm(0x0000, Unit::V)),
        e(Q::CurrentL1, sdm(0x0006, Unit::A)),
        e(Q::ActivePowerL1, sdm(0x000C, Unit::W)),
        e(Q::ActivePowerTotal, sdm(0x000C, Unit::W)),
        e(Q::Frequency, sdm(0x0046, Unit::Hz)),
        e(Q::ImportEnergyTotal, sdm(0x0048, Unit::KWh)),
        e(Q::ExportEnergyTotal, sdm(0x004A, Unit::KWh)),
    ],
};

/// Eastron SDM72 (version 1).
///
/// Provenance: volkszaehler/mbmd `sdm72.go`, Tasmota `xnrg_29`. The SDM72D-M V2 has the
/// full SDM630 map: use [`SDM630`] for it.
pub const SDM72: Profile<'static> = Profile {
    name: "sdm72",
    description: "Eastron SDM72 (v1) three-phase meter",
    provenance: "mbmd sdm72.go; Tasmota xnrg_29. SDM72D-M V2: use sdm630",
    max_registers_per_read: 60,
    max_gap: 40,
    entries: &[
        e(Q::ActivePowerTotal, sdm(0x0034, Unit::W)),
        e(Q::ImportEnergyTotal, sdm(0x0048, Unit::KWh)),
        e(Q::ExportEnergyTotal, sdm(0x004A, Unit::KWh)),
    ],
};

/// Chint DTSU666: holding registers, float32 ABCD holding scaled raw values.
const fn dtsu(address: u16, scale: i8, unit: Unit) -> Source {
    Source::new(Holding, address, F32, unit).scaled(scale)
}

/// Chint DTSU666 (three phase).
///
/// Provenance: volkszaehler/mbmd `dtsu666.go`: the floats are raw, scaled values (V ÷10,
/// A ÷1000, W ÷10, PF ÷1000, Hz ÷100), energy in kWh at 0x101E. Known variants
/// (conflicting sources): import energy at 0x401E (gerontec/dtsu666); DTSU666-H unscaled
/// versus DTSU666/-CT ×0.1 (lmatula/ha_chint_pm #2, #16); one page reports FC04 with energy
/// at 0x4000. Check the nameplate and copy `profiles/` to adjust.
pub const CHINT_DTSU666: Profile<'static> = Profile {
    name: "dtsu666",
    description: "Chint DTSU666 three-phase meter",
    provenance: "mbmd dtsu666.go. Conflicts: energy at 0x401E on some units; DTSU666-H unscaled",
    max_registers_per_read: 100,
    max_gap: 32,
    entries: &[
        e(Q::VoltageL1, dtsu(0x2006, -1, Unit::V)),
        e(Q::VoltageL2, dtsu(0x2008, -1, Unit::V)),
        e(Q::VoltageL3, dtsu(0x200A, -1, Unit::V)),
        e(Q::CurrentL1, dtsu(0x200C, -3, Unit::A)),
        e(Q::CurrentL2, dtsu(0x200E, -3, Unit::A)),
        e(Q::CurrentL3, dtsu(0x2010, -3, Unit::A)),
        e(Q::ActivePowerTotal, dtsu(0x2012, -1, Unit::W)),
        e(Q::ActivePowerL1, dtsu(0x2014, -1, Unit::W)),
        e(Q::ActivePowerL2, dtsu(0x2016, -1, Unit::W)),
        e(Q::ActivePowerL3, dtsu(0x2018, -1, Unit::W)),
        e(Q::PowerFactor, dtsu(0x202A, -3, Unit::One)),
        e(Q::Frequency, dtsu(0x2044, -2, Unit::Hz)),
        e(Q::ImportEnergyTotal, dtsu(0x101E, 0, Unit::KWh)),
        e(Q::ExportEnergyTotal, dtsu(0x1028, 0, Unit::KWh)),
    ],
};

const fn ddsu(address: u16, unit: Unit) -> Source {
    Source::new(Input, address, F32, unit)
}

/// Chint DDSU666 (single phase).
///
/// Provenance: Tasmota `xnrg_11_ddsu666.ino` and `xnrg_29`. Power is in kW (converted to
/// W). Energy float32 kWh at 0x4000/0x400A.
pub const CHINT_DDSU666: Profile<'static> = Profile {
    name: "ddsu666",
    description: "Chint DDSU666 single-phase meter",
    provenance: "Tasmota xnrg_11_ddsu666; xnrg_29",
    max_registers_per_read: 100,
    max_gap: 16,
    entries: &[
        e(Q::VoltageL1, ddsu(0x2000, Unit::V)),
        e(Q::CurrentL1, ddsu(0x2002, Unit::A)),
        e(Q::ActivePowerL1, ddsu(0x2004, Unit::KW)),
        e(Q::ActivePowerTotal, ddsu(0x2004, Unit::KW)),
        e(Q::PowerFactor, ddsu(0x200A, Unit::One)),
        e(Q::Frequency, ddsu(0x200E, Unit::Hz)),
        e(Q::ImportEnergyTotal, ddsu(0x4000, Unit::KWh)),
        e(Q::ExportEnergyTotal, ddsu(0x400A, Unit::KWh)),
    ],
};

const fn adl_float(address: u16, unit: Unit) -> Source {
    Source::new(Holding, address, F32, unit)
}

/// ADL400 energy: u32 ABCD in 0.1 kWh, primary side.
const fn adl_energy(address: u16) -> Source {
    Source::new(Holding, address, U32, Unit::KWh).scaled(-1)
}

/// Acrel ADL400 (three phase, tariff registers).
///
/// Provenance: a public implementation citing the ADL400 manual. Instantaneous values are
/// primary-side floats (power in kW); energy u32 in 0.1 kWh primary side; tariffs T1–T4 are
/// the Chinese 尖/峰/平/谷 (sharp, peak, flat, valley) registers. PT/CT ratios live at
/// 0x008D/0x008E; daily (0x6000) and monthly (0x7000) history blocks are secondary side
/// in 0.01 kWh and would need [`Ratio::CtPt`](super::Ratio::CtPt). One site saw 0x0818
/// behave as the total power (unverified).
pub const ACREL_ADL400: Profile<'static> = Profile {
    name: "adl400",
    description: "Acrel ADL400 three-phase DIN-rail meter",
    provenance: "public implementation citing the ADL400 manual; 0x0818 as total unverified",
    max_registers_per_read: 125,
    max_gap: 24,
    entries: &[
        e(Q::VoltageL1, adl_float(0x0800, Unit::V)),
        e(Q::VoltageL2, adl_float(0x0802, Unit::V)),
        e(Q::VoltageL3, adl_float(0x0804, Unit::V)),
        e(Q::CurrentL1, adl_float(0x080C, Unit::A)),
        e(Q::CurrentL2, adl_float(0x080E, Unit::A)),
        e(Q::CurrentL3, adl_float(0x0810, Unit::A)),
        e(Q::ActivePowerL1, adl_float(0x0814, Unit::KW)),
        e(Q::ActivePowerL2, adl_float(0x0816, Unit::KW)),
        e(Q::ActivePowerL3, adl_float(0x0818, Unit::KW)),
        e(Q::ActivePowerTotal, adl_float(0x081A, Unit::KW)),
        e(Q::PowerFactor, adl_float(0x0832, Unit::One)),
        e(Q::Frequency, adl_float(0x0834, Unit::Hz)),
        e(Q::ImportEnergyTotal, adl_energy(0x084C)),
        e(Q::ImportEnergyT1, adl_energy(0x084E)),
        e(Q::ImportEnergyT2, adl_energy(0x0850)),
        e(Q::ImportEnergyT3, adl_energy(0x0852)),
        e(Q::ImportEnergyT4, adl_energy(0x0854)),
        e(Q::ExportEnergyTotal, adl_energy(0x0856)),
        e(Q::ExportEnergyT1, adl_energy(0x0858)),
        e(Q::ExportEnergyT2, adl_energy(0x085A)),
        e(Q::ExportEnergyT3, adl_energy(0x085C)),
        e(Q::ExportEnergyT4, adl_energy(0x085E)),
    ],
};

/// Acrel ADW300 (three phase, wireless/IoT meter).
///
/// Provenance: evcc `templates/definition/meter/acrel-adw300.yaml` (decimal addresses):
/// u16 voltage ×0.1 V, u16 current ×0.01 A, i32 power W, i32 energy ×0.01 kWh.
pub const ACREL_ADW300: Profile<'static> = Profile {
    name: "adw300",
    description: "Acrel ADW300 three-phase meter",
    provenance: "evcc acrel-adw300.yaml",
    max_registers_per_read: 125,
    max_gap: 30,
    entries: &[
        e(
            Q::VoltageL1,
            Source::new(Holding, 20, U16, Unit::V).scaled(-1),
        ),
        e(
            Q::VoltageL2,
            Source::new(Holding, 21, U16, Unit::V).scaled(-1),
        ),
        e(
            Q::VoltageL3,
            Source::new(Holding, 22, U16, Unit::V).scaled(-1),
        ),
        e(
            Q::CurrentL1,
            Source::new(Holding, 26, U16, Unit::A).scaled(-2),
        ),
        e(
            Q::CurrentL2,
            Source::new(Holding, 27, U16, Unit::A).scaled(-2),
        ),
        e(
            Q::CurrentL3,
            Source::new(Holding, 28, U16, Unit::A).scaled(-2),
        ),
        e(Q::ActivePowerL1, Source::new(Holding, 30, I32, Unit::W)),
        e(Q::ActivePowerL2, Source::new(Holding, 32, I32, Unit::W)),
        e(Q::ActivePowerL3, Source::new(Holding, 34, I32, Unit::W)),
        e(Q::ActivePowerTotal, Source::new(Holding, 36, I32, Unit::W)),
        e(
            Q::ImportEnergyTotal,
            Source::new(Holding, 62, I32, Unit::KWh).scaled(-2),
        ),
        e(
            Q::ExportEnergyTotal,
            Source::new(Holding, 64, I32, Unit::KWh).scaled(-2),
        ),
    ],
};

/// Carlo Gavazzi EM24: input registers, INT32 word-swapped (CDAB).
const fn em24(address: u16, scale: i8, unit: Unit) -> Source {
    Source::new(Input, address, I32, unit)
        .scaled(scale)
        .order(WordOrder::Cdab)
}

/// Carlo Gavazzi EM24 (RS-485 versions).
///
/// Provenance: volkszaehler/mbmd `carlogavazzi-em24.go`; evcc `cg-em24.yaml` (which drops
/// export energy, evcc#31143). INT32 least significant word first; power factor and
/// frequency INT16. The PF block 0x32–0x35 is read here as L1, L2, L3, total
/// (unverified). The Ethernet EM24_E1 map is not compatible.
pub const EM24: Profile<'static> = Profile {
    name: "em24",
    description: "Carlo Gavazzi EM24 three-phase meter (RS-485)",
    provenance: "mbmd carlogavazzi-em24.go; evcc cg-em24.yaml. EM24_E1 (Ethernet) incompatible; PF total at 0x35 unverified",
    max_registers_per_read: 125,
    max_gap: 16,
    entries: &[
        e(Q::VoltageL1, em24(0x00, -1, Unit::V)),
        e(Q::VoltageL2, em24(0x02, -1, Unit::V)),
        e(Q::VoltageL3, em24(0x04, -1, Unit::V)),
        e(Q::CurrentL1, em24(0x0C, -3, Unit::A)),
        e(Q::CurrentL2, em24(0x0E, -3, Unit::A)),
        e(Q::CurrentL3, em24(0x10, -3, Unit::A)),
        e(Q::ActivePowerL1, em24(0x12, -1, Unit::W)),
        e(Q::ActivePowerL2, em24(0x14, -1, Unit::W)),
        e(Q::ActivePowerL3, em24(0x16, -1, Unit::W)),
        e(Q::ActivePowerTotal, em24(0x28, -1, Unit::W)),
        e(
            Q::PowerFactor,
            Source::new(Input, 0x35, I16, Unit::One).scaled(-3),
        ),
        e(
            Q::Frequency,
            Source::new(Input, 0x37, I16, Unit::Hz).scaled(-1),
        ),
        e(Q::ImportEnergyTotal, em24(0x42, -1, Unit::KWh)),
        e(Q::ExportEnergyTotal, em24(0x5C, -1, Unit::KWh)),
    ],
};

const fn abb(address: u16, data_type: super::DataType, scale: i8, unit: Unit) -> Source {
    Source::new(Holding, address, data_type, unit)
        .scaled(scale)
        .nan_sentinel()
}

/// ABB B23 (same map: A43, A44, B24).
///
/// Provenance: volkszaehler/mbmd `abb.go`. Big-endian integers; "not available" is all
/// ones for unsigned and 0x7FFF… for signed registers. Energy u64 in 0.01 kWh. Per-tariff
/// registers exist but their addresses are (unverified), so they are left out.
pub const ABB_B23: Profile<'static> = Profile {
    name: "b23",
    description: "ABB B23 three-phase meter (also A43, A44, B24)",
    provenance: "mbmd abb.go. Same map: A43, A44, B24. Tariff registers unverified, omitted",
    max_registers_per_read: 125,
    max_gap: 16,
    entries: &[
        e(Q::VoltageL1, abb(0x5B00, U32, -1, Unit::V)),
        e(Q::VoltageL2, abb(0x5B02, U32, -1, Unit::V)),
        e(Q::VoltageL3, abb(0x5B04, U32, -1, Unit::V)),
        e(Q::CurrentL1, abb(0x5B0C, U32, -2, Unit::A)),
        e(Q::CurrentL2, abb(0x5B0E, U32, -2, Unit::A)),
        e(Q::CurrentL3, abb(0x5B10, U32, -2, Unit::A)),
        e(Q::ActivePowerTotal, abb(0x5B14, I32, -2, Unit::W)),
        e(Q::ActivePowerL1, abb(0x5B16, I32, -2, Unit::W)),
        e(Q::ActivePowerL2, abb(0x5B18, I32, -2, Unit::W)),
        e(Q::ActivePowerL3, abb(0x5B1A, I32, -2, Unit::W)),
        e(Q::Frequency, abb(0x5B2C, U16, -2, Unit::Hz)),
        e(Q::PowerFactor, abb(0x5B3A, I16, -3, Unit::One)),
        e(Q::ImportEnergyTotal, abb(0x5000, U64, -2, Unit::KWh)),
        e(Q::ExportEnergyTotal, abb(0x5004, U64, -2, Unit::KWh)),
    ],
};

/// Every built-in profile.
pub const BUILT_IN: [Profile<'static>; 9] = [
    SDM630,
    SDM120,
    SDM72,
    CHINT_DTSU666,
    CHINT_DDSU666,
    ACREL_ADL400,
    ACREL_ADW300,
    EM24,
    ABB_B23,
];

/// The built-in profile called `name` (case-insensitive), e.g. `"sdm630"`.
pub fn built_in(name: &str) -> Option<Profile<'static>> {
    BUILT_IN
        .into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
}
