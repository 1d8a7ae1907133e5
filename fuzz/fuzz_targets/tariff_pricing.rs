//! Live pricing of arbitrary reading sequences: typed errors, never a panic, and the batch
//! price of the accepted readings equals the live cost so far.
#![no_main]

use chrono::{DateTime, TimeDelta, Utc};
use libfuzzer_sys::fuzz_target;
use meterkit_tariff::{
    Attribution, ChargeState, LivePricer, PricingPolicy, Reading, price_session,
};

const TARIFF: &str = include_str!("../../tariff/examples-data/cn-tou.toml");

fuzz_target!(|data: &[u8]| {
    let Ok(tariff) = meterkit_tariff::file::load_toml(TARIFF) else {
        return;
    };
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut policy = PricingPolicy::default();
    if flags & 1 != 0 {
        policy = policy.with_attribution(Attribution::RateRegisters);
    }
    if flags & 2 != 0 {
        policy = policy.with_register_modulus_wh(1_000_000_000);
    }
    let start = DateTime::<Utc>::from_timestamp(1_751_500_000, 0).unwrap_or_default();
    let Ok(mut live) = LivePricer::new(&tariff, start, policy) else {
        return;
    };
    let mut accepted = Vec::new();
    let (mut at, mut wh) = (start, 999_990_000u64);
    for chunk in rest.chunks_exact(8) {
        let gap = i64::from(i16::from_le_bytes([chunk[0], chunk[1]]));
        let delta = i64::from(i32::from_le_bytes([chunk[2], chunk[3], chunk[4], chunk[5]]));
        at += TimeDelta::seconds(gap);
        wh = wh.wrapping_add_signed(delta) % 1_000_000_000;
        let mut reading = Reading::new(at, wh);
        if chunk[6] & 1 != 0 {
            for rate in 1..=4u8 {
                if let Ok(r) = reading.with_rate(rate, wh / u64::from(rate)) {
                    reading = r;
                }
            }
        }
        if chunk[7] & 3 == 1 {
            reading = reading.with_state(ChargeState::Idle);
        }
        if let Ok(so_far) = live.push(&reading) {
            accepted.push(reading);
            let batch = price_session(&tariff, policy, start, reading.at, &accepted);
            assert_eq!(batch.map(|b| b.totals), Ok(so_far));
        }
    }
});
