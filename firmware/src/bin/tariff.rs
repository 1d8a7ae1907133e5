//! Time-of-use pricing on a Cortex-M4F: a charge point receives a 48-slot day table and
//! four period prices from its back office (as the Chinese pile protocols send them), builds
//! a fixed-capacity tariff on the stack, and prices its session live as meter readings come
//! in, with exact decimal arithmetic and no heap.
#![no_std]
#![no_main]

use chrono::{DateTime, FixedOffset};
use cortex_m_rt::entry;
use meterkit_firmware::Volatile;
use meterkit_tariff::{
    Currency, DayTable, LivePricer, Period, PeriodKind, PricingPolicy, Reading, Tariff,
    TariffVersion, Tax, Zone,
};
use rust_decimal::Decimal;

/// Decimals of the prices on the wire: 0.00001 CNY per kWh, as YKC sends them.
const PRICE_SCALE: u32 = 5;
/// Readings per session in this example.
const READINGS: usize = 4;

/// Period index of each half hour from 00:00 (0 sharp, 1 peak, 2 flat, 3 valley): valley
/// until 07:00, flat, peak 10:00–15:00, sharp 19:00–21:00, flat until 23:00, valley.
#[unsafe(no_mangle)]
static HALF_HOURS: Volatile<[u8; 48]> = Volatile::new([
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, // 00:00–07:00 valley
    2, 2, 2, 2, 2, 2, // 07:00–10:00 flat
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, // 10:00–15:00 peak
    2, 2, 2, 2, 2, 2, 2, 2, // 15:00–19:00 flat
    0, 0, 0, 0, // 19:00–21:00 sharp
    2, 2, 2, 2, // 21:00–23:00 flat
    3, 3, // 23:00–24:00 valley
]);
/// Energy and service price of each period, in units of 10^-5 CNY per kWh.
#[unsafe(no_mangle)]
static PRICES: Volatile<[[u32; 2]; 4]> = Volatile::new([
    [131_000, 80_000],
    [110_000, 80_000],
    [70_000, 80_000],
    [40_000, 80_000],
]);
/// Session start and the readings (Unix seconds, register Wh): 2025-03-03 09:30 to 10:30
/// (+08:00), 6 kWh across the 10:00 flat → peak boundary.
#[unsafe(no_mangle)]
static START: Volatile<i64> = Volatile::new(1_740_965_400);
#[unsafe(no_mangle)]
static METER_READINGS: Volatile<[(i64, u64); READINGS]> = Volatile::new([
    (1_740_965_400, 1_000),
    (1_740_966_300, 2_500),
    (1_740_967_200, 4_000),
    (1_740_969_000, 7_000),
]);

/// What the customer pays so far: `GROSS_MINOR` hundredths of a yuan (990 = 9.90 CNY).
#[unsafe(no_mangle)]
static GROSS_MINOR: Volatile<i64> = Volatile::new(0);
/// 0 after a priced session, else which step failed.
#[unsafe(no_mangle)]
static STATUS: Volatile<u8> = Volatile::new(0);

/// Why pricing failed, as the number left in [`STATUS`].
#[derive(Clone, Copy)]
#[repr(u8)]
enum Failure {
    Tariff = 1,
    Reading = 2,
    Amount = 3,
}

const KINDS: [PeriodKind; 4] = [
    PeriodKind::Sharp,
    PeriodKind::Peak,
    PeriodKind::Flat,
    PeriodKind::Valley,
];

/// The tariff the back office sent: China Standard Time, CNY, prices without tax.
///
/// Not inlined: the versions and tables it builds are dead once the tariff is returned, and
/// a separate frame lets the pricing below reuse that stack (measured with opt-level s:
/// `main`'s frame was 39 KB with this inlined, now 24.8 KB plus 6.2 KB here).
#[inline(never)]
fn received_tariff() -> Result<Tariff, meterkit_tariff::Error> {
    let mut version = TariffVersion::new(None, None);
    for (kind, [energy, service]) in KINDS.into_iter().zip(PRICES.read()) {
        version.add_period(Period::new(
            kind,
            Decimal::new(energy.into(), PRICE_SCALE),
            Decimal::new(service.into(), PRICE_SCALE),
        ))?;
    }
    version.add_day_table(DayTable::from_half_hours(None, None, &HALF_HOURS.read())?)?;
    let cst = FixedOffset::east_opt(8 * 3600).map_or(Zone::UTC, Zone::Fixed);
    let mut tariff = Tariff::new("pile", Currency::new("CNY", 2)?, cst, Tax::NONE)?;
    tariff.add_version(version)?;
    Ok(tariff)
}

fn price_session() -> Result<i64, Failure> {
    let tariff = received_tariff().map_err(|_| Failure::Tariff)?;
    let at = |secs| DateTime::from_timestamp(secs, 0).ok_or(Failure::Reading);
    let mut live = LivePricer::new(&tariff, at(START.read())?, PricingPolicy::default())
        .map_err(|_| Failure::Tariff)?;
    let mut gross = Decimal::ZERO;
    for (secs, wh) in METER_READINGS.read() {
        gross = live
            .push(&Reading::new(at(secs)?, wh))
            .map_err(|_| Failure::Reading)?
            .gross;
    }
    // The gross is rounded to the currency's 2 decimals, so its mantissa at scale 2 is exact.
    let mut minor = gross;
    minor.rescale(2);
    i64::try_from(minor.mantissa()).map_err(|_| Failure::Amount)
}

#[entry]
fn main() -> ! {
    loop {
        match price_session() {
            Ok(minor) => {
                GROSS_MINOR.write(minor);
                STATUS.write(0);
            }
            Err(failure) => STATUS.write(failure as u8),
        }
    }
}
