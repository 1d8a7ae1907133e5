//! Tariff files: TOML and JSON, validated with every problem reported with its line.
//!
//! The format is documented with an example in the crate README; `examples-data/` holds two
//! complete files.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use chrono::{NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::model::{
    DayTable, DayType, MonthDay, Period, PeriodKind, Season, SessionFees, Tariff, TariffVersion,
    Tax, Tier, Weekdays,
};
use crate::{Currency, Error, Zone};

/// The syntax of a tariff file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl Format {
    /// `Json` for a `.json` file name, `Toml` otherwise.
    pub fn from_file_name(name: &str) -> Self {
        if name.to_ascii_lowercase().ends_with(".json") {
            Self::Json
        } else {
            Self::Toml
        }
    }
}

/// One problem found in a tariff file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// 1-based line in the file, when known (for every problem of a file that parsed).
    pub line: Option<usize>,
    /// Where in the document, e.g. `versions[0].days[1].slots[2]`; empty for syntax errors.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem of a rejected tariff file; `Display` prints one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The problems, in document order as far as known.
    pub problems: Vec<Problem>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl core::error::Error for Report {}

/// Reads and validates a tariff file.
///
/// # Errors
/// A [`Report`] with every problem found: syntax, unknown keys, bad numbers, times or dates,
/// overlapping or missing slots in a day, unknown period kinds, unknown seasons or day types,
/// overlapping versions, dates no day table covers, capacities.
pub fn load(text: &str, format: Format) -> Result<Tariff, Report> {
    let parsed: Result<FileTariff, Problem> = match format {
        Format::Toml => toml::from_str(text).map_err(|e| Problem {
            line: e.span().map(|s| line_of(text, s.start)),
            path: String::new(),
            message: e.message().trim().to_string(),
        }),
        Format::Json => serde_json::from_str(text).map_err(|e| Problem {
            line: Some(e.line()),
            path: String::new(),
            message: e.to_string(),
        }),
    };
    let file = parsed.map_err(|p| Report {
        problems: alloc::vec![p],
    })?;
    let mut problems = Vec::new();
    let tariff = build(&file, &mut problems);
    if problems.is_empty()
        && let Some(t) = tariff
    {
        return Ok(t);
    }
    match format {
        Format::Toml => locate(text, &mut problems),
        Format::Json => locate_json(text, &mut problems),
    }
    Err(Report { problems })
}

/// Reads and validates a TOML tariff.
///
/// # Errors
/// As [`load`].
pub fn load_toml(text: &str) -> Result<Tariff, Report> {
    load(text, Format::Toml)
}

/// Reads and validates a JSON tariff.
///
/// # Errors
/// As [`load`].
pub fn load_json(text: &str) -> Result<Tariff, Report> {
    load(text, Format::Json)
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |s| s.matches('\n').count()) + 1
}

/// Fills in line numbers by walking each problem's path through the spanned TOML document.
fn locate(text: &str, problems: &mut [Problem]) {
    let Ok(root) = toml::de::DeTable::parse(text) else {
        return;
    };
    for p in problems.iter_mut().filter(|p| p.line.is_none()) {
        let mut span = root.span();
        let mut node: Option<&toml::Spanned<toml::de::DeValue<'_>>> = None;
        let mut first = true;
        for seg in p.path.split('.') {
            let (key, indices) = match seg.find('[') {
                Some(i) => (&seg[..i], &seg[i..]),
                None => (seg, ""),
            };
            let next = if first {
                root.get_ref().get(key)
            } else {
                node.and_then(|n| n.get_ref().get(key))
            };
            first = false;
            let Some(mut value) = next else { break };
            for index in indices.split(['[', ']']).filter(|s| !s.is_empty()) {
                match index
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| value.get_ref().get(i))
                {
                    Some(v) => value = v,
                    None => break,
                }
            }
            span = value.span();
            node = Some(value);
        }
        p.line = Some(line_of(text, span.start));
    }
}

/// Fills in line numbers from where each problem's path starts in the JSON text; a path that
/// is not in the text (a missing field) takes the line of its nearest enclosing value.
fn locate_json(text: &str, problems: &mut [Problem]) {
    for p in problems.iter_mut().filter(|p| p.line.is_none()) {
        let mut path = if p.path.is_empty() {
            String::from("$")
        } else {
            alloc::format!("$.{}", p.path)
        };
        p.line = loop {
            if let Some(offset) = crate::json_path::value_offset(text, &path) {
                break Some(line_of(text, offset));
            }
            match path.rfind(['.', '[']) {
                Some(cut) => path.truncate(cut),
                None => break None,
            }
        };
    }
}

/// A decimal written as a string (`"0.85"`), an integer, or a float. Floats are read through
/// their shortest round-trip text, which is the decimal the author typed for up to 15
/// significant digits.
#[derive(Debug, Clone, Copy)]
struct Num(Decimal);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number or a string holding one")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Num, E> {
                Decimal::from_str(v.trim())
                    .map(Num)
                    .map_err(|_| E::custom(format!("`{v}` is not a decimal number")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(Decimal::from(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(Decimal::from(v)))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Num, E> {
                if !v.is_finite() {
                    return Err(E::custom("not a finite number"));
                }
                self.visit_str(&format!("{v}"))
            }
        }
        de.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTariff {
    name: String,
    currency: String,
    currency_scale: Option<u32>,
    time_zone: String,
    tax: Option<FileTax>,
    versions: Vec<FileVersion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTax {
    rate_percent: Num,
    #[serde(default)]
    prices_include_tax: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileVersion {
    valid_from: Option<String>,
    valid_until: Option<String>,
    periods: Vec<FilePeriod>,
    #[serde(default)]
    seasons: Vec<FileSeason>,
    #[serde(default)]
    day_types: Vec<FileDayType>,
    #[serde(default)]
    holidays: Vec<String>,
    days: Vec<FileDay>,
    #[serde(default)]
    tiers: Vec<FileTier>,
    #[serde(default)]
    fees: FileFees,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePeriod {
    kind: String,
    energy: Num,
    #[serde(default)]
    service: Option<Num>,
    meter_rate: Option<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSeason {
    name: String,
    from: String,
    to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDayType {
    name: String,
    #[serde(default)]
    weekdays: Vec<String>,
    #[serde(default)]
    holidays: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDay {
    season: Option<String>,
    day_type: Option<String>,
    slots: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTier {
    from_kwh: Num,
    energy_adjust: Num,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileFees {
    flat: Option<Num>,
    time_per_hour: Option<Num>,
    parking_per_hour: Option<Num>,
    parking_grace_minutes: Option<u32>,
    min_price: Option<Num>,
    max_price: Option<Num>,
}

struct Sink<'a>(&'a mut Vec<Problem>);

impl Sink<'_> {
    fn push(&mut self, path: String, message: impl fmt::Display) {
        self.0.push(Problem {
            line: None,
            path,
            message: message.to_string(),
        });
    }

    fn ok<T>(&mut self, path: impl FnOnce() -> String, r: Result<T, Error>) -> Option<T> {
        r.map_err(|e| self.push(path(), e)).ok()
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD)"))
}

fn parse_month_day(text: &str) -> Result<MonthDay, String> {
    let bad = || format!("`{text}` is not a month-day (MM-DD)");
    let (m, d) = text.split_once('-').ok_or_else(bad)?;
    MonthDay::new(m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?).map_err(|_| bad())
}

/// `"HH:MM"` → minutes; `24:00` is accepted as the end of the day.
fn parse_hhmm(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
}

/// `"07:00-10:00 peak"` → (start, end, kind); an end of `00:00` or `24:00` is midnight.
fn parse_slot(text: &str) -> Result<(u16, u16, &str), String> {
    let bad = || format!("`{text}` is not a slot like \"07:00-10:00 peak\"");
    let (range, kind) = text
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(bad)?;
    let (from, to) = range.split_once('-').ok_or_else(bad)?;
    let from = parse_hhmm(from).filter(|&m| m < 1440).ok_or_else(bad)?;
    let to = match parse_hhmm(to).ok_or_else(bad)? {
        0 => 1440,
        m => m,
    };
    if to <= from {
        return Err(format!("slot `{text}` ends before it starts"));
    }
    Ok((from, to, kind.trim()))
}

fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn build(file: &FileTariff, problems: &mut Vec<Problem>) -> Option<Tariff> {
    let mut sink = Sink(problems);
    let scale = file.currency_scale.unwrap_or(match file.currency.as_str() {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    });
    let currency = sink.ok(|| "currency".into(), Currency::new(&file.currency, scale));
    let zone = Zone::parse(&file.time_zone)
        .map_err(|_| {
            sink.push(
                "time_zone".into(),
                format!("unknown time zone `{}`", file.time_zone),
            );
        })
        .ok();
    let tax = file.tax.as_ref().map_or(Tax::NONE, |t| Tax {
        rate_percent: t.rate_percent.0,
        prices_include_tax: t.prices_include_tax,
    });
    let mut tariff = match (currency, zone) {
        (Some(c), Some(z)) => sink.ok(|| "name".into(), Tariff::new(&file.name, c, z, tax)),
        _ => None,
    };
    if file.versions.is_empty() {
        sink.push("versions".into(), "a tariff needs at least one version");
    }
    for (vi, fv) in file.versions.iter().enumerate() {
        let Some(version) = build_version(fv, vi, &mut sink) else {
            continue;
        };
        if let Some(t) = tariff.as_mut() {
            sink.ok(|| format!("versions[{vi}]"), t.add_version(version));
        }
    }
    if let Some(t) = &tariff {
        check_coverage(t, &mut sink);
    }
    tariff
}

fn build_version(fv: &FileVersion, vi: usize, sink: &mut Sink<'_>) -> Option<TariffVersion> {
    let at = |field: &str| format!("versions[{vi}].{field}");
    let date = |sink: &mut Sink<'_>, field: &str, text: &Option<String>| {
        text.as_deref()
            .and_then(|t| parse_date(t).map_err(|m| sink.push(at(field), m)).ok())
    };
    let (from, until) = (
        date(sink, "valid_from", &fv.valid_from),
        date(sink, "valid_until", &fv.valid_until),
    );
    if let (Some(f), Some(u)) = (from, until)
        && u <= f
    {
        sink.push(at("valid_until"), "must be after valid_from");
    }
    let mut v = TariffVersion::new(from, until);
    let mut ok = true;
    let mut kinds: Vec<(PeriodKind, u8)> = Vec::new();
    for (pi, p) in fv.periods.iter().enumerate() {
        let path = || at(&format!("periods[{pi}]"));
        let Some(kind) = sink.ok(path, PeriodKind::parse(&p.kind)) else {
            ok = false;
            continue;
        };
        if kinds.iter().any(|(k, _)| *k == kind) {
            sink.push(path(), format!("period kind `{}` is defined twice", p.kind));
            ok = false;
            continue;
        }
        let mut period = Period::new(
            kind.clone(),
            p.energy.0,
            p.service.map_or(Decimal::ZERO, |s| s.0),
        );
        period.meter_rate = p.meter_rate;
        if let Some(index) = sink.ok(path, v.add_period(period)) {
            kinds.push((kind, index));
        } else {
            ok = false;
        }
    }
    let mut seasons: Vec<(&str, u8)> = Vec::new();
    for (si, s) in fv.seasons.iter().enumerate() {
        let path = || at(&format!("seasons[{si}]"));
        let range = parse_month_day(&s.from).and_then(|f| parse_month_day(&s.to).map(|t| (f, t)));
        match range {
            Err(m) => {
                sink.push(path(), m);
                ok = false;
            }
            Ok((f, t)) => match sink.ok(
                path,
                Season::new(&s.name, f, t).and_then(|season| v.add_season(season)),
            ) {
                Some(i) => seasons.push((&s.name, i)),
                None => ok = false,
            },
        }
    }
    let mut day_types: Vec<(&str, u8)> = Vec::new();
    for (di, dt) in fv.day_types.iter().enumerate() {
        let path = || at(&format!("day_types[{di}]"));
        let mut days = Weekdays::default();
        for w in &dt.weekdays {
            if let Ok(day) = Weekday::from_str(w) {
                days = days.with(day);
            } else {
                sink.push(path(), format!("`{w}` is not a weekday (mon … sun)"));
                ok = false;
            }
        }
        match sink.ok(
            path,
            DayType::new(&dt.name, days, dt.holidays).and_then(|t| v.add_day_type(t)),
        ) {
            Some(i) => day_types.push((&dt.name, i)),
            None => ok = false,
        }
    }
    for (hi, h) in fv.holidays.iter().enumerate() {
        let path = at(&format!("holidays[{hi}]"));
        match parse_date(h) {
            Ok(d) => ok &= sink.ok(|| path, v.add_holiday(d)).is_some(),
            Err(m) => {
                sink.push(path, m);
                ok = false;
            }
        }
    }
    for (di, day) in fv.days.iter().enumerate() {
        ok &= build_day(
            day,
            &at(&format!("days[{di}]")),
            &kinds,
            &seasons,
            &day_types,
            &mut v,
            sink,
        );
    }
    if fv.days.is_empty() {
        sink.push(at("days"), "a version needs at least one day table");
        ok = false;
    }
    for (ti, t) in fv.tiers.iter().enumerate() {
        let path = || at(&format!("tiers[{ti}]"));
        let wh = t
            .from_kwh
            .0
            .checked_mul(Decimal::ONE_THOUSAND)
            .filter(|w| w.fract().is_zero() && !w.is_sign_negative());
        if let Some(from_wh) = wh.and_then(|w| u64::try_from(w).ok()) {
            ok &= sink
                .ok(
                    path,
                    v.add_tier(Tier {
                        from_wh,
                        energy_adjust: t.energy_adjust.0,
                    }),
                )
                .is_some();
        } else {
            sink.push(path(), "from_kwh must be a non-negative whole number of Wh");
            ok = false;
        }
    }
    let f = &fv.fees;
    let n = |x: Option<Num>| x.map_or(Decimal::ZERO, |n| n.0);
    v.fees = SessionFees {
        flat: n(f.flat),
        time_per_hour: n(f.time_per_hour),
        parking_per_hour: n(f.parking_per_hour),
        parking_grace_secs: f.parking_grace_minutes.unwrap_or(0).saturating_mul(60),
        min_price: f.min_price.map(|n| n.0),
        max_price: f.max_price.map(|n| n.0),
    };
    if let (Some(lo), Some(hi)) = (v.fees.min_price, v.fees.max_price)
        && lo > hi
    {
        sink.push(
            at("fees.min_price"),
            format!("min_price {lo} is above max_price {hi}"),
        );
        ok = false;
    }
    ok.then_some(v)
}

fn build_day(
    day: &FileDay,
    path: &str,
    kinds: &[(PeriodKind, u8)],
    seasons: &[(&str, u8)],
    day_types: &[(&str, u8)],
    v: &mut TariffVersion,
    sink: &mut Sink<'_>,
) -> bool {
    let mut ok = true;
    let mut lookup = |field: &str, name: &Option<String>, names: &[(&str, u8)]| match name {
        None => None,
        Some(n) => {
            let found = names.iter().find(|(m, _)| m == n).map(|(_, i)| *i);
            if found.is_none() {
                sink.push(format!("{path}.{field}"), format!("unknown {field} `{n}`"));
                ok = false;
            }
            found
        }
    };
    let season = lookup("season", &day.season, seasons);
    let day_type = lookup("day_type", &day.day_type, day_types);
    let mut slots: Vec<(u16, u16, u8, usize)> = Vec::new();
    for (si, text) in day.slots.iter().enumerate() {
        let at = format!("{path}.slots[{si}]");
        match parse_slot(text) {
            Err(m) => {
                sink.push(at, m);
                ok = false;
            }
            Ok((from, to, kind)) => {
                let index = PeriodKind::parse(kind)
                    .ok()
                    .and_then(|k| kinds.iter().find(|(p, _)| *p == k))
                    .map(|(_, i)| *i);
                if index.is_none() {
                    sink.push(
                        at,
                        format!("unknown period kind `{kind}` (not in this version's periods)"),
                    );
                    ok = false;
                }
                // Kept (with no period) so gaps and overlaps are still checked.
                slots.push((from, to, index.unwrap_or(u8::MAX), si));
            }
        }
    }
    slots.sort_by_key(|s| s.0);
    let mut covered = 0;
    for &(from, to, _, si) in &slots {
        let at = format!("{path}.slots[{si}]");
        if from > covered {
            sink.push(
                at,
                format!(
                    "gap in the day: nothing covers {}–{}",
                    hhmm(covered),
                    hhmm(from)
                ),
            );
            ok = false;
        } else if from < covered {
            sink.push(
                at,
                format!(
                    "overlaps the previous slot: {}–{} is covered twice",
                    hhmm(from),
                    hhmm(covered.min(to))
                ),
            );
            ok = false;
        }
        covered = covered.max(to);
    }
    if covered < 1440 && !slots.is_empty() {
        sink.push(
            format!("{path}.slots"),
            format!("gap in the day: nothing covers {}–24:00", hhmm(covered)),
        );
        ok = false;
    }
    if slots.is_empty() {
        sink.push(format!("{path}.slots"), "a day table needs slots");
        ok = false;
    }
    if !ok {
        return false;
    }
    let mut table = DayTable::new(season, day_type);
    let mut last = None;
    for (from, _, period, si) in slots {
        if last != Some(period) {
            // Minutes < 1440, so the hour fits in u8.
            let (h, m) = (
                u8::try_from(from / 60).unwrap_or(u8::MAX),
                u8::try_from(from % 60).unwrap_or(u8::MAX),
            );
            if sink
                .ok(
                    || format!("{path}.slots[{si}]"),
                    table.push_slot(h, m, period),
                )
                .is_none()
            {
                return false;
            }
            last = Some(period);
        }
    }
    sink.ok(|| path.into(), v.add_day_table(table)).is_some()
}

/// Every date of seven years (all weekday/month-day combinations) and every holiday must find
/// a day table in every version.
fn check_coverage(t: &Tariff, sink: &mut Sink<'_>) {
    for (vi, v) in t.versions().iter().enumerate() {
        let mut date = NaiveDate::from_ymd_opt(2024, 1, 1);
        let holidays = v.holidays().iter().copied();
        let days = core::iter::from_fn(|| {
            let d = date
                .filter(|d| *d < NaiveDate::from_ymd_opt(2031, 1, 1).unwrap_or(NaiveDate::MAX))?;
            date = d.succ_opt();
            Some(d)
        });
        if let Some(d) = days.chain(holidays).find(|d| v.table_for(*d).is_err()) {
            let season = v
                .season_of(d)
                .and_then(|s| v.seasons().get(usize::from(s)))
                .map_or("no season", |s| s.name.as_str());
            let day_type = v
                .day_type_of(d)
                .and_then(|s| v.day_types().get(usize::from(s)))
                .map_or("no day type", |s| s.name.as_str());
            sink.push(
                format!("versions[{vi}].days"),
                format!(
                    "no day table applies to {d} ({}, {season}, {day_type})",
                    d.format("%A")
                ),
            );
        }
    }
}
