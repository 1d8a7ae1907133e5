//! The demo's report page: one self-contained HTML file with SVG charts, openable in
//! any browser with nothing else beside it.
//!
//! Chart geometry is computed in `f64`; every amount printed on the page comes from the
//! exact decimals of the bill and the ledger.

use std::fmt::Write as _;

use meterkit_ledger::Scale;
use meterkit_tariff::{Bill, BillFormat, Tariff};
use rust_decimal::prelude::ToPrimitive;

use crate::demo::Row;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 28.0;
/// Room above the plot for the axis unit.
const TOP: f64 = 22.0;

fn colour(period: &str) -> &'static str {
    match period {
        "sharp" => "#d62728",
        "peak" => "#ff7f0e",
        "flat" => "#2ca02c",
        "valley" => "#1f77b4",
        "deep_valley" | "deep valley" => "#9467bd",
        _ => "#7f7f7f",
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Plot coordinates only: precision loss is irrelevant at screen resolution.
#[allow(clippy::cast_precision_loss)]
fn f(value: u64) -> f64 {
    value as f64
}

#[allow(clippy::cast_precision_loss)]
fn fi(value: i128) -> f64 {
    value as f64
}

/// An SVG frame with a y axis from 0 to `max` labelled in `unit`.
fn frame(title: &str, id: &str, max: f64, unit: &str, body: &str) -> String {
    let mut svg = format!(
        r#"<figure id="{id}"><figcaption>{}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{}">"#,
        escape(title),
        escape(title)
    );
    let plot_h = HEIGHT - BOTTOM - TOP;
    for i in 0..=4 {
        let y = TOP + plot_h * f64::from(4 - i) / 4.0;
        let v = max * f64::from(i) / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{WIDTH}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{v:.1}</text>"##,
            LEFT - 4.0,
            y + 4.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="4" y="12" font-size="11">{}</text>{body}</svg></figure>"#,
        escape(unit)
    );
    svg
}

pub(crate) fn page(tariff: &Tariff, bill: &Bill, rows: &[Row], scale: Scale) -> String {
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let n = rows.len().max(2) - 1;
    let x = |i: usize| LEFT + plot_w * f(i as u64) / f(n as u64);

    // Power per reading interval, coloured by the period it was priced in, and the
    // energy delivered so far as a line on its own scale.
    let powers: Vec<f64> = rows
        .windows(2)
        .map(|w| {
            let wh = f(w[1].energy_wh.saturating_sub(w[0].energy_wh));
            let hours = fi(i128::from((w[1].at - w[0].at).num_milliseconds().max(1))) / 3_600_000.0;
            wh / hours / 1000.0
        })
        .collect();
    let max_kw = powers.iter().copied().fold(1.0_f64, f64::max) * 1.15;
    let first_wh = rows.first().map_or(0, |r| r.energy_wh);
    let delivered = |r: &Row| f(r.energy_wh.saturating_sub(first_wh)) / 1000.0;
    let max_kwh = rows.last().map_or(1.0, delivered).max(0.001) * 1.15;
    let mut power = String::new();
    for (i, p) in powers.iter().enumerate() {
        let h = plot_h * p / max_kw;
        let _ = write!(
            power,
            r#"<rect class="power" data-period="{}" x="{:.2}" y="{:.2}" width="{:.2}" height="{h:.2}" fill="{}"/>"#,
            escape(&rows[i + 1].period),
            x(i),
            TOP + plot_h - h,
            (x(i + 1) - x(i)).max(0.5),
            colour(&rows[i + 1].period)
        );
    }
    // SVG polyline points for one value per reading, scaled to `max`.
    let points = |value: &dyn Fn(&Row) -> f64, max: f64| -> String {
        let list: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{:.2},{:.2}", x(i), TOP + plot_h - plot_h * value(r) / max))
            .collect();
        list.join(" ")
    };
    let energy_line = points(&delivered, max_kwh);
    let _ = write!(
        power,
        r##"<polyline id="energy" fill="none" stroke="#222" stroke-width="1.5" points="{}"/><text x="{:.0}" y="24" font-size="11" text-anchor="end">energy, 0–{max_kwh:.1} kWh (line)</text>"##,
        energy_line,
        WIDTH - 10.0
    );

    // Cost per period, from the bill's exact per-period totals.
    let periods = bill.by_period().unwrap_or_default();
    let costs: Vec<(String, f64, String)> = periods
        .iter()
        .map(|p| {
            let total = p.electricity + p.service + p.time_fee + p.parking_fee;
            (
                p.period.to_string(),
                total.to_f64().unwrap_or(0.0),
                total.round_dp(2).to_string(),
            )
        })
        .collect();
    let max_cost = costs.iter().map(|c| c.1).fold(0.01_f64, f64::max) * 1.15;
    let mut cost = String::new();
    let slot = plot_w / f(costs.len().max(1) as u64);
    for (i, (period, value, label)) in costs.iter().enumerate() {
        let h = plot_h * value / max_cost;
        let bx = LEFT + slot * f(i as u64) + slot * 0.2;
        let _ = write!(
            cost,
            r#"<rect class="cost" data-period="{p}" x="{bx:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{p}: {label}</text>"#,
            TOP + plot_h - h,
            slot * 0.6,
            colour(period),
            bx + slot * 0.3,
            HEIGHT - 10.0,
            p = escape(period),
        );
    }

    // Balance over time, from the ledger after each capture.
    let max_balance = rows
        .iter()
        .map(|r| fi(r.balance_minor))
        .fold(1.0_f64, f64::max)
        * 1.15;
    let balance_line = points(&|r: &Row| fi(r.balance_minor).max(0.0), max_balance);
    let balance = format!(
        r##"<polyline id="balance-line" fill="none" stroke="#1f77b4" stroke-width="2" points="{balance_line}"/>"##
    );

    let currency = tariff.currency().code().to_owned();
    let t = &bill.totals;
    let first = rows.first().map(|r| r.at.to_rfc3339()).unwrap_or_default();
    let last = rows.last().map(|r| r.at.to_rfc3339()).unwrap_or_default();
    let legend = ["sharp", "peak", "flat", "valley"]
        .iter()
        .fold(String::new(), |mut out, p| {
            let _ = write!(
                out,
                r#"<span class="key" style="background:{}"></span>{p} "#,
                colour(p)
            );
            out
        });
    let balance_unit = format!("balance, {currency}");
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>meterkit charging report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:820px}}figure{{margin:1.5em 0}}figcaption{{font-weight:bold;margin-bottom:.3em}}
table{{border-collapse:collapse}}td,th{{padding:.2em .8em;text-align:right;border-bottom:1px solid #eee}}pre{{background:#f7f7f7;padding:1em;overflow:auto}}
.key{{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;vertical-align:middle}}</style></head>
<body><h1>Charging session report</h1>
<p>Tariff <b>{tariff_name}</b> · {first} → {last} · legend: {legend}</p>
<table id="totals"><tr><th>energy</th><td>{energy}.{energy_frac:03} kWh</td></tr>
<tr><th>electricity</th><td>{electricity} {currency}</td></tr><tr><th>service</th><td>{service} {currency}</td></tr>
<tr><th>tax</th><td>{tax} {currency}</td></tr><tr><th>total</th><td id="total">{gross} {currency}</td></tr></table>
{power_chart}{cost_chart}{balance_chart}
<h2>Itemised bill</h2><pre id="bill">{bill_text}</pre>
<p>Generated by meterkit {version}. Amounts are exact; charts are drawn from them.</p></body></html>
"#,
        tariff_name = escape(tariff.name()),
        energy = t.energy_wh / 1000,
        energy_frac = t.energy_wh % 1000,
        electricity = t.electricity.round_dp(2),
        service = t.service.round_dp(2),
        tax = t.tax.round_dp(2),
        gross = t.gross,
        power_chart = frame(
            "Power and energy over time, coloured by tariff period",
            "power",
            max_kw,
            "kW",
            &power
        ),
        cost_chart = frame("Cost per tariff period", "cost", max_cost, &currency, &cost),
        balance_chart = frame(
            "Prepaid balance over time",
            "balance",
            max_balance / f(10_u64.pow(u32::from(scale.places()))),
            &balance_unit,
            &balance
        ),
        bill_text = escape(&bill.render(BillFormat::Table)),
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// The fee report page: a table per group with energy and amounts per period, and a
/// stacked bar per group coloured by period.
pub(crate) fn fee_report(by: &str, groups: &[crate::report_cmd::Group]) -> String {
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let max = groups
        .iter()
        .map(|g| g.total.to_f64().unwrap_or(0.0))
        .fold(0.01_f64, f64::max)
        * 1.15;
    let slot = plot_w / f(groups.len().max(1) as u64);
    let mut bars = String::new();
    for (i, g) in groups.iter().enumerate() {
        let bx = LEFT + slot * f(i as u64) + slot * 0.2;
        let mut y = TOP + plot_h;
        for (period, _, amount) in &g.periods {
            let h = plot_h * amount.to_f64().unwrap_or(0.0) / max;
            y -= h;
            let _ = write!(
                bars,
                r#"<rect class="fee" data-period="{p}" x="{bx:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" fill="{}"/>"#,
                slot * 0.6,
                colour(period),
                p = escape(period),
            );
        }
        let _ = write!(
            bars,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"#,
            bx + slot * 0.3,
            HEIGHT - 10.0,
            escape(&g.key)
        );
    }
    let currency = groups.first().map_or("", |g| g.currency.as_str());
    let mut rows = String::new();
    let mut grand = rust_decimal::Decimal::ZERO;
    for g in groups {
        grand += g.total;
        let per = g.periods.iter().fold(String::new(), |mut out, (p, wh, a)| {
            let _ = write!(
                out,
                "{} {}.{:03} kWh / {a}; ",
                escape(p),
                wh / 1000,
                wh % 1000
            );
            out
        });
        let _ = write!(
            rows,
            "<tr><th>{}</th><td>{}</td><td>{}.{:03}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"total\">{}</td><td style=\"text-align:left\">{per}</td></tr>",
            escape(&g.key),
            g.sessions,
            g.energy_wh / 1000,
            g.energy_wh % 1000,
            g.electricity,
            g.service,
            g.tax,
            g.total,
        );
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>meterkit fee report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{padding:.2em .8em;text-align:right;border-bottom:1px solid #eee}}</style></head>
<body><h1>Fee report by {by}</h1>
<table id="report"><tr><th>{by}</th><th>sessions</th><th>kWh</th><th>electricity</th><th>service</th><th>tax</th><th>total ({currency})</th><th>per period</th></tr>
{rows}<tr><th>all</th><td></td><td></td><td></td><td></td><td></td><td id="grand-total">{grand}</td><td></td></tr></table>
{chart}
<p>Generated by meterkit {version}. Amounts are exact sums of the sessions' bills.</p></body></html>
"#,
        by = escape(by),
        chart = frame(
            &format!("Amount per {by}, by tariff period"),
            "fees",
            max,
            currency,
            &bars
        ),
        version = env!("CARGO_PKG_VERSION"),
    )
}
