//! Pricing a CDR against an OCPI tariff, by the OCPI 2.2.1 rules (see the crate docs).

use alloc::{format, string::String, vec::Vec};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use super::{
    Cdr, CdrDimension, CdrDimensionType, ChargingPeriod, OcpiError, Price, PriceComponent,
    Reservation, Restrictions, Tariff, TariffDimension,
};
use crate::Zone;

const MS_PER_HOUR: i64 = 3_600_000;
/// A TIME or PARKING_TIME volume this close to its period's length is the period's length:
/// 4-decimal hours cannot express e.g. 40 minutes (0.6667 h = 2400.12 s).
const SNAP_MS: i64 = 180;

/// What one dimension of one period cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PricedDimension {
    /// Index of the tariff element that priced it.
    pub element: usize,
    /// The price component used.
    pub component: PriceComponent,
    /// kWh, or milliseconds for the time dimensions, including `step_size` rounding booked here.
    quantity: Decimal,
    per_hour: bool,
}

impl PricedDimension {
    fn new(element: usize, component: PriceComponent, quantity: Decimal, per_hour: bool) -> Self {
        Self {
            element,
            component,
            quantity,
            per_hour,
        }
    }

    /// Volume priced, in kWh or hours, including any `step_size` rounding booked here.
    #[must_use]
    pub fn volume(&self) -> Decimal {
        if self.per_hour {
            self.quantity / Decimal::from(MS_PER_HOUR)
        } else {
            self.quantity
        }
    }

    /// Cost excluding VAT, unrounded; `None` beyond `rust_decimal`'s range. (The session totals
    /// are summed exactly per component, not from these figures.)
    #[must_use]
    pub fn excl_vat(&self) -> Option<Decimal> {
        let cost = self.component.price.checked_mul(self.quantity)?;
        if self.per_hour {
            cost.checked_div(Decimal::from(MS_PER_HOUR))
        } else {
            Some(cost)
        }
    }
}

/// One charging period as priced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PricedPeriod {
    /// Start (UTC).
    pub start: DateTime<Utc>,
    /// End (UTC): the next period's start, or the session end.
    pub end: DateTime<Utc>,
    /// Start in the tariff's local time, at which the elements were chosen.
    pub local_start: NaiveDateTime,
    /// Energy, when an element priced it.
    pub energy: Option<PricedDimension>,
    /// Charging time, when an element priced it.
    pub time: Option<PricedDimension>,
    /// Parking time, when an element priced it.
    pub parking: Option<PricedDimension>,
    /// Reservation time, when a reservation element priced it.
    pub reservation: Option<PricedDimension>,
}

/// Which price bound changed the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Clamp {
    /// Raised to `min_price`.
    Min,
    /// Lowered to `max_price`.
    Max,
}

/// A priced CDR: the OCPI total fields, rounded to 4 decimals, and a per-period breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PricedCdr {
    /// Id of the tariff used.
    pub tariff_id: String,
    /// Its currency.
    pub currency: String,
    /// The zone restrictions were read in.
    pub zone: Zone,
    /// The periods.
    pub periods: Vec<PricedPeriod>,
    /// Everything, after `min_price`/`max_price`.
    pub total_cost: Price,
    /// FLAT, when a FLAT component applied.
    pub total_fixed_cost: Option<Price>,
    /// ENERGY, when an ENERGY component applied.
    pub total_energy_cost: Option<Price>,
    /// TIME (charging), when a TIME component applied.
    pub total_time_cost: Option<Price>,
    /// PARKING_TIME, when a PARKING_TIME component applied.
    pub total_parking_cost: Option<Price>,
    /// Reservation, when a reservation element applied.
    pub total_reservation_cost: Option<Price>,
    /// Energy of all periods (kWh).
    pub total_energy: Decimal,
    /// Session duration, start to end (hours).
    pub total_time: Decimal,
    /// Parking time of all periods (hours).
    pub total_parking_time: Decimal,
    /// The bound applied to the total, if any.
    pub clamped: Option<Clamp>,
}

/// The result rounding: 4 decimals, ties away from zero (`0.00005` → `0.0001`), always shown
/// with 4 decimals.
pub(crate) fn round4(value: Decimal) -> Decimal {
    let mut r = value.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(4);
    r
}

/// Where in the CDR a figure comes from; formatted into a JSON path only on error.
#[derive(Clone, Copy)]
struct At {
    period: Option<usize>,
    field: &'static str,
}

impl At {
    const ROOT: Self = Self {
        period: None,
        field: "",
    };

    fn period(index: usize, field: &'static str) -> Self {
        Self {
            period: Some(index),
            field,
        }
    }

    fn path(self) -> String {
        match self.period {
            Some(i) => format!("$.charging_periods[{i}]{}", self.field),
            None => format!("${}", self.field),
        }
    }
}

fn overflow(at: At) -> OcpiError {
    OcpiError::Overflow { path: at.path() }
}

fn mul(a: Decimal, b: Decimal, at: At) -> Result<Decimal, OcpiError> {
    a.checked_mul(b).ok_or_else(|| overflow(at))
}

fn add(a: Decimal, b: Decimal, at: At) -> Result<Decimal, OcpiError> {
    a.checked_add(b).ok_or_else(|| overflow(at))
}

/// Exact sums of one dimension: `Σ price × volume` and `Σ price × volume × (100 + vat)`.
#[derive(Default)]
struct Sum {
    used: bool,
    excl: Decimal,
    incl: Decimal,
    incl_known: bool,
}

impl Sum {
    fn new() -> Self {
        Self {
            incl_known: true,
            ..Self::default()
        }
    }

    /// Adds `component.price × volume`; `v211` marks a tariff whose VAT is unknown.
    fn add(
        &mut self,
        component: &PriceComponent,
        volume: Decimal,
        v211: bool,
        at: At,
    ) -> Result<Decimal, OcpiError> {
        self.used = true;
        let excl = mul(component.price, volume, at)?;
        self.excl = add(self.excl, excl, at)?;
        let factor = match component.vat {
            Some(vat) => add(Decimal::ONE_HUNDRED, vat, at)?,
            // OCPI 2.2.1: no VAT applicable, so incl = excl. 2.1.1 has no VAT field at all.
            None if !v211 => Decimal::ONE_HUNDRED,
            None => {
                self.incl_known = false;
                Decimal::ZERO
            }
        };
        self.incl = add(self.incl, mul(excl, factor, at)?, at)?;
        Ok(excl)
    }

    /// The totals, dividing the exact sums by `divisor` (1 for kWh, ms per hour for time).
    fn total(&self, divisor: Decimal) -> Result<Option<(Decimal, Option<Decimal>)>, OcpiError> {
        if !self.used {
            return Ok(None);
        }
        let div = |v: Decimal, d: Decimal| v.checked_div(d).ok_or_else(|| overflow(At::ROOT));
        let excl = div(self.excl, divisor)?;
        let incl = if self.incl_known {
            Some(div(
                self.incl,
                mul(divisor, Decimal::ONE_HUNDRED, At::ROOT)?,
            )?)
        } else {
            None
        };
        Ok(Some((excl, incl)))
    }
}

/// UTC instants to local wall time in the tariff's zone, for periods that arrive in order.
///
/// The zone's offset is reused for up to an hour after a lookup when the offset an hour later
/// is the same — assuming, as the native engine's segments do, that no zone changes its offset
/// twice within that span — and the local date is reused while the periods stay within one
/// local day. A chrono-tz lookup and a calendar conversion per one-minute period would
/// otherwise be the largest costs.
struct LocalClock {
    zone: Zone,
    from: i64,
    until: i64,
    offset: i64,
    /// Local midnight of `date`, in milliseconds on the local time line.
    midnight: i64,
    date: NaiveDate,
}

const MS_PER_DAY: i64 = 86_400_000;

impl LocalClock {
    fn new(zone: Zone) -> Self {
        Self {
            zone,
            from: 0,
            until: 0,
            offset: 0,
            midnight: i64::MIN,
            date: NaiveDate::MIN,
        }
    }

    fn offset(&mut self, utc_ms: i64) -> Option<i64> {
        if (self.from..self.until).contains(&utc_ms) {
            return Some(self.offset);
        }
        let offset = self.zone.offset_ms(utc_ms).ok()?;
        let ahead = utc_ms.checked_add(MS_PER_HOUR)?;
        if self.zone.offset_ms(ahead).ok() == Some(offset) {
            (self.from, self.until, self.offset) = (utc_ms, ahead, offset);
        }
        Some(offset)
    }

    /// The local wall time at `utc`, whose `timestamp_millis` is `utc_ms`; `None` beyond
    /// chrono's range.
    fn local(&mut self, utc: DateTime<Utc>, utc_ms: i64) -> Option<NaiveDateTime> {
        let sub_ms_nanos = utc.timestamp_subsec_nanos() % 1_000_000;
        let local_ms = utc_ms.checked_add(self.offset(utc_ms)?)?;
        let into_day = local_ms.checked_sub(self.midnight);
        if let Some(ms) = into_day.filter(|ms| (0..MS_PER_DAY).contains(ms)) {
            // In range by the filter: the casts cannot truncate.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let time = NaiveTime::from_num_seconds_from_midnight_opt(
                (ms / 1000) as u32,
                (ms % 1000) as u32 * 1_000_000 + sub_ms_nanos,
            )?;
            return Some(self.date.and_time(time));
        }
        let local = DateTime::from_timestamp_millis(local_ms)?
            .naive_utc()
            .with_nanosecond(utc.timestamp_subsec_nanos())?;
        self.date = local.date();
        self.midnight = self
            .date
            .and_time(NaiveTime::MIN)
            .and_utc()
            .timestamp_millis();
        Some(local)
    }
}

/// An exact running sum of decimals: mantissas added as `i128` at the largest scale seen,
/// where a `Decimal` addition would normalise both operands on every call.
#[derive(Clone, Copy, Default)]
struct ExactSum {
    mantissa: i128,
    scale: u32,
}

impl ExactSum {
    /// `None` when the sum no longer fits a `Decimal` exactly (so [`value`](Self::value) never
    /// fails after a successful add).
    #[inline]
    fn add(&mut self, value: Decimal) -> Option<()> {
        let (mut mantissa, scale) = (value.mantissa(), value.scale());
        if scale > self.scale {
            self.mantissa = self
                .mantissa
                .checked_mul(10i128.checked_pow(scale - self.scale)?)?;
            self.scale = scale;
        } else if scale < self.scale {
            mantissa = mantissa.checked_mul(10i128.checked_pow(self.scale - scale)?)?;
        }
        self.mantissa = self.mantissa.checked_add(mantissa)?;
        // A Decimal's mantissa has 96 bits; its scale is the operands' (at most 28).
        (self.mantissa.unsigned_abs() < 1 << 96).then_some(())
    }

    /// The sum as a `Decimal`; `None` when it needs more than its 96-bit mantissa.
    fn value(self) -> Option<Decimal> {
        Decimal::try_from_i128_with_scale(self.mantissa, self.scale).ok()
    }
}

/// What the restrictions are evaluated against, at a period's start.
struct State {
    local: NaiveDateTime,
    energy_before_kwh: ExactSum,
    elapsed_ms: i64,
    current: Option<Decimal>,
    power: Option<Decimal>,
}

fn in_range(value: Decimal, min: Option<Decimal>, max: Option<Decimal>) -> bool {
    min.is_none_or(|m| value >= m) && max.is_none_or(|m| value < m)
}

fn time_window(now: NaiveTime, start: Option<NaiveTime>, end: Option<NaiveTime>) -> bool {
    let end = end.filter(|e| *e != NaiveTime::MIN); // 00:00 = end of the day = no end bound
    match (start, end) {
        (Some(s), None) => now >= s,
        (None, Some(e)) => now < e,
        (Some(s), Some(e)) if s < e => s <= now && now < e,
        (Some(s), Some(e)) if s > e => now >= s || now < e, // wraps past midnight
        _ => true, // no bound, or start == end: the whole day
    }
}

fn holds(r: &Restrictions, s: &State) -> bool {
    let date = s.local.date();
    let instrument = |value: Option<Decimal>, min: Option<Decimal>, max: Option<Decimal>| {
        (min.is_none() && max.is_none()) || value.is_some_and(|v| in_range(v, min, max))
    };
    time_window(s.local.time(), r.start_time, r.end_time)
        && r.start_date.is_none_or(|d| date >= d)
        && r.end_date.is_none_or(|d| date < d)
        && ((r.min_kwh.is_none() && r.max_kwh.is_none())
            || s.energy_before_kwh
                .value()
                .is_some_and(|kwh| in_range(kwh, r.min_kwh, r.max_kwh)))
        && instrument(s.current, r.min_current, r.max_current)
        && instrument(s.power, r.min_power, r.max_power)
        && r.min_duration
            .is_none_or(|m| i128::from(s.elapsed_ms) >= i128::from(m) * 1000)
        && r.max_duration
            .is_none_or(|m| i128::from(s.elapsed_ms) < i128::from(m) * 1000)
        && r.day_of_week
            .as_ref()
            .is_none_or(|days| days.contains(&chrono::Datelike::weekday(&date)))
}

/// Picks price components for one period: the first element whose restrictions hold with a
/// component of the wanted dimension.
///
/// Restrictions are evaluated at most once per element and period (a period usually asks for
/// energy, time and flat), dimensions no element prices are not searched for, and when every
/// restriction is a wall-clock one (times, dates, weekdays) the answers are kept for as long
/// as the local time stays between the same two `start_time`/`end_time` boundaries of the same
/// day — which, for one-minute periods, is nearly always.
struct Selector<'t> {
    tariff: &'t Tariff,
    /// Per element: `None` not evaluated yet for this period, else whether its restrictions hold.
    holds: Vec<Option<bool>>,
    offered: [bool; 4],
    /// Every restriction depends on the local date and time only.
    wall_clock_only: bool,
    /// The `start_time`/`end_time` values of all elements, sorted.
    boundaries: Vec<NaiveTime>,
    /// Where the remembered answers hold: a date and `[from, until)` (`None`: to midnight).
    window: Option<(NaiveDate, NaiveTime, Option<NaiveTime>)>,
    /// Remembered answers by dimension and reservation kind.
    answers: [Answer; 12],
}

/// A remembered selection.
#[derive(Clone, Copy)]
enum Answer {
    NotAsked,
    Known(Option<(usize, PriceComponent)>),
}

impl<'t> Selector<'t> {
    fn new(tariff: &'t Tariff) -> Self {
        let mut offered = [false; 4];
        for component in tariff.elements.iter().flat_map(|e| &e.price_components) {
            offered[component.dimension as usize] = true;
        }
        let restrictions = || {
            tariff
                .elements
                .iter()
                .filter_map(|e| e.restrictions.as_ref())
        };
        let wall_clock_only = restrictions().all(|r| {
            [
                r.min_kwh,
                r.max_kwh,
                r.min_current,
                r.max_current,
                r.min_power,
                r.max_power,
            ]
            .iter()
            .all(Option::is_none)
                && r.min_duration.is_none()
                && r.max_duration.is_none()
        });
        let mut boundaries: Vec<NaiveTime> = restrictions()
            .flat_map(|r| [r.start_time, r.end_time])
            .flatten()
            .collect();
        boundaries.sort_unstable();
        boundaries.dedup();
        Self {
            tariff,
            holds: alloc::vec![None; tariff.elements.len()],
            offered,
            wall_clock_only,
            boundaries,
            window: None,
            answers: [Answer::NotAsked; 12],
        }
    }

    /// Starts a new period at local time `local`.
    fn next_period(&mut self, local: NaiveDateTime) {
        self.holds.fill(None);
        let (date, time) = (local.date(), local.time());
        if self.wall_clock_only
            && let Some((day, from, until)) = self.window
            && day == date
            && from <= time
            && until.is_none_or(|u| time < u)
        {
            return;
        }
        self.answers = [Answer::NotAsked; 12];
        let next = self.boundaries.partition_point(|b| *b <= time);
        let from = next
            .checked_sub(1)
            .and_then(|i| self.boundaries.get(i))
            .copied()
            .unwrap_or(NaiveTime::MIN);
        self.window = Some((date, from, self.boundaries.get(next).copied()));
    }

    /// The first element (index, component) whose restrictions hold with a component of
    /// `dimension`. `reservation` says which elements take part: those for a reservation of
    /// that kind, or (`None`) those without a reservation restriction.
    fn select(
        &mut self,
        dimension: TariffDimension,
        state: &State,
        reservation: Option<Reservation>,
    ) -> Option<(usize, PriceComponent)> {
        if !self.offered[dimension as usize] {
            return None;
        }
        let slot = dimension as usize * 3 + reservation.map_or(0, |r| r as usize + 1);
        if let Answer::Known(answer) = self.answers[slot] {
            return answer;
        }
        let answer = self.search(dimension, state, reservation);
        self.answers[slot] = Answer::Known(answer);
        answer
    }

    fn search(
        &mut self,
        dimension: TariffDimension,
        state: &State,
        reservation: Option<Reservation>,
    ) -> Option<(usize, PriceComponent)> {
        for (i, (element, cached)) in self
            .tariff
            .elements
            .iter()
            .zip(self.holds.iter_mut())
            .enumerate()
        {
            let restrictions = element.restrictions.as_ref();
            if restrictions.and_then(|r| r.reservation) != reservation {
                continue;
            }
            let Some(component) = element
                .price_components
                .iter()
                .find(|c| c.dimension == dimension)
            else {
                continue;
            };
            let holds = *cached.get_or_insert_with(|| restrictions.is_none_or(|r| holds(r, state)));
            if holds {
                return Some((i, *component));
            }
        }
        None
    }
}

/// Hours (4 decimals on the wire) to whole milliseconds, snapped to the period length.
#[inline]
fn hours_to_ms(hours: Decimal, period_ms: i64, at: At) -> Result<i64, OcpiError> {
    if hours.is_sign_negative() && !hours.is_zero() {
        return Err(OcpiError::Invalid {
            path: at.path(),
            message: "a time volume must not be negative",
        });
    }
    // Integer arithmetic on the decimal's parts (a Decimal multiply per period is the cost
    // that matters here): mantissa × 3 600 000 / 10^scale, half away from zero (the value is
    // not negative). Wire volumes have 4 decimals and fit i64, which divides far faster than
    // i128; anything else takes the i128 path (|mantissa| < 2^96, 10^scale ≤ 10^28).
    if hours.is_zero() {
        return Ok(0);
    }
    let scale = hours.scale();
    let ms = match (i64::try_from(hours.mantissa()), 10i64.checked_pow(scale)) {
        // Up to 5 decimals (the wire has 4) 10^scale divides 3 600 000: an exact multiply.
        (Ok(mantissa), Some(denominator)) if scale <= 5 => mantissa
            .checked_mul(MS_PER_HOUR / denominator)
            .ok_or_else(|| overflow(at))?,
        (Ok(mantissa), Some(denominator)) if mantissa <= i64::MAX / MS_PER_HOUR / 2 => {
            (mantissa * MS_PER_HOUR + denominator / 2) / denominator
        }
        _ => {
            let denominator = 10i128.pow(scale);
            let numerator = hours.mantissa() * i128::from(MS_PER_HOUR);
            i64::try_from((numerator + denominator / 2) / denominator).map_err(|_| overflow(at))?
        }
    };
    Ok(if (ms - period_ms).abs() <= SNAP_MS {
        period_ms
    } else {
        ms
    })
}

/// `total` rounded up (away from zero) to a multiple of `step`; `step` 0 means no rounding.
fn step_up(total: Decimal, step: Decimal) -> Option<Decimal> {
    if step.is_zero() {
        return Some(total);
    }
    let magnitude = total.abs().checked_div(step)?.ceil().checked_mul(step)?;
    Some(if total.is_sign_negative() {
        -magnitude
    } else {
        magnitude
    })
}

/// Where one period's volumes are, by [`CdrDimensionType`], found in one pass: the first
/// dimension of each type counts, as in [`ChargingPeriod::volume`].
#[derive(Default)]
struct Volumes<'c> {
    dimensions: &'c [CdrDimension],
    /// Index into `dimensions` plus one; 0 for none.
    at: [u8; CdrDimensionType::Other as usize + 1],
}

impl<'c> Volumes<'c> {
    #[inline]
    fn read(&mut self, period: &'c ChargingPeriod) {
        self.dimensions = &period.dimensions;
        self.at = Default::default();
        // Periods carry a handful of dimensions; one beyond the 255th is not looked at.
        for (i, d) in period.dimensions.iter().take(255).enumerate() {
            let slot = &mut self.at[d.dimension as usize];
            if *slot == 0 {
                *slot = u8::try_from(i + 1).unwrap_or(u8::MAX);
            }
        }
    }

    #[inline]
    fn get(&self, dimension: CdrDimensionType) -> Option<Decimal> {
        let at = usize::from(self.at[dimension as usize]).checked_sub(1)?;
        self.dimensions.get(at).map(|d| d.volume)
    }
}

/// Which cost a priced volume adds to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Energy,
    Time,
    Parking,
    Reservation,
}

/// The exact quantity priced per slot and element, with the component that prices it.
struct Group {
    slot: Slot,
    element: usize,
    component: PriceComponent,
    quantity: ExactSum,
}

#[derive(Default)]
struct Groups(Vec<Group>);

impl Groups {
    /// Adds `quantity` to its group and returns the group's index; `None` on overflow.
    fn book(
        &mut self,
        slot: Slot,
        element: usize,
        component: PriceComponent,
        quantity: Decimal,
    ) -> Option<usize> {
        let found = self
            .0
            .iter()
            .position(|g| g.slot == slot && g.element == element);
        let index = if let Some(index) = found {
            index
        } else {
            self.0.push(Group {
                slot,
                element,
                component,
                quantity: ExactSum::default(),
            });
            self.0.len() - 1
        };
        self.0.get_mut(index)?.quantity.add(quantity)?;
        Some(index)
    }

    /// The quantity of every group of `slot`.
    fn total(&self, slot: Slot) -> Option<Decimal> {
        let mut total = ExactSum::default();
        for g in self.0.iter().filter(|g| g.slot == slot) {
            total.add(g.quantity.value()?)?;
        }
        total.value()
    }
}

type Pick = fn(&mut PricedPeriod) -> &mut Option<PricedDimension>;

/// Books the `extra` volume of `step_size` rounding in the last period priced with a dimension,
/// and in its group.
fn add_extra(
    periods: &mut [PricedPeriod],
    groups: &mut Groups,
    last: Last,
    extra: Decimal,
    pick: Pick,
) -> Result<(), OcpiError> {
    if let Some(dim) = periods.get_mut(last.period).and_then(|p| pick(p).as_mut()) {
        dim.quantity = add(dim.quantity, extra, At::ROOT)?;
    }
    if let Some(group) = groups.0.get_mut(last.group) {
        group
            .quantity
            .add(extra)
            .ok_or_else(|| overflow(At::ROOT))?;
    }
    Ok(())
}

/// Where the `step_size` of one dimension is booked, and the component it comes from.
#[derive(Clone, Copy)]
struct Last {
    period: usize,
    group: usize,
    component: PriceComponent,
}

/// Prices `cdr` with the first tariff of `tariffs` valid at the session start, reading
/// restriction times in `zone`.
///
/// # Errors
/// [`OcpiError::NoTariff`], [`OcpiError::Invalid`] for periods out of order or outside the
/// session, negative time volumes or a currency differing from the CDR's,
/// [`OcpiError::Overflow`] for amounts beyond `rust_decimal`'s range.
#[allow(
    clippy::too_many_lines,
    reason = "one pass over the periods, kept in one place"
)]
pub fn price_cdr(cdr: &Cdr, tariffs: &[Tariff], zone: Zone) -> Result<PricedCdr, OcpiError> {
    let start = cdr.start_date_time;
    let end = cdr.end_date_time;
    if end < start {
        return Err(OcpiError::Invalid {
            path: "$.end_date_time".into(),
            message: "the session ends before it starts",
        });
    }
    let tariff = tariffs
        .iter()
        .find(|t| {
            t.start_date_time.is_none_or(|s| s <= start)
                && t.end_date_time.is_none_or(|e| start < e)
        })
        .ok_or(OcpiError::NoTariff { at: start })?;
    if let Some(currency) = &cdr.currency
        && !currency.eq_ignore_ascii_case(&tariff.currency)
    {
        return Err(OcpiError::Invalid {
            path: "$.currency".into(),
            message: "the CDR's currency differs from the tariff's",
        });
    }
    let v211 = tariff.is_v211();
    // RESERVATION_EXPIRES prices a reservation that never turned into charging.
    let charged = cdr.charging_periods.iter().any(|p| {
        p.volume(CdrDimensionType::Energy)
            .is_some_and(|v| !v.is_zero())
            || p.volume(CdrDimensionType::Time)
                .is_some_and(|v| !v.is_zero())
    });
    let reservation_kind = if charged {
        Reservation::Reservation
    } else {
        Reservation::ReservationExpires
    };

    let (mut energy, mut time, mut parking, mut reservation, mut flat) =
        (Sum::new(), Sum::new(), Sum::new(), Sum::new(), Sum::new());
    let (mut last_energy, mut last_time, mut last_parking) = (None, None, None);
    let (mut total_energy, mut parking_ms_total) = (ExactSum::default(), 0i64);
    let (mut time_priced_ms, mut parking_priced_ms) = (0i64, 0i64);
    let mut flat_done = [false, false]; // session, reservation
    let mut periods = Vec::with_capacity(cdr.charging_periods.len());
    let mut groups = Groups::default();
    let mut volumes = Volumes::default();
    let mut previous = start;
    let mut clock = LocalClock::new(zone);
    let mut selector = Selector::new(tariff);
    let start_ms = start.timestamp_millis();
    let mut known = (start, start_ms);

    for (i, period) in cdr.charging_periods.iter().enumerate() {
        let here = At::period(i, "");
        let p_start = period.start_date_time;
        if p_start < previous || p_start > end {
            return Err(OcpiError::Invalid {
                path: At::period(i, ".start_date_time").path(),
                message: "a period must start within the session, after the previous period",
            });
        }
        previous = p_start;
        let p_end = cdr
            .charging_periods
            .get(i + 1)
            .map_or(end, |n: &ChargingPeriod| {
                n.start_date_time.clamp(p_start, end)
            });
        // A period's end is the next one's start: each instant is converted once.
        let p_start_ms = if p_start == known.0 {
            known.1
        } else {
            p_start.timestamp_millis()
        };
        known = (p_end, p_end.timestamp_millis());
        let period_ms = known.1 - p_start_ms;
        let dims = At::period(i, ".dimensions");
        volumes.read(period);
        let vol = |t| volumes.get(t);
        let kwh = vol(CdrDimensionType::Energy).unwrap_or_default();
        let ms = |t| match vol(t) {
            Some(hours) => hours_to_ms(hours, period_ms, dims),
            None => Ok(0),
        };
        let time_ms = ms(CdrDimensionType::Time)?;
        let park_ms = ms(CdrDimensionType::ParkingTime)?;
        let reserved_ms = ms(CdrDimensionType::ReservationTime)?;
        let local = clock
            .local(p_start, p_start_ms)
            .ok_or_else(|| overflow(here))?;
        selector.next_period(local);
        let state = State {
            local,
            energy_before_kwh: total_energy,
            elapsed_ms: p_start_ms - start_ms,
            current: vol(CdrDimensionType::Current)
                .or_else(|| vol(CdrDimensionType::MaxCurrent))
                .or_else(|| vol(CdrDimensionType::MinCurrent)),
            power: vol(CdrDimensionType::Power)
                .or_else(|| vol(CdrDimensionType::MaxPower))
                .or_else(|| vol(CdrDimensionType::MinPower)),
        };
        total_energy.add(kwh).ok_or_else(|| overflow(dims))?;
        parking_ms_total = parking_ms_total
            .checked_add(park_ms)
            .ok_or_else(|| overflow(dims))?;

        let mut priced = PricedPeriod {
            start: p_start,
            end: p_end,
            local_start: state.local,
            energy: None,
            time: None,
            parking: None,
            reservation: None,
        };
        // Volumes are summed exactly per element and dimension here; costs are built after
        // step_size, below. A dimension with no volume in a period is not priced there, so
        // step_size extras land in the last period that has some.
        let mut price = |slot: Slot, pick: Pick, quantity: Decimal, per_hour: bool| {
            let dimension = match slot {
                Slot::Energy => TariffDimension::Energy,
                Slot::Time | Slot::Reservation => TariffDimension::Time,
                Slot::Parking => TariffDimension::ParkingTime,
            };
            let reservation = (slot == Slot::Reservation).then_some(reservation_kind);
            let Some((element, component)) = selector.select(dimension, &state, reservation) else {
                return Ok(None);
            };
            let group = groups
                .book(slot, element, component, quantity)
                .ok_or_else(|| overflow(dims))?;
            *pick(&mut priced) = Some(PricedDimension::new(element, component, quantity, per_hour));
            Ok::<_, OcpiError>(Some(Last {
                period: i,
                group,
                component,
            }))
        };
        if !kwh.is_zero()
            && let Some(last) = price(Slot::Energy, |p| &mut p.energy, kwh, false)?
        {
            last_energy = Some(last);
        }
        if time_ms != 0
            && let Some(last) = price(Slot::Time, |p| &mut p.time, Decimal::from(time_ms), true)?
        {
            time_priced_ms = time_priced_ms
                .checked_add(time_ms)
                .ok_or_else(|| overflow(dims))?;
            last_time = Some(last);
        }
        if park_ms != 0
            && let Some(last) = price(
                Slot::Parking,
                |p| &mut p.parking,
                Decimal::from(park_ms),
                true,
            )?
        {
            parking_priced_ms = parking_priced_ms
                .checked_add(park_ms)
                .ok_or_else(|| overflow(dims))?;
            last_parking = Some(last);
        }
        if reserved_ms != 0 {
            price(
                Slot::Reservation,
                |p| &mut p.reservation,
                Decimal::from(reserved_ms),
                true,
            )?;
        }
        // FLAT: once per session (the first that applies), once per reservation.
        for (done, kind) in flat_done.iter_mut().zip([None, Some(reservation_kind)]) {
            if *done || (kind.is_some() && reserved_ms == 0) {
                continue;
            }
            if let Some((_, component)) = selector.select(TariffDimension::Flat, &state, kind) {
                *done = true;
                let sum = if kind.is_some() {
                    &mut reservation
                } else {
                    &mut flat
                };
                sum.add(&component, Decimal::ONE, v211, here)?;
            }
        }
        periods.push(priced);
    }

    // step_size: once per session on the totals; the extra volume lands in the last period
    // priced with that dimension and is priced with its component.
    if let Some(l) = last_energy {
        let kwh = groups
            .total(Slot::Energy)
            .ok_or_else(|| overflow(At::ROOT))?;
        let wh = mul(kwh, Decimal::ONE_THOUSAND, At::ROOT)?;
        let stepped =
            step_up(wh, Decimal::from(l.component.step_size)).ok_or_else(|| overflow(At::ROOT))?;
        let extra = (stepped - wh) / Decimal::ONE_THOUSAND;
        add_extra(&mut periods, &mut groups, l, extra, |p| &mut p.energy)?;
    }
    // TIME and PARKING_TIME share one rounding: only parking when parking is priced.
    let (last, total, pick): (_, _, Pick) = if last_parking.is_some() {
        (last_parking, parking_priced_ms, |p| &mut p.parking)
    } else {
        (last_time, time_priced_ms, |p| &mut p.time)
    };
    if let Some(l) = last {
        let total = Decimal::from(total);
        let step_ms = Decimal::from(l.component.step_size) * Decimal::ONE_THOUSAND;
        let stepped = step_up(total, step_ms).ok_or_else(|| overflow(At::ROOT))?;
        add_extra(&mut periods, &mut groups, l, stepped - total, pick)?;
    }

    // Costs: Σ price × quantity per element and dimension, so that each price multiplies once
    // (1,440 periods of one element cost one multiplication).
    let per_hour = Decimal::from(MS_PER_HOUR);
    for group in &groups.0 {
        let sum = match group.slot {
            Slot::Energy => &mut energy,
            Slot::Time => &mut time,
            Slot::Parking => &mut parking,
            Slot::Reservation => &mut reservation,
        };
        let quantity = group.quantity.value().ok_or_else(|| overflow(At::ROOT))?;
        sum.add(&group.component, quantity, v211, At::ROOT)?;
    }

    let price = |t: Option<(Decimal, Option<Decimal>)>| {
        t.map(|(excl, incl)| Price {
            excl_vat: excl,
            incl_vat: incl,
        })
    };
    let fixed = price(flat.total(Decimal::ONE)?);
    let energy_cost = price(energy.total(Decimal::ONE)?);
    let time_cost = price(time.total(per_hour)?);
    let parking_cost = price(parking.total(per_hour)?);
    let reservation_cost = price(reservation.total(per_hour)?);
    let mut total = Price {
        excl_vat: Decimal::ZERO,
        incl_vat: Some(Decimal::ZERO),
    };
    for part in [
        fixed,
        energy_cost,
        time_cost,
        parking_cost,
        reservation_cost,
    ]
    .into_iter()
    .flatten()
    {
        total.excl_vat = add(total.excl_vat, part.excl_vat, At::ROOT)?;
        total.incl_vat = match (total.incl_vat, part.incl_vat) {
            (Some(a), Some(b)) => Some(add(a, b, At::ROOT)?),
            _ => None,
        };
    }
    // min_price, then max_price (so max wins if they contradict), on excl and incl separately.
    let mut clamped = None;
    if let Some(min) = tariff.min_price {
        if total.excl_vat < min.excl_vat {
            total.excl_vat = min.excl_vat;
            clamped = Some(Clamp::Min);
        }
        if let (Some(t), Some(m)) = (total.incl_vat, min.incl_vat)
            && t < m
        {
            total.incl_vat = Some(m);
            clamped = Some(Clamp::Min);
        }
    }
    if let Some(max) = tariff.max_price {
        if total.excl_vat > max.excl_vat {
            total.excl_vat = max.excl_vat;
            clamped = Some(Clamp::Max);
        }
        if let (Some(t), Some(m)) = (total.incl_vat, max.incl_vat)
            && t > m
        {
            total.incl_vat = Some(m);
            clamped = Some(Clamp::Max);
        }
    }
    // Rounded last; a credit CDR is negated after clamping.
    let sign = if cdr.credit {
        Decimal::NEGATIVE_ONE
    } else {
        Decimal::ONE
    };
    let finish = |p: Price| Price {
        excl_vat: round4(p.excl_vat * sign),
        incl_vat: p.incl_vat.map(|v| round4(v * sign)),
    };
    let session_ms = (end - start).num_milliseconds();
    Ok(PricedCdr {
        tariff_id: tariff.id.clone(),
        currency: tariff.currency.clone(),
        zone,
        periods,
        total_cost: finish(total),
        total_fixed_cost: fixed.map(finish),
        total_energy_cost: energy_cost.map(finish),
        total_time_cost: time_cost.map(finish),
        total_parking_cost: parking_cost.map(finish),
        total_reservation_cost: reservation_cost.map(finish),
        total_energy: round4(total_energy.value().ok_or_else(|| overflow(At::ROOT))?),
        total_time: round4(Decimal::from(session_ms) / per_hour),
        total_parking_time: round4(Decimal::from(parking_ms_total) / per_hour),
        clamped,
    })
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn time_windows() {
        // 22:00-06:00 wraps: 23:00 and 05:59 in, 06:00 and 12:00 out.
        let (s, e) = (Some(t(22, 0)), Some(t(6, 0)));
        assert!(time_window(t(23, 0), s, e));
        assert!(time_window(t(5, 59), s, e));
        assert!(!time_window(t(6, 0), s, e));
        assert!(!time_window(t(12, 0), s, e));
        // 18:00-00:00: 00:00 ends the day, so 23:59 in, 00:00 (next day's start) out.
        let (s, e) = (Some(t(18, 0)), Some(t(0, 0)));
        assert!(time_window(t(23, 59), s, e));
        assert!(!time_window(t(0, 0), s, e));
        assert!(!time_window(t(17, 59), s, e));
        // A lone end 00:00 bounds nothing.
        assert!(time_window(t(3, 0), None, Some(t(0, 0))));
        assert!(!time_window(t(9, 0), None, Some(t(9, 0))));
    }

    /// The selection rule without any caching: what `Selector` must always answer.
    fn reference_select(
        tariff: &Tariff,
        dimension: TariffDimension,
        state: &State,
        reservation: Option<Reservation>,
    ) -> Option<(usize, PriceComponent)> {
        tariff.elements.iter().enumerate().find_map(|(i, e)| {
            let restrictions = e.restrictions.as_ref();
            if restrictions.and_then(|r| r.reservation) != reservation
                || !restrictions.is_none_or(|r| holds(r, state))
            {
                return None;
            }
            e.price_components
                .iter()
                .find(|c| c.dimension == dimension)
                .map(|c| (i, *c))
        })
    }

    fn element_json(
        window: Option<(usize, usize)>,
        days: Option<&[usize]>,
        min_kwh: Option<u8>,
        dims: &[usize],
    ) -> alloc::string::String {
        const TIMES: [&str; 7] = [
            "00:00", "06:30", "07:00", "12:00", "17:00", "21:00", "23:59",
        ];
        const DAYS: [&str; 7] = [
            "MONDAY",
            "TUESDAY",
            "WEDNESDAY",
            "THURSDAY",
            "FRIDAY",
            "SATURDAY",
            "SUNDAY",
        ];
        const DIMS: [&str; 3] = ["ENERGY", "TIME", "FLAT"];
        let mut restrictions = alloc::vec::Vec::new();
        if let Some((start, end)) = window {
            restrictions.push(format!(
                r#""start_time":"{}","end_time":"{}""#,
                TIMES[start], TIMES[end]
            ));
        }
        if let Some(days) = days {
            let names: alloc::vec::Vec<_> =
                days.iter().map(|d| format!("\"{}\"", DAYS[*d])).collect();
            restrictions.push(format!(r#""day_of_week":[{}]"#, names.join(",")));
        }
        if let Some(kwh) = min_kwh {
            restrictions.push(format!(r#""min_kwh":{kwh}"#));
        }
        let components: alloc::vec::Vec<_> = dims
            .iter()
            .map(|d| format!(r#"{{"type":"{}","price":1,"step_size":0}}"#, DIMS[*d]))
            .collect();
        format!(
            r#"{{"price_components":[{}],"restrictions":{{{}}}}}"#,
            components.join(","),
            restrictions.join(",")
        )
    }

    proptest::proptest! {
        /// Walking a session in steps of 1 to 300 minutes across two days and a DST change,
        /// the selector's remembered answers always equal a fresh first-match search.
        #[test]
        fn selector_answers_as_a_fresh_search(
            elements in proptest::collection::vec(
                (
                    proptest::option::of((0usize..7, 0usize..7)),
                    proptest::option::of(proptest::collection::vec(0usize..7, 1..4)),
                    proptest::option::weighted(0.2, 0u8..40),
                    proptest::collection::vec(0usize..3, 1..3),
                ),
                1..6,
            ),
            steps in proptest::collection::vec(1i64..300, 1..80),
        ) {
            let elements: alloc::vec::Vec<_> = elements
                .iter()
                .map(|(w, d, k, dims)| element_json(*w, d.as_deref(), *k, dims))
                .collect();
            let json = format!(
                r#"{{"id":"T","currency":"EUR","country_code":"DE","party_id":"X","elements":[{}]}}"#,
                elements.join(",")
            );
            let tariff = crate::ocpi::parse_tariff(&json).unwrap();
            let zone = Zone::parse("Europe/Berlin").unwrap();
            let mut selector = Selector::new(&tariff);
            let mut clock = LocalClock::new(zone);
            // 2025-03-29 20:00 UTC: the walk crosses midnight and the 30 March DST change.
            let mut at = DateTime::from_timestamp(1_743_278_400, 0).unwrap();
            let mut energy = ExactSum::default();
            for step in steps {
                at += chrono::TimeDelta::minutes(step);
                let local = clock.local(at, at.timestamp_millis()).unwrap();
                selector.next_period(local);
                let state = State {
                    local,
                    energy_before_kwh: energy,
                    elapsed_ms: 0,
                    current: None,
                    power: None,
                };
                for dimension in [TariffDimension::Energy, TariffDimension::Time, TariffDimension::Flat] {
                    proptest::prop_assert_eq!(
                        selector.select(dimension, &state, None),
                        reference_select(&tariff, dimension, &state, None),
                        "at {} local", local
                    );
                }
                energy.add(Decimal::from(step)).unwrap();
            }
        }
    }

    #[test]
    fn local_clock_matches_chrono_across_dst_and_days() {
        let zone = Zone::parse("America/New_York").unwrap();
        let tz: chrono_tz::Tz = "America/New_York".parse().unwrap();
        let mut clock = LocalClock::new(zone);
        // Every 7 minutes and 13 ms for 3 days around the 2 November 2025 fall-back.
        let mut at = DateTime::from_timestamp(1_761_955_200, 123_456_789).unwrap();
        for _ in 0..(3 * 1440 / 7) {
            let expected = at.with_timezone(&tz).naive_local();
            assert_eq!(
                clock.local(at, at.timestamp_millis()),
                Some(expected),
                "at {at}"
            );
            at += chrono::TimeDelta::milliseconds(7 * 60_000 + 13);
        }
    }

    #[test]
    fn step_up_rounds_magnitude_up() {
        // 5400 Wh with 500 Wh steps: 10.8 steps -> 11 -> 5500 Wh.
        let d = Decimal::from;
        assert_eq!(step_up(d(5400), d(500)), Some(d(5500)));
        assert_eq!(step_up(d(5500), d(500)), Some(d(5500)));
        assert_eq!(step_up(d(-5400), d(500)), Some(d(-5500)));
        assert_eq!(step_up(d(5401), d(0)), Some(d(5401)));
        // MAX / 10 = …033.5 -> …034 steps of 10: beyond MAX.
        assert_eq!(step_up(Decimal::MAX, d(10)), None);
    }

    #[test]
    fn round4_ties_away_from_zero() {
        assert_eq!(round4(Decimal::new(5, 5)).to_string(), "0.0001");
        assert_eq!(round4(Decimal::new(-5, 5)).to_string(), "-0.0001");
        assert_eq!(round4(Decimal::new(15, 1)).to_string(), "1.5000");
    }
}
