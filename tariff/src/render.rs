//! Human and machine renderings of bills, and a plain-words explanation of a tariff.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write;
use core::str::FromStr;

use chrono::{DateTime, FixedOffset, Offset, TimeDelta, Utc};
use rust_decimal::Decimal;

use crate::engine::{Bill, Line, RoundingMode, RoundingPoint};
use crate::model::{Tariff, Zone};

/// An output format for [`Bill::render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BillFormat {
    /// Aligned text table for a terminal.
    Table,
    /// One JSON object; every amount a decimal string.
    Json,
    /// CSV: one row per line, then a `total` row.
    Csv,
}

impl FromStr for BillFormat {
    type Err = crate::Error;

    /// `table`, `json` or `csv`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(Self::Table),
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            _ => Err(crate::Error::InvalidValue {
                what: "bill format (table, json, csv)",
                value: 0,
            }),
        }
    }
}

fn local(zone: Zone, at: DateTime<Utc>) -> DateTime<FixedOffset> {
    let offset = zone
        .offset_ms(at.timestamp_millis())
        .ok()
        .and_then(|ms| i32::try_from(ms / 1000).ok())
        .and_then(FixedOffset::east_opt)
        .unwrap_or_else(|| Utc.fix());
    at.with_timezone(&offset)
}

/// Energy in kWh with exactly three decimals (whole Wh).
fn kwh(wh: u64) -> Decimal {
    Decimal::from_i128_with_scale(i128::from(wh), 3)
}

/// Seconds, exact to the millisecond, without trailing zeros.
fn seconds(t: TimeDelta) -> Decimal {
    Decimal::new(t.num_milliseconds(), 3).normalize()
}

fn duration(t: TimeDelta) -> String {
    let s = t.num_seconds();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn line_total(l: &Line) -> Decimal {
    l.electricity + l.service + l.time_fee + l.parking_fee
}

/// An amount without trailing zeros beyond the currency's scale (exact amounts keep every
/// significant digit; `0` shows as `0.00`).
fn money(x: Decimal, scale: u32) -> Decimal {
    let mut n = x.normalize();
    if n.scale() < scale {
        n.rescale(scale);
    }
    n
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn rounding_name(b: &Bill) -> (&'static str, &'static str) {
    let mode = match b.rounding.mode {
        RoundingMode::HalfUp => "half_up",
        RoundingMode::HalfEven => "half_even",
        RoundingMode::Down => "down",
    };
    let point = match b.rounding.point {
        RoundingPoint::PerLine => "per_line",
        RoundingPoint::PerFee => "per_fee",
        RoundingPoint::PerTotal => "per_total",
    };
    (mode, point)
}

impl Bill {
    /// Renders the bill; times are shown in the tariff's local time.
    pub fn render(&self, format: BillFormat) -> String {
        match format {
            BillFormat::Table => self.table(),
            BillFormat::Json => self.json(),
            BillFormat::Csv => self.csv(),
        }
    }

    fn table(&self) -> String {
        let m = |x| money(x, self.currency.scale());
        let c = self.currency.code();
        let mut rows: Vec<[String; 10]> = Vec::new();
        rows.push(
            [
                "period",
                "from",
                "to",
                "kWh",
                "price/kWh",
                "electricity",
                "service",
                "time",
                "parking",
                "amount",
            ]
            .map(String::from),
        );
        for l in self.lines() {
            rows.push([
                l.period.to_string(),
                local(self.zone, l.start).format("%m-%d %H:%M").to_string(),
                local(self.zone, l.end).format("%m-%d %H:%M").to_string(),
                kwh(l.energy_wh).to_string(),
                format!("{}+{}", l.energy_price, l.service_price),
                m(l.electricity).to_string(),
                m(l.service).to_string(),
                m(l.time_fee).to_string(),
                m(l.parking_fee).to_string(),
                m(line_total(l)).to_string(),
            ]);
        }
        let mut widths = [0usize; 10];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Session {} – {} ({})",
            local(self.zone, self.start).format("%Y-%m-%d %H:%M"),
            local(self.zone, self.stop).format("%Y-%m-%d %H:%M %:z"),
            self.zone
        );
        for row in &rows {
            for (i, (w, cell)) in widths.iter().zip(row).enumerate() {
                let pad = w.saturating_sub(cell.chars().count());
                if i < 3 {
                    let _ = write!(out, "{cell}{:pad$}  ", "");
                } else {
                    let _ = write!(out, "{:pad$}{cell}  ", "");
                }
            }
            out.truncate(out.trim_end().len());
            out.push('\n');
        }
        // A per-period summary only adds information when a period spans several lines.
        if let Ok(periods) = self.by_period()
            && periods.len() < self.lines().len()
        {
            for p in &periods {
                let _ = writeln!(
                    out,
                    "{:>16}  {} kWh, electricity {} + service {} {c}",
                    p.period.as_str(),
                    kwh(p.energy_wh),
                    m(p.electricity),
                    m(p.service)
                );
            }
        }
        let t = &self.totals;
        let (mode, point) = rounding_name(self);
        let mut total = |label: &str, value: String| {
            let _ = writeln!(out, "{label:>16}  {value}");
        };
        total("energy", format!("{} kWh", kwh(t.energy_wh)));
        total("charging time", duration(t.charging_time));
        total("parking time", duration(t.parking_time));
        total("electricity", format!("{} {c}", m(t.electricity)));
        total("service", format!("{} {c}", m(t.service)));
        total("time fee", format!("{} {c}", m(t.time_fee)));
        total("parking fee", format!("{} {c}", m(t.parking_fee)));
        total("flat fee", format!("{} {c}", m(t.flat_fee)));
        if !t.cap_adjustment.is_zero() {
            total("min/max adjust", format!("{} {c}", m(t.cap_adjustment)));
        }
        total("net", format!("{} {c}", m(t.net)));
        total("tax", format!("{} {c}", m(t.tax)));
        total("TOTAL", format!("{} {c}", m(t.gross)));
        total("rounding", format!("{mode}, {point}"));
        out
    }

    fn json(&self) -> String {
        let m = |x| money(x, self.currency.scale());
        let z = self.zone;
        let mut out = String::new();
        let (mode, point) = rounding_name(self);
        let _ = write!(
            out,
            "{{\"currency\":{},\"time_zone\":{},\"start\":\"{}\",\"stop\":\"{}\",\"rounding\":{{\"mode\":\"{mode}\",\"point\":\"{point}\"}},\"lines\":[",
            json_str(self.currency.code()),
            json_str(&z.to_string()),
            local(z, self.start).to_rfc3339(),
            local(z, self.stop).to_rfc3339()
        );
        for (i, l) in self.lines().iter().enumerate() {
            let _ = write!(
                out,
                "{}{{\"period\":{},\"version\":{},\"tier\":{},\"start\":\"{}\",\"end\":\"{}\",\"energy_kwh\":\"{}\",\"energy_price\":\"{}\",\"service_price\":\"{}\",\"charging_seconds\":\"{}\",\"parking_seconds\":\"{}\",\"electricity\":\"{}\",\"service\":\"{}\",\"time_fee\":\"{}\",\"parking_fee\":\"{}\",\"amount\":\"{}\"}}",
                if i == 0 { "" } else { "," },
                json_str(l.period.as_str()),
                l.version,
                l.tier,
                local(z, l.start).to_rfc3339(),
                local(z, l.end).to_rfc3339(),
                kwh(l.energy_wh),
                l.energy_price,
                l.service_price,
                seconds(l.charging_time),
                seconds(l.parking_time),
                m(l.electricity),
                m(l.service),
                m(l.time_fee),
                m(l.parking_fee),
                m(line_total(l))
            );
        }
        let t = &self.totals;
        let _ = write!(
            out,
            "],\"totals\":{{\"energy_kwh\":\"{}\",\"charging_seconds\":\"{}\",\"parking_seconds\":\"{}\",\"electricity\":\"{}\",\"service\":\"{}\",\"time_fee\":\"{}\",\"parking_fee\":\"{}\",\"flat_fee\":\"{}\",\"cap_adjustment\":\"{}\",\"subtotal\":\"{}\",\"net\":\"{}\",\"tax\":\"{}\",\"total\":\"{}\"}}}}",
            kwh(t.energy_wh),
            seconds(t.charging_time),
            seconds(t.parking_time),
            m(t.electricity),
            m(t.service),
            m(t.time_fee),
            m(t.parking_fee),
            m(t.flat_fee),
            m(t.cap_adjustment),
            m(t.subtotal),
            m(t.net),
            m(t.tax),
            m(t.gross)
        );
        out
    }

    fn csv(&self) -> String {
        let m = |x| money(x, self.currency.scale());
        let z = self.zone;
        let mut out = String::from(
            "period,start,end,energy_kwh,energy_price,service_price,charging_seconds,parking_seconds,electricity,service,time_fee,parking_fee,amount\n",
        );
        for l in self.lines() {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                l.period.as_str().replace(',', " "),
                local(z, l.start).to_rfc3339(),
                local(z, l.end).to_rfc3339(),
                kwh(l.energy_wh),
                l.energy_price,
                l.service_price,
                seconds(l.charging_time),
                seconds(l.parking_time),
                m(l.electricity),
                m(l.service),
                m(l.time_fee),
                m(l.parking_fee),
                m(line_total(l))
            );
        }
        let t = &self.totals;
        let _ = writeln!(
            out,
            "total,{},{},{},,,{},{},{},{},{},{},{}",
            local(z, self.start).to_rfc3339(),
            local(z, self.stop).to_rfc3339(),
            kwh(t.energy_wh),
            seconds(t.charging_time),
            seconds(t.parking_time),
            m(t.electricity),
            m(t.service),
            m(t.time_fee),
            m(t.parking_fee),
            m(t.gross)
        );
        out
    }
}

fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// Explains a tariff in plain words: which period applies when, and what each costs.
pub fn explain(tariff: &Tariff) -> String {
    let mut out = String::new();
    let c = tariff.currency();
    let tax = tariff.tax();
    let tax_words = if tax.rate_percent.is_zero() {
        String::from("no tax")
    } else if tax.prices_include_tax {
        format!("prices include {} % tax", tax.rate_percent)
    } else {
        format!("{} % tax is added to the prices", tax.rate_percent)
    };
    let _ = writeln!(
        out,
        "Tariff \"{}\": amounts in {} ({} decimals); times are local time in {}; {tax_words}.",
        tariff.name(),
        c.code(),
        c.scale(),
        tariff.zone()
    );
    for (vi, v) in tariff.versions().iter().enumerate() {
        let valid = match (v.valid_from, v.valid_until) {
            (None, None) => String::from("always valid"),
            (Some(f), None) => format!("valid from {f} on"),
            (None, Some(u)) => format!("valid until {u} (exclusive)"),
            (Some(f), Some(u)) => format!("valid from {f} until {u} (exclusive)"),
        };
        let _ = writeln!(out, "\nVersion {}, {valid}:", vi + 1);
        let _ = writeln!(out, "  Prices per kWh:");
        for p in v.periods() {
            let rate = p
                .meter_rate
                .map(|r| format!(" (meter rate {r})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {:<12} electricity {} + service {} = {} {}{rate}",
                p.kind.as_str(),
                p.energy_price,
                p.service_price,
                p.energy_price + p.service_price,
                c.code()
            );
        }
        for s in v.seasons() {
            let _ = writeln!(
                out,
                "  Season {}: {:02}-{:02} to {:02}-{:02} every year.",
                s.name,
                s.from.month(),
                s.from.day(),
                s.to.month(),
                s.to.day()
            );
        }
        for t in v.day_types() {
            let days: Vec<&str> = [
                chrono::Weekday::Mon,
                chrono::Weekday::Tue,
                chrono::Weekday::Wed,
                chrono::Weekday::Thu,
                chrono::Weekday::Fri,
                chrono::Weekday::Sat,
                chrono::Weekday::Sun,
            ]
            .into_iter()
            .filter(|d| t.weekdays.contains(*d))
            .map(|d| match d {
                chrono::Weekday::Mon => "Mon",
                chrono::Weekday::Tue => "Tue",
                chrono::Weekday::Wed => "Wed",
                chrono::Weekday::Thu => "Thu",
                chrono::Weekday::Fri => "Fri",
                chrono::Weekday::Sat => "Sat",
                chrono::Weekday::Sun => "Sun",
            })
            .collect();
            let words = match (days.is_empty(), t.holidays) {
                (true, true) => String::from("holidays"),
                (true, false) => String::from("no day"),
                (false, true) => format!("{} and holidays", days.join(" ")),
                (false, false) => days.join(" "),
            };
            let _ = writeln!(out, "  Day type {}: {words}.", t.name);
        }
        if !v.holidays().is_empty() {
            let list: Vec<String> = v.holidays().iter().map(ToString::to_string).collect();
            let _ = writeln!(out, "  Holidays: {}.", list.join(", "));
        }
        let _ = writeln!(
            out,
            "  Daily periods (the first table that matches the day applies):"
        );
        for t in v.day_tables() {
            let season = t
                .season
                .and_then(|s| v.seasons().get(usize::from(s)))
                .map_or(String::from("any season"), |s| format!("season {}", s.name));
            let day_type = t
                .day_type
                .and_then(|d| v.day_types().get(usize::from(d)))
                .map_or(String::from("any day"), |d| format!("day type {}", d.name));
            let _ = writeln!(out, "    {season}, {day_type}:");
            let slots = t.slots();
            for (i, s) in slots.iter().enumerate() {
                let end = slots.get(i + 1).map_or(1440, |n| n.start_minute);
                let kind = v
                    .periods()
                    .get(usize::from(s.period))
                    .map_or("?", |p| p.kind.as_str());
                let _ = writeln!(out, "      {}–{}  {kind}", hhmm(s.start_minute), hhmm(end));
            }
        }
        for t in v.tiers() {
            let _ = writeln!(
                out,
                "  From {} kWh of a session on, the electricity price changes by {} per kWh.",
                kwh(t.from_wh).normalize(),
                t.energy_adjust
            );
        }
        let f = &v.fees;
        let mut fees = Vec::new();
        if !f.flat.is_zero() {
            fees.push(format!("a flat fee of {} per session", f.flat));
        }
        if !f.time_per_hour.is_zero() {
            fees.push(format!("{} per hour while charging", f.time_per_hour));
        }
        if !f.parking_per_hour.is_zero() {
            fees.push(format!(
                "{} per hour idle after {} free minutes",
                f.parking_per_hour,
                f.parking_grace_secs / 60
            ));
        }
        if let Some(m) = f.min_price {
            fees.push(format!("at least {m} per session"));
        }
        if let Some(m) = f.max_price {
            fees.push(format!("at most {m} per session"));
        }
        if !fees.is_empty() {
            let _ = writeln!(out, "  Per session: {}.", fees.join("; "));
        }
    }
    if !matches!(tariff.zone(), Zone::Fixed(_)) {
        out.push_str(
            "\nAt a daylight-saving change the period follows the wall clock: skipped times never apply, repeated times apply twice.\n",
        );
    }
    out
}
