//! What a simulated meter counts and when: its own clock (true time plus a skew), its
//! daily period table, and energy split into tariff-rate registers as the table says.
//! Sans-IO: every question takes the time since the simulation started.

use std::{fmt, str::FromStr, time::Duration};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};

use crate::sim::EnergyProfile;

const MS_PER_DAY: u64 = 86_400_000;
const MS_PER_MINUTE: u64 = 60_000;

/// Wh per register unit: energy registers count 0.01 kWh (DL/T 645 XXXXXX.XX kWh).
const WH_PER_UNIT: u64 = 10;

/// A tariff rate of a multi-rate meter, 1..=4. Chinese meters number them 尖 (sharp)
/// 1, 峰 (peak) 2, 平 (flat) 3, 谷 (valley) 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u8);

impl Rate {
    /// Rate `n`, if it is 1..=4.
    pub const fn new(n: u8) -> Option<Rate> {
        if n >= 1 && n <= 4 {
            Some(Rate(n))
        } else {
            None
        }
    }

    /// The rate number, 1..=4.
    pub const fn get(self) -> u8 {
        self.0
    }

    fn index(self) -> usize {
        usize::from(self.0 - 1)
    }
}

/// A period table that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeriodError {
    /// No period at all.
    #[error("a period table needs at least one period")]
    Empty,
    /// Two periods start at the same minute.
    #[error("two periods start at {minute_of_day} minutes past midnight")]
    Duplicate {
        /// Minutes since midnight.
        minute_of_day: u16,
    },
    /// A start past 23:59.
    #[error("a period starts {minute_of_day} minutes past midnight, past 23:59")]
    Minute {
        /// Minutes since midnight.
        minute_of_day: u16,
    },
    /// Text that is not `HH:MM=R[,HH:MM=R…]` with R in 1..=4.
    #[error("bad period {text:?}: expected HH:MM=R with R 1..4, comma-separated")]
    Syntax {
        /// The offending entry.
        text: String,
    },
}

/// A meter's daily period table (时段表): the minute each period starts and its rate.
/// A period lasts until the next one starts; the last one runs past midnight into the
/// first. Every day uses the same table (no weekday or holiday tables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodTable {
    /// Sorted by start, starts unique, at least one entry.
    periods: Vec<(u16, Rate)>,
}

impl PeriodTable {
    /// A table from `(minute of day, rate)` starts in any order.
    ///
    /// # Errors
    ///
    /// [`PeriodError`] for an empty table, a start past 23:59, or two periods starting
    /// at the same minute.
    pub fn new(periods: &[(u16, Rate)]) -> Result<Self, PeriodError> {
        let mut periods = periods.to_vec();
        periods.sort_unstable_by_key(|(start, _)| *start);
        if let Some((minute_of_day, _)) = periods.iter().find(|(start, _)| *start >= 24 * 60) {
            return Err(PeriodError::Minute {
                minute_of_day: *minute_of_day,
            });
        }
        if let Some(pair) = periods.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(PeriodError::Duplicate {
                minute_of_day: pair[0].0,
            });
        }
        if periods.is_empty() {
            return Err(PeriodError::Empty);
        }
        Ok(PeriodTable { periods })
    }

    /// One rate all day.
    pub fn flat(rate: Rate) -> Self {
        PeriodTable {
            periods: vec![(0, rate)],
        }
    }

    /// The periods, sorted by start minute.
    pub fn periods(&self) -> &[(u16, Rate)] {
        &self.periods
    }

    /// The rate in force at `ms` milliseconds past midnight, and how many milliseconds
    /// it stays in force (at least 1).
    fn at(&self, ms: u64) -> (Rate, u64) {
        let ms = ms % MS_PER_DAY;
        let start = |(minute, _): &(u16, Rate)| u64::from(*minute) * MS_PER_MINUTE;
        let current = self
            .periods
            .iter()
            .rev()
            .find(|p| start(p) <= ms)
            .or(self.periods.last());
        let next = self.periods.iter().find(|p| start(p) > ms).map_or_else(
            || self.periods.first().map_or(MS_PER_DAY, start) + MS_PER_DAY,
            start,
        );
        let rate = current.map_or(Rate(1), |(_, rate)| *rate);
        (rate, next.saturating_sub(ms).max(1))
    }

    /// The rate in force at `time` of day.
    pub fn rate_at(&self, time: NaiveTime) -> Rate {
        self.at(ms_of_day(time)).0
    }
}

impl Default for PeriodTable {
    /// An illustrative table in the shape of Chinese 尖峰平谷 tables (not any
    /// province's official one): valley 23:00–08:00, flat 08:00–10:00, 15:00–18:00 and
    /// 22:00–23:00, peak 10:00–15:00, 18:00–19:00 and 21:00–22:00, sharp 19:00–21:00.
    fn default() -> Self {
        let periods = [
            (0, 4),
            (8 * 60, 3),
            (10 * 60, 2),
            (15 * 60, 3),
            (18 * 60, 2),
            (19 * 60, 1),
            (21 * 60, 2),
            (22 * 60, 3),
            (23 * 60, 4),
        ];
        PeriodTable {
            periods: periods.iter().map(|&(m, r)| (m, Rate(r))).collect(),
        }
    }
}

/// `HH:MM=R` entries separated by commas, e.g. `00:00=4,08:00=3,10:00=2`.
impl FromStr for PeriodTable {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, PeriodError> {
        let entry = |text: &str| -> Option<(u16, Rate)> {
            let (time, rate) = text.trim().split_once('=')?;
            let (hh, mm) = time.split_once(':')?;
            let digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
            if !digits(hh) || !digits(mm) {
                return None;
            }
            let (hh, mm): (u16, u16) = (hh.parse().ok()?, mm.parse().ok()?);
            if hh > 23 || mm > 59 {
                return None;
            }
            Some((hh * 60 + mm, Rate::new(rate.trim().parse().ok()?)?))
        };
        let periods = s
            .split(',')
            .map(|text| {
                entry(text).ok_or_else(|| PeriodError::Syntax {
                    text: text.to_owned(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        PeriodTable::new(&periods)
    }
}

impl fmt::Display for PeriodTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (minute, rate)) in self.periods.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep}{:02}:{:02}={}", minute / 60, minute % 60, rate.0)?;
        }
        Ok(())
    }
}

fn ms_of_day(time: NaiveTime) -> u64 {
    u64::from(time.num_seconds_from_midnight()) * 1000 + u64::from(time.nanosecond() / 1_000_000)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A simulated meter's own clock: the true time when the simulation started, and
/// how far the meter's clock is off (positive = fast).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeterClock {
    /// True time at simulated time zero.
    pub start: NaiveDateTime,
    /// Meter time minus true time.
    pub skew: TimeDelta,
}

impl Default for MeterClock {
    /// 2026-01-01 00:00:00, no skew.
    fn default() -> Self {
        MeterClock {
            start: NaiveDate::from_ymd_opt(2026, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or_default(),
            skew: TimeDelta::zero(),
        }
    }
}

impl MeterClock {
    /// The meter's time `elapsed` after the start (the true time if the sum would
    /// leave chrono's range).
    pub fn at(&self, elapsed: Duration) -> NaiveDateTime {
        TimeDelta::from_std(elapsed)
            .ok()
            .and_then(|e| e.checked_add(&self.skew))
            .and_then(|offset| self.start.checked_add_signed(offset))
            .unwrap_or(self.start)
    }

    /// Milliseconds past midnight on the meter's clock `ms` after the start.
    fn ms_of_day(&self, ms: u64) -> u64 {
        let base = i128::from(ms_of_day(self.start.time()))
            + i128::from(self.skew.num_milliseconds())
            + i128::from(ms);
        u64::try_from(base.rem_euclid(i128::from(MS_PER_DAY))).unwrap_or(0)
    }

    /// Sets the meter's clock to `time` at `elapsed` (what a broadcast time does).
    pub fn set(&mut self, elapsed: Duration, time: NaiveDateTime) {
        let true_now = TimeDelta::from_std(elapsed)
            .ok()
            .and_then(|e| self.start.checked_add_signed(e))
            .unwrap_or(self.start);
        self.skew = time.signed_duration_since(true_now);
    }
}

/// Energy registers at one instant, in register units of 0.01 kWh (10 Wh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateRegisters {
    /// Rates 1..=4 (index 0 = rate 1).
    pub rates: [u64; 4],
}

impl RateRegisters {
    /// The total register: the sum of the rates, as the meter counts every 0.01 kWh
    /// into exactly one rate.
    pub fn total(&self) -> u64 {
        self.rates.iter().fold(0u64, |a, r| a.saturating_add(*r))
    }
}

/// A meter's import energy counting: a load ([`EnergyProfile`]) measured in steps of
/// 0.01 kWh, each step counted into the rate the [`PeriodTable`] gives for the meter's
/// clock at that moment. The total register always equals
/// `EnergyProfile::energy_wh(elapsed) / 10` and the sum of the rate registers.
///
/// ```
/// use std::time::Duration;
/// use meterkit_transport::sim::{EnergyProfile, MeterClock, Metering, PeriodTable};
/// // 3.6 kW from 07:00 (valley until 08:00, flat after) on the default table.
/// let clock = MeterClock {
///     start: "2026-03-02T07:00:00".parse()?,
///     ..MeterClock::default()
/// };
/// let metering = Metering::new(EnergyProfile { start_wh: 0, power_w: 3_600 });
/// // Two hours: 3600 Wh in the valley hour (rate 4), 3600 Wh in the flat hour
/// // (rate 3); 360 units of 0.01 kWh each.
/// let r = metering.registers(&clock, Duration::from_secs(7_200));
/// assert_eq!(r.rates, [0, 0, 360, 360]);
/// assert_eq!(r.total(), 720);
/// # Ok::<(), chrono::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metering {
    profile: EnergyProfile,
    periods: PeriodTable,
    /// Simulated time (ms) up to which `settled` holds the rates.
    settled_ms: u64,
    settled: RateRegisters,
}

impl Metering {
    /// Counting `profile` with the default [`PeriodTable`]. The energy at time zero is
    /// split evenly over the four rates (the remainder on rate 1): the meter's history
    /// before the simulation is unknown.
    pub fn new(profile: EnergyProfile) -> Self {
        let units = profile.energy_wh(Duration::ZERO) / WH_PER_UNIT;
        let quarter = units / 4;
        Metering {
            profile,
            periods: PeriodTable::default(),
            settled_ms: 0,
            settled: RateRegisters {
                rates: [units - 3 * quarter, quarter, quarter, quarter],
            },
        }
    }

    /// Uses `periods` instead of the default table.
    #[must_use]
    pub fn with_periods(mut self, periods: PeriodTable) -> Self {
        self.periods = periods;
        self
    }

    /// The load.
    pub fn profile(&self) -> EnergyProfile {
        self.profile
    }

    /// The period table.
    pub fn periods(&self) -> &PeriodTable {
        &self.periods
    }

    /// The rate in force `elapsed` after the start on `clock`.
    pub fn rate_at(&self, clock: &MeterClock, elapsed: Duration) -> Rate {
        self.periods.at(clock.ms_of_day(millis(elapsed))).0
    }

    /// The registers `elapsed` after the start, reading the table on `clock`. A time
    /// before the last [`settle`](Self::settle) gives the settled registers.
    pub fn registers(&self, clock: &MeterClock, elapsed: Duration) -> RateRegisters {
        let mut registers = self.settled;
        self.count(clock, self.settled_ms, millis(elapsed), &mut registers);
        registers
    }

    /// Fixes the registers up to `elapsed` on `clock`; call it before the clock
    /// changes, so energy already counted stays in the rate it was counted in.
    pub fn settle(&mut self, clock: &MeterClock, elapsed: Duration) {
        let to = millis(elapsed);
        if to > self.settled_ms {
            let mut registers = self.settled;
            self.count(clock, self.settled_ms, to, &mut registers);
            self.settled = registers;
            self.settled_ms = to;
        }
    }

    /// Adds the 0.01 kWh steps taken between `from` and `to` ms, period by period.
    /// Steps are differences of the floored cumulative energy, so they add up to
    /// exactly the total's increase whatever the period boundaries.
    fn count(&self, clock: &MeterClock, from: u64, to: u64, registers: &mut RateRegisters) {
        if self.profile.power_w == 0 {
            return;
        }
        let units = |ms| self.profile.energy_wh(Duration::from_millis(ms)) / WH_PER_UNIT;
        let mut at = from;
        while at < to {
            let (rate, lasts) = self.periods.at(clock.ms_of_day(at));
            let end = at.saturating_add(lasts).min(to);
            if let Some(register) = registers.rates.get_mut(rate.index()) {
                *register = register.saturating_add(units(end).saturating_sub(units(at)));
            }
            at = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(n: u8) -> Rate {
        Rate::new(n).unwrap()
    }

    fn clock_at(text: &str) -> MeterClock {
        MeterClock {
            start: text.parse().unwrap(),
            skew: TimeDelta::zero(),
        }
    }

    #[test]
    fn table_parses_sorts_and_wraps() {
        let table: PeriodTable = "22:00=4, 08:00=2".parse().unwrap();
        assert_eq!(table.to_string(), "08:00=2,22:00=4");
        let at = |h, m| table.rate_at(NaiveTime::from_hms_opt(h, m, 0).unwrap());
        // Before the first start the last period (22:00, rate 4) still runs.
        assert_eq!(at(3, 0), rate(4));
        assert_eq!(at(8, 0), rate(2));
        assert_eq!(at(21, 59), rate(2));
        assert_eq!(at(22, 0), rate(4));
        // 07:00 → next start 08:00: one hour in force.
        assert_eq!(table.at(7 * 3_600_000), (rate(4), 3_600_000));
        // 23:00 → next start is 08:00 tomorrow: 9 hours.
        assert_eq!(table.at(23 * 3_600_000), (rate(4), 9 * 3_600_000));
        for bad in [
            "", "8:00=1", "24:00=1", "08:60=1", "08:00=5", "08:00=0", "08:00",
        ] {
            assert!(matches!(
                bad.parse::<PeriodTable>(),
                Err(PeriodError::Syntax { .. })
            ));
        }
        assert_eq!(
            "08:00=1,08:00=2".parse::<PeriodTable>(),
            Err(PeriodError::Duplicate { minute_of_day: 480 })
        );
        assert_eq!(PeriodTable::new(&[]), Err(PeriodError::Empty));
        assert_eq!(
            PeriodTable::new(&[(1440, rate(1))]),
            Err(PeriodError::Minute {
                minute_of_day: 1440
            })
        );
        assert_eq!(
            PeriodTable::default().to_string().parse(),
            Ok(PeriodTable::default())
        );
    }

    #[test]
    fn energy_goes_into_the_rate_of_the_meter_clock() {
        // 7.2 kW = 2 Wh per second = 0.2 units/s, from 07:59:00 on a flat 2 / 08:00 → 1
        // table.
        let table: PeriodTable = "08:00=1,20:00=2".parse().unwrap();
        let metering = Metering::new(EnergyProfile {
            start_wh: 0,
            power_w: 7_200,
        })
        .with_periods(table.clone());
        let clock = clock_at("2026-03-02T07:59:00");
        // 120 s: the first 60 s before 08:00 = 120 Wh = 12 units into rate 2, the
        // next 60 s = 12 units into rate 1.
        let r = metering.registers(&clock, Duration::from_secs(120));
        assert_eq!(r.rates, [12, 12, 0, 0]);
        assert_eq!(r.total(), 24);
        // The same meter 5 minutes fast is already past 08:00: all 24 units in rate 1.
        let fast = MeterClock {
            skew: TimeDelta::minutes(5),
            ..clock
        };
        assert_eq!(
            metering.registers(&fast, Duration::from_secs(120)).rates,
            [24, 0, 0, 0]
        );
        // And the meter's own clock reads 5 minutes ahead of true time.
        assert_eq!(
            fast.at(Duration::from_secs(120)),
            "2026-03-02T08:06:00".parse::<NaiveDateTime>().unwrap()
        );
        assert_eq!(metering.rate_at(&fast, Duration::ZERO), rate(1));
        assert_eq!(metering.rate_at(&clock, Duration::ZERO), rate(2));
    }

    #[test]
    fn settling_keeps_counted_energy_when_the_clock_jumps() {
        let table: PeriodTable = "00:00=4,12:00=2".parse().unwrap();
        let mut metering = Metering::new(EnergyProfile {
            start_wh: 0,
            power_w: 3_600,
        })
        .with_periods(table);
        let mut clock = clock_at("2026-03-02T10:00:00");
        // One hour in rate 4: 3600 Wh = 360 units.
        metering.settle(&clock, Duration::from_secs(3_600));
        // Broadcast time sets the meter to 13:00 at that moment.
        clock.set(
            Duration::from_secs(3_600),
            "2026-03-02T13:00:00".parse().unwrap(),
        );
        assert_eq!(clock.skew, TimeDelta::hours(2));
        // The next hour counts into rate 2; the first stays in rate 4.
        let r = metering.registers(&clock, Duration::from_secs(7_200));
        assert_eq!(r.rates, [0, 360, 0, 360]);
    }

    #[test]
    fn start_energy_splits_evenly() {
        // 12 345 678 Wh = 1 234 567 units: quarter 308 641, rate 1 takes the rest
        // 1 234 567 − 3 × 308 641 = 308 644.
        let metering = Metering::new(EnergyProfile {
            start_wh: 12_345_678,
            power_w: 0,
        });
        let r = metering.registers(&MeterClock::default(), Duration::from_secs(99));
        assert_eq!(r.rates, [308_644, 308_641, 308_641, 308_641]);
        assert_eq!(r.total(), 1_234_567);
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_fails_cleanly(text in "\\PC{0,40}") {
            let _ = text.parse::<PeriodTable>();
        }

        #[test]
        fn tables_round_trip_through_text(
            starts in proptest::collection::btree_map(0u16..1440, 1u8..=4, 1..12),
        ) {
            let periods: Vec<(u16, Rate)> =
                starts.iter().map(|(m, r)| (*m, rate(*r))).collect();
            let table = PeriodTable::new(&periods).unwrap();
            proptest::prop_assert_eq!(table.to_string().parse::<PeriodTable>(), Ok(table.clone()));
            // Every minute of the day has the rate of the last start at or before it,
            // or, before the first start, of the day's last one.
            for minute in 0u16..1440 {
                let expected = starts
                    .range(..=minute)
                    .next_back()
                    .or_else(|| starts.iter().next_back())
                    .map(|(_, r)| rate(*r));
                let time =
                    NaiveTime::from_num_seconds_from_midnight_opt(u32::from(minute) * 60, 0)
                        .unwrap();
                proptest::prop_assert_eq!(Some(table.rate_at(time)), expected);
            }
        }

        #[test]
        fn rates_add_up_to_the_total(
            start_wh in 0u64..100_000_000,
            power_w in 0u64..400_000,
            start_s in 0u32..86_400,
            skew_s in -86_400i64..86_400,
            elapsed_ms in 0u64..(3 * MS_PER_DAY),
            settle_at in 0u64..(3 * MS_PER_DAY),
        ) {
            let profile = EnergyProfile { start_wh, power_w };
            let clock = MeterClock {
                start: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap().and_time(
                    NaiveTime::from_num_seconds_from_midnight_opt(start_s, 0).unwrap(),
                ),
                skew: TimeDelta::seconds(skew_s),
            };
            let mut metering = Metering::new(profile);
            metering.settle(&clock, Duration::from_millis(settle_at.min(elapsed_ms)));
            let r = metering.registers(&clock, Duration::from_millis(elapsed_ms));
            proptest::prop_assert_eq!(
                r.total(),
                profile.energy_wh(Duration::from_millis(elapsed_ms)) / 10
            );
        }
    }
}
