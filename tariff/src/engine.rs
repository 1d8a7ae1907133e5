//! The pricing engine: one incremental core ([`LivePricer`]) that batch pricing
//! ([`price_session`]) simply drives, so live and batch results cannot diverge.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::model::{PeriodKind, Tariff, TariffVersion, Zone};
use crate::{Currency, Error};

const MAX_RATE_NUMBER: u8 = 8;
/// Most rate registers a reading carries (DL/T 645 meters count 4 to 8 rates).
pub const MAX_RATES: usize = MAX_RATE_NUMBER as usize;

/// Most lines a bill holds without the `alloc` feature.
#[cfg(not(feature = "alloc"))]
pub const MAX_LINES: usize = 32;

#[cfg(feature = "alloc")]
type Lines = alloc::vec::Vec<Line>;
#[cfg(not(feature = "alloc"))]
type Lines = heapless::Vec<Line, MAX_LINES>;

const MS_PER_DAY: i64 = 86_400_000;
const MS_PER_HOUR: i64 = 3_600_000;

/// Whether the vehicle draws energy (time fee) or occupies the bay idle (parking fee).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChargeState {
    /// Charging: the time fee runs.
    #[default]
    Charging,
    /// Connected but idle: the parking fee runs once the grace is used up.
    Idle,
}

/// A timestamped reading of the meter's cumulative registers.
///
/// `state`, when present, is the charge state from this reading until the next one that
/// carries a state; a session starts [`ChargeState::Charging`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reading {
    /// When the registers were read.
    pub at: DateTime<Utc>,
    /// Total active energy register, Wh.
    pub total_wh: u64,
    /// Rate registers 1..=[`MAX_RATES`] (index 0 = rate 1), Wh, when the meter provides them.
    pub rates: [Option<u64>; MAX_RATES],
    /// Charge state from this reading on.
    pub state: Option<ChargeState>,
}

impl Reading {
    /// A reading of the total register only.
    pub fn new(at: DateTime<Utc>, total_wh: u64) -> Self {
        Self {
            at,
            total_wh,
            rates: [None; MAX_RATES],
            state: None,
        }
    }

    /// Adds rate register `rate` (1-based).
    ///
    /// # Errors
    /// [`Error::RateNumber`] outside `1..=MAX_RATES`.
    pub fn with_rate(mut self, rate: u8, wh: u64) -> Result<Self, Error> {
        let slot = usize::from(rate)
            .checked_sub(1)
            .and_then(|i| self.rates.get_mut(i))
            .ok_or(Error::RateNumber {
                rate,
                max: MAX_RATE_NUMBER,
            })?;
        *slot = Some(wh);
        Ok(self)
    }

    /// Sets the charge state from this reading on.
    #[must_use]
    pub fn with_state(mut self, state: ChargeState) -> Self {
        self.state = Some(state);
        self
    }
}

/// How ties and excess digits are rounded at a rounding point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RoundingMode {
    /// 四舍五入: ties away from zero (`RoundingStrategy::MidpointAwayFromZero`).
    #[default]
    HalfUp,
    /// Banker's rounding, GB/T 8170 (`RoundingStrategy::MidpointNearestEven`).
    HalfEven,
    /// Truncation toward zero (`RoundingStrategy::ToZero`).
    Down,
}

impl RoundingMode {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Self::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Self::HalfEven => RoundingStrategy::MidpointNearestEven,
            Self::Down => RoundingStrategy::ToZero,
        }
    }
}

/// Where amounts are rounded to the currency's minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RoundingPoint {
    /// Every amount of every line; fee totals are exact sums of rounded lines.
    PerLine,
    /// Lines stay exact; each fee total (electricity, service, time, parking, flat) is rounded once.
    #[default]
    PerFee,
    /// Lines and fee totals stay exact; only the session subtotal is rounded.
    PerTotal,
}

/// The rounding policy. Default: [`RoundingPoint::PerFee`], [`RoundingMode::HalfUp`].
///
/// Besides the chosen point, exactly two more places round, always with the same mode and
/// the currency's scale: the subtotal after the min/max clamp (a no-op unless min/max carry
/// more decimals than the currency, or the point is `PerTotal`), and the tax amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rounding {
    /// Tie rule.
    pub mode: RoundingMode,
    /// Rounding point.
    pub point: RoundingPoint,
}

impl Rounding {
    /// Rounds `amount` to `scale` decimals with this policy's mode.
    pub fn round(&self, amount: Decimal, scale: u32) -> Decimal {
        amount.round_dp_with_strategy(scale, self.mode.strategy())
    }
}

/// How the energy of a reading interval is split among the tariff periods it spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Attribution {
    /// Linear in (UTC) time within each interval. With `E` Wh over `[t0, t1]` and a period
    /// boundary at `b`, the energy before `b` is `floor(E × (b − t0) / (t1 − t0))` Wh; each part
    /// is the difference of two such cumulative floors, so the parts sum exactly to `E` and the
    /// sub-Wh remainders land in the later parts.
    #[default]
    Linear,
    /// The meter's rate registers are authoritative: the delta of rate register `r` is the
    /// energy of the period mapped to `r` ([`Period::meter_rate`](crate::Period::meter_rate)).
    /// Within an interval, that energy is spread linearly over the time the tariff's own clock
    /// spent in that period; if our clock saw no such period in the interval (clocks disagree),
    /// the energy is booked at the interval's end. The total register is then not used.
    RateRegisters,
}

/// Which tariff version prices the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum VersionSelection {
    /// The version valid on the local date of the session start prices the whole session
    /// (what the driver agreed to; consumer law in many places).
    #[default]
    AtSessionStart,
    /// Period prices change at the version boundary during the session. Session-level rules
    /// (flat, time, parking fees, min/max, tiers) still come from the start version.
    PerInstant,
}

/// All choices of a pricing run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PricingPolicy {
    /// Rounding mode and point.
    pub rounding: Rounding,
    /// Energy attribution rule.
    pub attribution: Attribution,
    /// Version selection rule.
    pub version_selection: VersionSelection,
    /// The energy registers count modulo this many Wh (DL/T 645: they wrap from 999 999.99 kWh
    /// to 0, so `1_000_000_000`). When set, a decrease whose wrapped delta
    /// `current + modulus − previous` is under half the modulus is read as a rollover; any
    /// other decrease (or any decrease when unset) is [`Error::RegisterDecreased`]: a meter
    /// reset or replacement must be announced with [`LivePricer::rebase`].
    pub register_modulus_wh: Option<u64>,
}

impl PricingPolicy {
    /// The policy with a different rounding.
    #[must_use]
    pub fn with_rounding(mut self, mode: RoundingMode, point: RoundingPoint) -> Self {
        self.rounding = Rounding { mode, point };
        self
    }

    /// The policy with a different attribution.
    #[must_use]
    pub fn with_attribution(mut self, attribution: Attribution) -> Self {
        self.attribution = attribution;
        self
    }

    /// The policy with a different version selection.
    #[must_use]
    pub fn with_version_selection(mut self, selection: VersionSelection) -> Self {
        self.version_selection = selection;
        self
    }

    /// The policy with a register modulus (enables rollover handling).
    #[must_use]
    pub fn with_register_modulus_wh(mut self, modulus: u64) -> Self {
        self.register_modulus_wh = Some(modulus);
        self
    }
}

/// One itemised bill line: a stretch of the session with one period, version and tier.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Line {
    /// The period's class.
    pub period: PeriodKind,
    /// Index of the tariff version whose prices apply.
    pub version: u8,
    /// Tier index (0 = below the first tier).
    pub tier: u8,
    /// Start of the stretch.
    pub start: DateTime<Utc>,
    /// End of the stretch.
    pub end: DateTime<Utc>,
    /// Energy attributed to the stretch, Wh.
    pub energy_wh: u64,
    /// Electricity price per kWh (period price + tier adjustment).
    pub energy_price: Decimal,
    /// Service fee per kWh.
    pub service_price: Decimal,
    /// Time spent charging.
    pub charging_time: TimeDelta,
    /// Idle time beyond the grace.
    pub parking_time: TimeDelta,
    /// `energy_wh / 1000 × energy_price`.
    pub electricity: Decimal,
    /// `energy_wh / 1000 × service_price`.
    pub service: Decimal,
    /// `charging hours × time fee`.
    pub time_fee: Decimal,
    /// `parking hours × parking fee`.
    pub parking_fee: Decimal,
}

/// Session totals (also the live cost so far).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Totals {
    /// Energy, Wh.
    pub energy_wh: u64,
    /// Time charging.
    pub charging_time: TimeDelta,
    /// Idle time beyond the grace.
    pub parking_time: TimeDelta,
    /// Electricity fee total.
    pub electricity: Decimal,
    /// Service fee total.
    pub service: Decimal,
    /// Time fee total.
    pub time_fee: Decimal,
    /// Parking fee total.
    pub parking_fee: Decimal,
    /// Flat session fee.
    pub flat_fee: Decimal,
    /// What the min/max session price added (positive) or removed (negative).
    pub cap_adjustment: Decimal,
    /// Sum of the fees plus the cap adjustment, in the tariff's price basis, rounded.
    pub subtotal: Decimal,
    /// Amount excluding tax.
    pub net: Decimal,
    /// Tax amount.
    pub tax: Decimal,
    /// Amount including tax: what the customer pays.
    pub gross: Decimal,
}

/// The cost of a running session so far: the totals as if it stopped at the last reading.
pub type CostSoFar = Totals;

/// A priced session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bill {
    /// Currency of every amount.
    pub currency: Currency,
    /// Zone of the tariff (for showing local times).
    pub zone: Zone,
    /// Session start.
    pub start: DateTime<Utc>,
    /// Session stop.
    pub stop: DateTime<Utc>,
    /// The rounding that produced the amounts.
    pub rounding: Rounding,
    /// Totals.
    pub totals: Totals,
    lines: Lines,
}

/// The lines of one period class added up (the 尖/峰/平/谷 summary of a pile's transaction record).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeriodTotal {
    /// The period's class.
    pub period: PeriodKind,
    /// Energy, Wh.
    pub energy_wh: u64,
    /// Sum of the lines' electricity amounts.
    pub electricity: Decimal,
    /// Sum of the lines' service amounts.
    pub service: Decimal,
    /// Sum of the lines' time fees.
    pub time_fee: Decimal,
    /// Sum of the lines' parking fees.
    pub parking_fee: Decimal,
}

/// Most distinct period classes [`Bill::by_period`] reports.
pub const MAX_PERIOD_TOTALS: usize = crate::model::MAX_PERIODS * crate::model::MAX_VERSIONS;

impl Bill {
    /// The itemised lines, in time order.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The lines added up per period class, in order of first appearance. The amounts are
    /// sums of the lines' amounts: rounded only when the rounding point is per line.
    ///
    /// # Errors
    /// [`Error::Overflow`].
    pub fn by_period(&self) -> Result<heapless::Vec<PeriodTotal, MAX_PERIOD_TOTALS>, Error> {
        let mut out: heapless::Vec<PeriodTotal, MAX_PERIOD_TOTALS> = heapless::Vec::new();
        for line in self.lines() {
            let index = if let Some(i) = out.iter().position(|t| t.period == line.period) {
                i
            } else {
                let fresh = PeriodTotal {
                    period: line.period.clone(),
                    energy_wh: 0,
                    electricity: Decimal::ZERO,
                    service: Decimal::ZERO,
                    time_fee: Decimal::ZERO,
                    parking_fee: Decimal::ZERO,
                };
                out.push(fresh).map_err(|_| Error::Capacity {
                    what: "period totals",
                    max: MAX_PERIOD_TOTALS,
                })?;
                out.len() - 1
            };
            let Some(t) = out.get_mut(index) else {
                continue;
            };
            t.energy_wh = t
                .energy_wh
                .checked_add(line.energy_wh)
                .ok_or(AMOUNT_OVERFLOW)?;
            t.electricity = add(t.electricity, line.electricity, "electricity")?;
            t.service = add(t.service, line.service, "service")?;
            t.time_fee = add(t.time_fee, line.time_fee, "time fee")?;
            t.parking_fee = add(t.parking_fee, line.parking_fee, "parking fee")?;
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    from: i64,
    until: i64,
    version: u8,
    period: u8,
}

#[derive(Debug, Clone, Copy)]
struct OpenLine {
    version: u8,
    period: u8,
    tier: u8,
    start: i64,
    end: i64,
    energy_wh: u64,
    charging_ms: i64,
    parking_ms: i64,
    energy_price: Decimal,
    service_price: Decimal,
    /// Numerators (over the session's `hour × 10^k`, see [`Fixed`]) of one Wh of electricity and of service.
    per_wh: [i128; 2],
}

/// Exact integer bookkeeping for one session: every amount is a numerator over one
/// denominator `hour × 10^k`, with `k` large enough that every price of the tariff is an
/// integer at it, and `hour` = 3 600 000 when a time or parking price exists (so per-hour
/// prices applied to milliseconds stay integers too). Sums are exact; each rounding point is
/// one exact integer division.
#[derive(Debug, Clone, Copy)]
struct Fixed {
    k: u32,
    hour: i128,
    per_minor: i128,
    per_charging_ms: i128,
    per_parking_ms: i128,
    flat: i128,
    min: Option<i128>,
    max: Option<i128>,
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

const SCALE_OVERFLOW: Error = Error::Overflow {
    what: "price scale",
};

impl Fixed {
    fn new(tariff: &Tariff, session: &TariffVersion) -> Result<Self, Error> {
        let fees = &session.fees;
        let mut k = tariff.currency().scale();
        for v in tariff.versions() {
            let adjust = v
                .tiers()
                .iter()
                .map(|t| t.energy_adjust.scale())
                .max()
                .unwrap_or(0);
            for p in v.periods() {
                k = k
                    .max(p.energy_price.scale().max(adjust) + 3)
                    .max(p.service_price.scale() + 3);
            }
        }
        let money = [fees.flat, fees.time_per_hour, fees.parking_per_hour];
        for x in money
            .into_iter()
            .chain(fees.min_price)
            .chain(fees.max_price)
        {
            k = k.max(x.scale());
        }
        let hour = if fees.time_per_hour.is_zero() && fees.parking_per_hour.is_zero() {
            1
        } else {
            i128::from(MS_PER_HOUR)
        };
        let at = |n: u32| {
            pow10(n)
                .and_then(|p| p.checked_mul(hour))
                .ok_or(SCALE_OVERFLOW)
        };
        let scale = tariff.currency().scale();
        let mut fixed = Self {
            k,
            hour,
            per_minor: at(k - scale)?,
            per_charging_ms: 0,
            per_parking_ms: 0,
            flat: 0,
            min: None,
            max: None,
        };
        // A per-hour price over milliseconds: price / 3 600 000 per ms, and `hour` is that.
        fixed.per_charging_ms = fixed.numerator(fees.time_per_hour, 0, 1)?;
        fixed.per_parking_ms = fixed.numerator(fees.parking_per_hour, 0, 1)?;
        fixed.flat = fixed.numerator(fees.flat, 0, hour)?;
        fixed.min = fees
            .min_price
            .map(|m| fixed.numerator(m, 0, hour))
            .transpose()?;
        fixed.max = fees
            .max_price
            .map(|m| fixed.numerator(m, 0, hour))
            .transpose()?;
        Ok(fixed)
    }

    /// Numerator of `price` for one unit of `10^-shift` (3 for a Wh at a per-kWh price), times `factor`.
    fn numerator(&self, price: Decimal, shift: u32, factor: i128) -> Result<i128, Error> {
        self.k
            .checked_sub(shift + price.scale())
            .and_then(pow10)
            .and_then(|p| p.checked_mul(price.mantissa()))
            .and_then(|x| x.checked_mul(factor))
            .ok_or(SCALE_OVERFLOW)
    }

    /// An exact numerator as a decimal; with per-hour prices (`hour` ≠ 1) a non-terminating
    /// quotient is shown to 28 significant digits, for display only.
    fn decimal(&self, numerator: i128) -> Option<Decimal> {
        let at_k = Decimal::try_from_i128_with_scale(numerator, self.k).ok()?;
        if self.hour == 1 {
            Some(at_k)
        } else {
            at_k.checked_div(Decimal::from(self.hour))
        }
    }
}

fn checked_sum<const N: usize>(a: [i128; N], b: [i128; N]) -> Option<[i128; N]> {
    let mut out = [0; N];
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x.checked_add(y)?;
    }
    Some(out)
}

const AMOUNT_OVERFLOW: Error = Error::Overflow { what: "amount" };

#[derive(Debug, Clone, Copy)]
struct Registers {
    at: i64,
    total_wh: u64,
    rates: [Option<u64>; MAX_RATES],
}

fn add(a: Decimal, b: Decimal, what: &'static str) -> Result<Decimal, Error> {
    a.checked_add(b).ok_or(Error::Overflow { what })
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn instant(ms: i64) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp_millis(ms).ok_or(Error::TimeRange { millis: ms })
}

/// `floor(total × part / whole)` for `0 ≤ part ≤ whole`, `whole > 0`: the linear share.
fn share(total: u64, part: i64, whole: i64) -> u64 {
    let (Ok(part), Ok(whole)) = (u128::try_from(part), u128::try_from(whole)) else {
        return 0;
    };
    if whole == 0 {
        return total;
    }
    // part ≤ whole, so the quotient is ≤ total and fits.
    u64::try_from(u128::from(total) * part / whole).unwrap_or(total)
}

/// `energy_wh / 1000 × price`, exact.
fn per_kwh(energy_wh: u64, price: Decimal) -> Result<Decimal, Error> {
    let overflow = Error::Overflow {
        what: "energy amount",
    };
    // Dividing by 1000 only moves the decimal point: the amount is `wh × mantissa` at scale + 3.
    i128::from(energy_wh)
        .checked_mul(price.mantissa())
        .and_then(|m| Decimal::try_from_i128_with_scale(m, price.scale() + 3).ok())
        .map_or_else(
            || {
                Decimal::from(energy_wh)
                    .checked_mul(price)
                    .and_then(|x| x.checked_div(Decimal::ONE_THOUSAND))
                    .ok_or(overflow)
            },
            Ok,
        )
}

/// `a × b`, checked; two 64-bit factors take one widening multiply instead of the general
/// 128-bit overflow check.
#[inline]
fn mul(a: i128, b: i128) -> Option<i128> {
    match (i64::try_from(a), i64::try_from(b)) {
        (Ok(x), Ok(y)) => Some(i128::from(x) * i128::from(y)),
        _ => a.checked_mul(b),
    }
}

/// `numerator / denominator` rounded with `mode`, exactly, for `denominator > 0`.
#[inline]
fn div_round(numerator: i128, denominator: i128, mode: RoundingMode) -> i128 {
    if numerator == 0 {
        return 0;
    }
    // Most amounts fit in 64 bits, where division is several times cheaper.
    let (q, r) = match (i64::try_from(numerator), i64::try_from(denominator)) {
        (Ok(n), Ok(d)) => (i128::from(n / d), i128::from(n % d)),
        _ => (numerator / denominator, numerator % denominator),
    };
    if r == 0 {
        return q;
    }
    let away = q + numerator.signum();
    let twice = r.unsigned_abs() * 2;
    let half = twice.cmp(&denominator.unsigned_abs());
    match (mode, half) {
        (RoundingMode::Down, _) | (_, core::cmp::Ordering::Less) => q,
        (_, core::cmp::Ordering::Greater) | (RoundingMode::HalfUp, _) => away,
        (RoundingMode::HalfEven, _) => {
            if q % 2 == 0 {
                q
            } else {
                away
            }
        }
    }
}

/// `ms / 3 600 000 × price_per_hour`, for showing an unrounded line amount: the quotient is
/// carried to rust_decimal's 28 significant digits. Totals never use it; they are computed
/// from exact integers ([`Fixed`]).
fn per_hour(ms: i64, price: Decimal) -> Result<Decimal, Error> {
    if ms == 0 || price.is_zero() {
        return Ok(Decimal::ZERO);
    }
    Decimal::from(ms)
        .checked_mul(price)
        .and_then(|x| x.checked_div(Decimal::from(MS_PER_HOUR)))
        .ok_or(Error::Overflow {
            what: "time amount",
        })
}

/// Local date of day number `day` (days since 1970-01-01).
fn date_of_day(day: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(day.checked_add(719_163)?).ok()?)
}

/// The local date at the UTC instant `at`.
pub(crate) fn local_date(zone: Zone, at_ms: i64) -> Result<NaiveDate, Error> {
    let local = at_ms
        .checked_add(zone.offset_ms(at_ms)?)
        .ok_or(Error::TimeRange { millis: at_ms })?;
    date_of_day(local.div_euclid(MS_PER_DAY)).ok_or(Error::TimeRange { millis: at_ms })
}

/// The segment of constant (version, period) beginning at `pos`, following the DST rule on [`Zone`].
fn segment_at(tariff: &Tariff, fixed_version: Option<u8>, pos: i64) -> Result<Segment, Error> {
    let zone = tariff.zone();
    let range = Error::TimeRange { millis: pos };
    let offset = zone.offset_ms(pos)?;
    let local = pos.checked_add(offset).ok_or(range.clone())?;
    let date = date_of_day(local.div_euclid(MS_PER_DAY)).ok_or(range.clone())?;
    let ms_of_day = local.rem_euclid(MS_PER_DAY);
    let version = match fixed_version {
        Some(v) => v,
        None => tariff.version_index(date)?,
    };
    let v = tariff
        .versions()
        .get(usize::from(version))
        .ok_or(Error::NoVersion { date })?;
    // ms_of_day < 86 400 000, so the minute fits in u16.
    let minute = u16::try_from(ms_of_day / 60_000).map_err(|_| range.clone())?;
    let (period, next_minute) = v
        .table_for(date)?
        .lookup(minute)
        .ok_or(Error::NoDayTable { date })?;
    let wall_until = pos
        .checked_add(i64::from(next_minute) * 60_000 - ms_of_day)
        .ok_or(range)?;
    let until = if zone.offset_ms(wall_until)? == offset {
        wall_until
    } else {
        // A DST transition comes first; find its instant (to the millisecond) by bisection.
        let (mut lo, mut hi) = (pos, wall_until);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if zone.offset_ms(mid)? == offset {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    };
    Ok(Segment {
        from: pos,
        until,
        version,
        period,
    })
}

/// Prices a session incrementally: feed readings in time order, read the cost so far.
///
/// Each [`push`](LivePricer::push) costs amortised O(1): the current tariff segment is cached
/// and only recomputed when a reading crosses its end. [`price_session`] is this same
/// machine fed from a slice.
#[derive(Debug, Clone)]
pub struct LivePricer<'t> {
    tariff: &'t Tariff,
    policy: PricingPolicy,
    start_ms: i64,
    session_version: u8,
    /// The version valid at the start: session-level fees, tiers.
    session: &'t TariffVersion,
    pos: i64,
    last: Option<Registers>,
    state: ChargeState,
    energy_wh: u64,
    idle_ms: i64,
    charging_ms: i64,
    parking_ms: i64,
    segment: Option<Segment>,
    open: Option<OpenLine>,
    fixed: Fixed,
    /// Exact numerators of the closed lines' electricity, service, time and parking amounts.
    closed_exact: [i128; 4],
    /// The same, rounded per line to minor units (used when rounding per line).
    closed_minor: [i128; 4],
    lines: Lines,
}

/// The fees of a session before tax, as [`LivePricer::subtotal`] computes them.
struct Subtotal {
    /// Per fee (electricity, service, time, parking): whole minor units, or exact numerators
    /// when rounding per total.
    fees: [i128; 4],
    /// The flat fee, likewise.
    flat: i128,
    /// Whether `fees` and `flat` are whole minor units.
    rounded: bool,
    /// What the session's minimum or maximum price changed, as an exact numerator.
    cap: i128,
    /// The subtotal in minor units.
    minor: i128,
}

impl<'t> LivePricer<'t> {
    /// Starts pricing a session that began at `start`.
    ///
    /// # Errors
    /// [`Error::NoVersion`] when no tariff version covers the local start date,
    /// [`Error::TimeRange`] for an unrepresentable instant.
    pub fn new(
        tariff: &'t Tariff,
        start: DateTime<Utc>,
        policy: PricingPolicy,
    ) -> Result<Self, Error> {
        let start_ms = millis(start);
        let session_version = tariff.version_index(local_date(tariff.zone(), start_ms)?)?;
        let version =
            tariff
                .versions()
                .get(usize::from(session_version))
                .ok_or(Error::UnknownIndex {
                    what: "version",
                    index: session_version,
                })?;
        let fixed = Fixed::new(tariff, version)?;
        Ok(Self {
            tariff,
            policy,
            start_ms,
            session_version,
            session: version,
            pos: start_ms,
            last: None,
            state: ChargeState::Charging,
            energy_wh: 0,
            idle_ms: 0,
            charging_ms: 0,
            parking_ms: 0,
            segment: None,
            open: None,
            fixed,
            closed_exact: [0; 4],
            closed_minor: [0; 4],
            lines: Lines::new(),
        })
    }

    fn version(&self) -> &'t TariffVersion {
        self.session
    }

    /// Feeds the next reading and returns the cost so far.
    ///
    /// The first reading is the register baseline (time from the start to it is priced with
    /// no energy). A reading identical to the previous one (same instant and registers) is
    /// ignored.
    ///
    /// # Errors
    /// [`Error::BeforeStart`], [`Error::OutOfOrder`], [`Error::ConflictingDuplicate`],
    /// [`Error::RegisterDecreased`], [`Error::MissingRateRegister`], [`Error::UnmappedRate`],
    /// [`Error::Capacity`] (too many lines without `alloc`), [`Error::Overflow`], and the
    /// tariff lookup errors [`Error::NoVersion`] / [`Error::NoDayTable`]. All of these but
    /// `Capacity` and `Overflow` are found before anything changes, so the pricer can take the
    /// next (corrected) reading.
    #[inline]
    pub fn push(&mut self, reading: &Reading) -> Result<CostSoFar, Error> {
        self.ingest(reading)?;
        self.cost_so_far()
    }

    /// [`push`](Self::push) for a prepaid deduction: feeds the next reading and returns only
    /// the gross cost so far (equal to `push(reading)?.gross`), without building the itemised
    /// totals — about a third of the work per reading. [`cost_so_far`](Self::cost_so_far)
    /// gives the itemised figures whenever they are wanted.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    #[inline]
    pub fn push_gross(&mut self, reading: &Reading) -> Result<Decimal, Error> {
        self.ingest(reading)?;
        self.gross_so_far()
    }

    /// Energy priced so far (Wh).
    pub fn energy_wh(&self) -> u64 {
        self.energy_wh
    }

    /// The period class of the most recently priced stretch (for a progress display), if any.
    pub fn current_period(&self) -> Option<&'t PeriodKind> {
        let seg = self.segment?;
        let v = self.tariff.versions().get(usize::from(seg.version))?;
        Some(&v.periods().get(usize::from(seg.period))?.kind)
    }

    /// Starts a new register baseline (meter replaced or reset): time up to `reading` is
    /// priced with no energy, and later deltas are taken from `reading`'s registers.
    ///
    /// # Errors
    /// As [`LivePricer::push`].
    pub fn rebase(&mut self, reading: &Reading) -> Result<CostSoFar, Error> {
        let at = self.check_instant(reading.at)?;
        self.advance_linear(at, 0)?;
        self.accept(reading, at);
        self.cost_so_far()
    }

    fn check_instant(&self, at: DateTime<Utc>) -> Result<i64, Error> {
        let ms = millis(at);
        if ms < self.start_ms {
            return Err(Error::BeforeStart {
                at,
                start: instant(self.start_ms)?,
            });
        }
        if ms < self.pos {
            return Err(Error::OutOfOrder {
                at,
                previous: instant(self.pos)?,
            });
        }
        Ok(ms)
    }

    fn accept(&mut self, reading: &Reading, at: i64) {
        self.last = Some(Registers {
            at,
            total_wh: reading.total_wh,
            rates: reading.rates,
        });
        if let Some(state) = reading.state {
            self.state = state;
        }
    }

    fn ingest(&mut self, reading: &Reading) -> Result<(), Error> {
        let at = self.check_instant(reading.at)?;
        let Some(last) = self.last else {
            self.advance_linear(at, 0)?;
            self.accept(reading, at);
            return Ok(());
        };
        if at == last.at {
            if last.total_wh == reading.total_wh && last.rates == reading.rates {
                if let Some(state) = reading.state {
                    self.state = state;
                }
                return Ok(());
            }
            return Err(Error::ConflictingDuplicate { at: reading.at });
        }
        match self.policy.attribution {
            Attribution::Linear => {
                let delta = self.delta(0, last.total_wh, reading.total_wh, reading.at)?;
                self.advance_linear(at, delta)?;
            }
            Attribution::RateRegisters => {
                let mut deltas = [0u64; MAX_RATES];
                for (rate, ((d, prev), cur)) in
                    (1u8..).zip(deltas.iter_mut().zip(last.rates).zip(reading.rates))
                {
                    match (prev, cur) {
                        (Some(p), Some(c)) => *d = self.delta(rate, p, c, reading.at)?,
                        (None, None) => {}
                        _ => {
                            return Err(Error::MissingRateRegister {
                                rate,
                                at: reading.at,
                            });
                        }
                    }
                }
                self.advance_rates(at, &deltas)?;
            }
        }
        self.accept(reading, at);
        Ok(())
    }

    fn delta(
        &self,
        register: u8,
        previous_wh: u64,
        current_wh: u64,
        at: DateTime<Utc>,
    ) -> Result<u64, Error> {
        if let Some(d) = current_wh.checked_sub(previous_wh) {
            return Ok(d);
        }
        if let Some(modulus) = self.policy.register_modulus_wh
            && previous_wh < modulus
            && current_wh < modulus
        {
            let wrapped = modulus - previous_wh + current_wh;
            if wrapped < modulus / 2 {
                return Ok(wrapped);
            }
        }
        Err(Error::RegisterDecreased {
            register,
            previous_wh,
            current_wh,
            at,
        })
    }

    fn segment(&mut self, pos: i64) -> Result<Segment, Error> {
        if let Some(s) = self.segment
            && s.from <= pos
            && pos < s.until
        {
            return Ok(s);
        }
        let fixed = match self.policy.version_selection {
            VersionSelection::AtSessionStart => Some(self.session_version),
            VersionSelection::PerInstant => None,
        };
        let s = segment_at(self.tariff, fixed, pos)?;
        self.segment = Some(s);
        Ok(s)
    }

    fn meter_rate(&self, segment: Segment) -> Option<u8> {
        let v = self.tariff.versions().get(usize::from(segment.version))?;
        v.periods().get(usize::from(segment.period))?.meter_rate
    }

    /// Fails, before anything changes, when a date up to `to` has no version or day table.
    fn check_tariff_covers(&mut self, to: i64) -> Result<(), Error> {
        let mut pos = self.pos;
        while pos < to {
            pos = self.segment(pos)?.until.min(to);
        }
        Ok(())
    }

    /// Prices `[self.pos, to]` with `energy` Wh spread linearly in time.
    fn advance_linear(&mut self, to: i64, energy: u64) -> Result<(), Error> {
        self.check_tariff_covers(to)?;
        let (from, span) = (self.pos, to - self.pos);
        let mut given = 0;
        while self.pos < to {
            let seg = self.segment(self.pos)?;
            let end = seg.until.min(to);
            let cumulative = if end == to {
                energy
            } else {
                share(energy, end - from, span)
            };
            self.piece(self.pos, end, cumulative - given, seg)?;
            given = cumulative;
            self.pos = end;
        }
        Ok(())
    }

    /// Prices `[self.pos, to]` with per-rate energies (see [`Attribution::RateRegisters`]).
    fn advance_rates(&mut self, to: i64, deltas: &[u64; MAX_RATES]) -> Result<(), Error> {
        let from = self.pos;
        let rate_index = |rate: Option<u8>| {
            rate.and_then(|r| usize::from(r).checked_sub(1))
                .filter(|&i| i < MAX_RATES)
        };
        // Pass 1 (changes nothing): how long our clock spent in each rate's period.
        let mut span = [0i64; MAX_RATES];
        let mut pos = from;
        let mut last_version = self.session_version;
        while pos < to {
            let seg = self.segment(pos)?;
            let end = seg.until.min(to);
            if let Some(i) = rate_index(self.meter_rate(seg)) {
                span[i] += end - pos;
            }
            last_version = seg.version;
            pos = end;
        }
        // Energy of rates our clock never saw in the interval goes to the interval's end, in
        // the period mapped to the rate; find those periods before changing anything.
        let mut orphans = [None; MAX_RATES];
        for ((rate, orphan), (&delta, &time)) in (1u8..)
            .zip(orphans.iter_mut())
            .zip(deltas.iter().zip(span.iter()))
        {
            if delta == 0 || time > 0 {
                continue;
            }
            let v = self.tariff.versions().get(usize::from(last_version));
            let period = v.and_then(|v| {
                (0u8..)
                    .zip(v.periods())
                    .find(|(_, p)| p.meter_rate == Some(rate))
            });
            *orphan = Some(period.ok_or(Error::UnmappedRate { rate })?.0);
        }
        // Pass 2: spread each rate's energy over its time.
        let (mut done, mut given) = ([0i64; MAX_RATES], [0u64; MAX_RATES]);
        while self.pos < to {
            let seg = self.segment(self.pos)?;
            let end = seg.until.min(to);
            let mut energy = 0;
            if let Some(i) = rate_index(self.meter_rate(seg)) {
                done[i] += end - self.pos;
                let cumulative = if done[i] == span[i] {
                    deltas[i]
                } else {
                    share(deltas[i], done[i], span[i])
                };
                energy = cumulative - given[i];
                given[i] = cumulative;
            }
            self.piece(self.pos, end, energy, seg)?;
            self.pos = end;
        }
        for (period, &delta) in orphans.iter().zip(deltas) {
            if let Some(period) = *period {
                let seg = Segment {
                    from: to,
                    until: to,
                    version: last_version,
                    period,
                };
                self.piece(to, to, delta, seg)?;
            }
        }
        Ok(())
    }

    /// Books `[a, b]` with `energy` Wh in `seg`, splitting where the session crosses a tier.
    fn piece(&mut self, mut a: i64, b: i64, mut energy: u64, seg: Segment) -> Result<(), Error> {
        loop {
            let (tier, adjust, next) = self.version().tier_at(self.energy_wh);
            match next {
                Some(threshold) if self.energy_wh.saturating_add(energy) > threshold => {
                    let below = threshold - self.energy_wh;
                    let split = a + i64::try_from(share(
                        u64::try_from(b - a).unwrap_or(0),
                        i64::try_from(below).unwrap_or(i64::MAX),
                        i64::try_from(energy).unwrap_or(i64::MAX),
                    ))
                    .unwrap_or(0);
                    self.accrue(a, split, below, seg, tier, adjust)?;
                    a = split;
                    energy -= below;
                }
                _ => return self.accrue(a, b, energy, seg, tier, adjust),
            }
        }
    }

    fn accrue(
        &mut self,
        a: i64,
        b: i64,
        energy: u64,
        seg: Segment,
        tier: u8,
        adjust: Decimal,
    ) -> Result<(), Error> {
        if a == b && energy == 0 {
            return Ok(());
        }
        let same = self
            .open
            .is_some_and(|l| l.version == seg.version && l.period == seg.period && l.tier == tier);
        if !same {
            self.close_line()?;
            let v = self.tariff.versions().get(usize::from(seg.version)).ok_or(
                Error::UnknownIndex {
                    what: "version",
                    index: seg.version,
                },
            )?;
            let p = v
                .periods()
                .get(usize::from(seg.period))
                .ok_or(Error::UnknownIndex {
                    what: "period",
                    index: seg.period,
                })?;
            self.open = Some(OpenLine {
                version: seg.version,
                period: seg.period,
                tier,
                start: a,
                end: a,
                energy_wh: 0,
                charging_ms: 0,
                parking_ms: 0,
                energy_price: add(p.energy_price, adjust, "energy price")?,
                service_price: p.service_price,
                per_wh: [0; 2],
            });
            if let Some(line) = self.open.as_mut() {
                line.per_wh = [
                    self.fixed
                        .numerator(line.energy_price, 3, self.fixed.hour)?,
                    self.fixed
                        .numerator(line.service_price, 3, self.fixed.hour)?,
                ];
            }
        }
        let grace = i64::from(self.version().fees.parking_grace_secs) * 1000;
        let Some(line) = self.open.as_mut() else {
            return Ok(());
        };
        let d = b - a;
        line.end = b;
        line.energy_wh = line
            .energy_wh
            .checked_add(energy)
            .ok_or(Error::Overflow { what: "energy" })?;
        self.energy_wh = self
            .energy_wh
            .checked_add(energy)
            .ok_or(Error::Overflow { what: "energy" })?;
        match self.state {
            ChargeState::Charging => {
                line.charging_ms += d;
                self.charging_ms += d;
            }
            ChargeState::Idle => {
                let after = self.idle_ms + d;
                let paid = after - self.idle_ms.max(grace).min(after);
                line.parking_ms += paid;
                self.parking_ms += paid;
                self.idle_ms = after;
            }
        }
        Ok(())
    }

    /// Exact numerators of a line's electricity, service, time and parking amounts.
    #[inline]
    fn line_exact(&self, line: &OpenLine) -> Option<[i128; 4]> {
        let wh = i128::from(line.energy_wh);
        let f = &self.fixed;
        Some([
            mul(wh, line.per_wh[0])?,
            mul(wh, line.per_wh[1])?,
            mul(i128::from(line.charging_ms), f.per_charging_ms)?,
            mul(i128::from(line.parking_ms), f.per_parking_ms)?,
        ])
    }

    /// An exact numerator rounded to minor units with the policy's mode.
    #[inline]
    fn round(&self, numerator: i128) -> i128 {
        div_round(numerator, self.fixed.per_minor, self.policy.rounding.mode)
    }

    /// Minor units as a decimal at the currency's scale.
    #[inline]
    fn minor(&self, units: i128) -> Option<Decimal> {
        let scale = self.tariff.currency().scale();
        // The common case builds the decimal from its parts without a range check; the
        // currency scale is at most 6 (`Currency::new`), within `from_parts`' limit of 28.
        if let Ok(small) = i64::try_from(units) {
            let lo = small.unsigned_abs();
            #[expect(
                clippy::cast_possible_truncation,
                reason = "splitting a u64 into its halves"
            )]
            return Some(Decimal::from_parts(
                lo as u32,
                (lo >> 32) as u32,
                0,
                small < 0,
                scale,
            ));
        }
        Decimal::try_from_i128_with_scale(units, scale).ok()
    }

    fn close_line(&mut self) -> Result<(), Error> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let exact = self.line_exact(&open).ok_or(AMOUNT_OVERFLOW)?;
        self.closed_exact = checked_sum(self.closed_exact, exact).ok_or(AMOUNT_OVERFLOW)?;
        let minor = exact.map(|x| self.round(x));
        self.closed_minor = checked_sum(self.closed_minor, minor).ok_or(AMOUNT_OVERFLOW)?;
        let amounts = if self.policy.rounding.point == RoundingPoint::PerLine {
            let [a, b, c, d] = minor.map(|m| self.minor(m));
            [a, b, c, d].map(|x| x.ok_or(AMOUNT_OVERFLOW))
        } else {
            let fees = &self.version().fees;
            [
                per_kwh(open.energy_wh, open.energy_price),
                per_kwh(open.energy_wh, open.service_price),
                per_hour(open.charging_ms, fees.time_per_hour),
                per_hour(open.parking_ms, fees.parking_per_hour),
            ]
        };
        let [a, b, c, d] = amounts;
        let amounts = [a?, b?, c?, d?];
        let period = self
            .tariff
            .versions()
            .get(usize::from(open.version))
            .and_then(|v| v.periods().get(usize::from(open.period)))
            .map(|p| p.kind.clone())
            .ok_or(Error::UnknownIndex {
                what: "period",
                index: open.period,
            })?;
        let [electricity, service, time_fee, parking_fee] = amounts;
        let line = Line {
            period,
            version: open.version,
            tier: open.tier,
            start: instant(open.start)?,
            end: instant(open.end)?,
            energy_wh: open.energy_wh,
            energy_price: open.energy_price,
            service_price: open.service_price,
            charging_time: TimeDelta::milliseconds(open.charging_ms),
            parking_time: TimeDelta::milliseconds(open.parking_ms),
            electricity,
            service,
            time_fee,
            parking_fee,
        };
        #[cfg(feature = "alloc")]
        self.lines.push(line);
        #[cfg(not(feature = "alloc"))]
        self.lines.push(line).map_err(|_| Error::Capacity {
            what: "bill lines",
            max: MAX_LINES,
        })?;
        Ok(())
    }

    /// The cost as if the session stopped at the last reading.
    ///
    /// # Errors
    /// [`Error::Overflow`].
    #[inline]
    pub fn cost_so_far(&self) -> Result<CostSoFar, Error> {
        self.sums_so_far()
            .and_then(|(exact, minor)| self.totals(exact, minor))
            .ok_or(AMOUNT_OVERFLOW)
    }

    /// The gross cost as if the session stopped at the last reading: `cost_so_far()?.gross`,
    /// computed without the itemised figures.
    ///
    /// # Errors
    /// [`Error::Overflow`].
    #[inline]
    pub fn gross_so_far(&self) -> Result<Decimal, Error> {
        self.sums_so_far()
            .and_then(|(exact, minor)| {
                let subtotal = self.subtotal(exact, minor)?;
                let (_, _, gross) = self.tax(subtotal.minor)?;
                self.minor(gross)
            })
            .ok_or(AMOUNT_OVERFLOW)
    }

    /// The exact fee numerators and the per-line rounded minor units, closed lines plus the
    /// open one; `None` on overflow.
    #[inline]
    fn sums_so_far(&self) -> Option<([i128; 4], [i128; 4])> {
        match &self.open {
            Some(line) => self.line_exact(line).and_then(|current| {
                let minor = if self.policy.rounding.point == RoundingPoint::PerLine {
                    checked_sum(self.closed_minor, current.map(|x| self.round(x)))?
                } else {
                    self.closed_minor
                };
                Some((checked_sum(self.closed_exact, current)?, minor))
            }),
            None => Some((self.closed_exact, self.closed_minor)),
        }
    }

    /// The fees rounded by the policy, summed with the flat fee and bounded by the session's
    /// minimum and maximum price: the one computation behind [`totals`](Self::totals) and
    /// [`gross_so_far`](Self::gross_so_far). `None` on overflow.
    #[inline]
    fn subtotal(&self, exact: [i128; 4], per_line: [i128; 4]) -> Option<Subtotal> {
        let f = &self.fixed;
        let (fees, flat, raw, units) = if self.policy.rounding.point == RoundingPoint::PerTotal {
            let raw = checked_sum(exact, [f.flat, 0, 0, 0])?;
            let raw = raw.iter().try_fold(0i128, |acc, x| acc.checked_add(*x))?;
            (exact, f.flat, raw, None)
        } else {
            let minor = if self.policy.rounding.point == RoundingPoint::PerLine {
                per_line
            } else {
                exact.map(|x| self.round(x))
            };
            let flat = self.round(f.flat);
            let units = minor.iter().try_fold(flat, |acc, x| acc.checked_add(*x))?;
            (minor, flat, mul(units, f.per_minor)?, Some(units))
        };
        let mut clamped = raw;
        if let Some(max) = f.max {
            clamped = clamped.min(max);
        }
        if let Some(min) = f.min {
            clamped = clamped.max(min);
        }
        let minor = match units {
            // Already whole minor units: no division needed.
            Some(units) if clamped == raw => units,
            _ => self.round(clamped),
        };
        Some(Subtotal {
            fees,
            flat,
            rounded: units.is_some(),
            cap: clamped - raw,
            minor,
        })
    }

    /// Totals from the exact fee numerators and the per-line rounded minor units; `None` on
    /// overflow. (Option rather than Result keeps this hot path free of large moves.)
    #[inline]
    fn totals(&self, exact: [i128; 4], per_line: [i128; 4]) -> Option<Totals> {
        let f = &self.fixed;
        let s = self.subtotal(exact, per_line)?;
        let amount = |x: i128| {
            if s.rounded {
                self.minor(x)
            } else {
                f.decimal(x)
            }
        };
        let flat_fee = if s.rounded {
            self.minor(s.flat)?
        } else {
            self.version().fees.flat
        };
        let cap_adjustment = if s.cap == 0 {
            Decimal::ZERO
        } else {
            f.decimal(s.cap)?
        };
        let (net, tax, gross) = self.tax(s.minor)?;
        let [electricity, service, time_fee, parking_fee] = s.fees;
        Some(Totals {
            energy_wh: self.energy_wh,
            charging_time: TimeDelta::milliseconds(self.charging_ms),
            parking_time: TimeDelta::milliseconds(self.parking_ms),
            electricity: amount(electricity)?,
            service: amount(service)?,
            time_fee: amount(time_fee)?,
            parking_fee: amount(parking_fee)?,
            flat_fee,
            cap_adjustment,
            subtotal: self.minor(s.minor)?,
            net: self.minor(net)?,
            tax: self.minor(tax)?,
            gross: self.minor(gross)?,
        })
    }

    /// Splits `subtotal` (minor units, in the tariff's price basis) into net, tax and gross,
    /// rounding the one division exactly once with the policy's mode.
    #[inline]
    fn tax(&self, subtotal: i128) -> Option<(i128, i128, i128)> {
        let tax = self.tariff.tax();
        if tax.rate_percent.is_zero() {
            return Some((subtotal, 0, subtotal));
        }
        let rate = tax.rate_percent.mantissa();
        let hundred = pow10(tax.rate_percent.scale() + 2)?;
        let mode = self.policy.rounding.mode;
        if tax.prices_include_tax {
            // net = gross × 100 / (100 + rate)
            let divisor = hundred.checked_add(rate).filter(|d| *d > 0)?;
            let net = div_round(mul(subtotal, hundred)?, divisor, mode);
            Some((net, subtotal - net, subtotal))
        } else {
            // tax = net × rate / 100
            let tax = div_round(mul(subtotal, rate)?, hundred, mode);
            Some((subtotal, tax, subtotal.checked_add(tax)?))
        }
    }

    /// Ends the session at `stop` (time since the last reading is priced with no energy) and
    /// returns the bill.
    ///
    /// # Errors
    /// [`Error::OutOfOrder`] when `stop` is before the last reading, and as [`LivePricer::push`].
    pub fn finish(mut self, stop: DateTime<Utc>) -> Result<Bill, Error> {
        let to = self.check_instant(stop)?;
        self.advance_linear(to, 0)?;
        self.close_line()?;
        let totals = self
            .totals(self.closed_exact, self.closed_minor)
            .ok_or(AMOUNT_OVERFLOW)?;
        Ok(Bill {
            currency: self.tariff.currency(),
            zone: self.tariff.zone(),
            start: instant(self.start_ms)?,
            stop,
            rounding: self.policy.rounding,
            totals,
            lines: self.lines,
        })
    }
}

/// Prices a whole session in one call: exactly [`LivePricer`] fed `readings` in order, then
/// finished at `stop`.
///
/// # Errors
/// [`Error::AfterStop`] for a reading after `stop`, and everything [`LivePricer::push`] and
/// [`LivePricer::finish`] return.
pub fn price_session(
    tariff: &Tariff,
    policy: PricingPolicy,
    start: DateTime<Utc>,
    stop: DateTime<Utc>,
    readings: &[Reading],
) -> Result<Bill, Error> {
    let mut pricer = LivePricer::new(tariff, start, policy)?;
    for reading in readings {
        if reading.at > stop {
            return Err(Error::AfterStop {
                at: reading.at,
                stop,
            });
        }
        pricer.ingest(reading)?;
    }
    pricer.finish(stop)
}

#[cfg(test)]
mod tests {
    use super::{RoundingMode, div_round, share};

    #[test]
    fn div_round_every_mode_both_signs_and_widths() {
        use RoundingMode::{Down, HalfEven, HalfUp};
        // (numerator, denominator): 25/10 = 2.5 tie, 35/10 = 3.5 tie, 26/10 = 2.6, 24/10 = 2.4
        let cases = [
            (25, HalfUp, 3),
            (25, HalfEven, 2),
            (25, Down, 2),
            (35, HalfEven, 4),
            (26, Down, 2),
            (26, HalfEven, 3),
            (24, HalfUp, 2),
            (-25, HalfUp, -3),
            (-25, HalfEven, -2),
            (-25, Down, -2),
            (-35, HalfEven, -4),
            (-26, HalfUp, -3),
        ];
        for (n, mode, want) in cases {
            assert_eq!(div_round(n, 10, mode), want, "{n}/10 {mode:?}");
            // The 128-bit path agrees with the 64-bit one.
            let big = 1i128 << 80;
            assert_eq!(
                div_round(n * big, 10 * big, mode),
                want,
                "{n}·2^80/10·2^80 {mode:?}"
            );
        }
    }

    #[test]
    fn share_is_a_floor_and_exhausts_the_total() {
        // 1001 Wh over 3 parts of time: floor(1001/3) = 333, floor(2002/3) = 667, then 1001.
        assert_eq!(
            [share(1001, 1, 3), share(1001, 2, 3), share(1001, 3, 3)],
            [333, 667, 1001]
        );
        assert_eq!(share(u64::MAX, 1, 2), u64::MAX / 2);
        assert_eq!(share(5, 0, 0), 5);
    }
}
