//! Shared test fixtures: the 尖峰平谷 example tariff, a virtual clock, wallets.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use chrono::{DateTime, TimeDelta, Utc};
use meterkit_ledger::{Id, Op, Scale, Timestamp};
use meterkit_session::LedgerPort;
use meterkit_tariff::{Tariff, file};

/// The example tariff: Asia/Shanghai, 13 % tax included, valley 00–08, flat 08–10,
/// peak 10–15, flat 15–18, peak 18–23, valley 23–24 outside summer and holidays.
pub fn cn_tou() -> Tariff {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tariff/examples-data/cn-tou.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    file::load(&text, file::Format::Toml).unwrap()
}

/// A virtual clock: instants as local Asia/Shanghai wall time on 2025-03-03 (a Monday, not
/// a holiday, not summer) plus minutes.
pub fn local(hh_mm: &str) -> DateTime<Utc> {
    format!("2025-03-03T{hh_mm}:00+08:00").parse().unwrap()
}

pub fn minutes(from: DateTime<Utc>, n: i64) -> DateTime<Utc> {
    from + TimeDelta::minutes(n)
}

pub fn ts(at: DateTime<Utc>) -> Timestamp {
    Timestamp(at.timestamp_millis())
}

/// Opens `name` with a credit line and tops it up, both at `at`, through any ledger port.
pub fn wallet<P: LedgerPort>(
    ledger: &mut P,
    name: &str,
    top_up: u64,
    credit_line: u64,
    at: DateTime<Utc>,
) -> Id {
    let account = Id::name(name).unwrap();
    let open = Op::Open {
        id: Id::name(&format!("open-{name}")).unwrap(),
        account,
        floor: 0,
        credit_line,
        low_credit: 0,
    };
    assert!(ledger.apply(&open, ts(at)).ok().unwrap().result.is_ok());
    let pay = Op::TopUp {
        id: Id::name(&format!("pay-{name}")).unwrap(),
        account,
        amount: top_up,
    };
    assert!(ledger.apply(&pay, ts(at)).ok().unwrap().result.is_ok());
    account
}

pub fn cents() -> Scale {
    Scale::default()
}
