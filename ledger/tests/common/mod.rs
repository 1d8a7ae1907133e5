//! A deterministic operation stream shared by the journal and crash tests.

#![allow(dead_code)]
// Test data is small and controlled: these casts cannot truncate or wrap.
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]

use meterkit_ledger::{Id, Op, Timestamp};

/// xorshift64*: deterministic, dependency-free.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// `len` operations over four wallets: top-ups, holds, cumulative captures
/// (some repeated or out of order), settles, voids, expiries and refunds,
/// each with the `now` it runs at. Ids are the stream position + 1.
pub(crate) fn stream(seed: u64, len: usize) -> Vec<(Op, Timestamp)> {
    let mut rng = Rng(seed | 1);
    let mut ops = Vec::with_capacity(len);
    let mut holds: Vec<(Id, u64)> = Vec::new();
    let mut captures: Vec<Id> = Vec::new();
    let mut now = 1_000i64;
    for index in 0..len {
        let id = Id::from_raw(index as u128 + 1);
        let account = Id::from_raw(1_000_000 + u128::from(rng.below(4)));
        now += rng.below(50) as i64;
        let op = if index < 4 {
            Op::Open {
                id,
                account: Id::from_raw(1_000_000 + index as u128),
                floor: 0,
                credit_line: 500,
                low_credit: 1_000,
            }
        } else {
            match rng.below(20) {
                0..=2 => Op::TopUp {
                    id,
                    account,
                    amount: 1 + rng.below(20_000),
                },
                3..=4 => {
                    holds.push((id, 0));
                    Op::Hold {
                        id,
                        account,
                        amount: 1 + rng.below(10_000),
                        expires: Timestamp(now + 200 + rng.below(3_000) as i64),
                    }
                }
                5..=14 if !holds.is_empty() => {
                    let slot = rng.below(holds.len() as u64) as usize;
                    let (hold, cumulative) = holds[slot];
                    // Mostly forward, sometimes a stale (reordered) reading.
                    let next = if rng.below(6) == 0 {
                        cumulative / 2
                    } else {
                        cumulative + rng.below(800)
                    };
                    holds[slot].1 = next.max(cumulative);
                    captures.push(id);
                    Op::Capture {
                        id,
                        hold,
                        cumulative: next,
                    }
                }
                15..=16 if !holds.is_empty() => {
                    let slot = rng.below(holds.len() as u64) as usize;
                    let (hold, cumulative) = holds.swap_remove(slot);
                    captures.push(id);
                    Op::Settle {
                        id,
                        hold,
                        cumulative: cumulative + rng.below(2_000),
                    }
                }
                17 if !holds.is_empty() => {
                    let slot = rng.below(holds.len() as u64) as usize;
                    Op::Void {
                        id,
                        hold: holds.swap_remove(slot).0,
                    }
                }
                18 if !captures.is_empty() => {
                    let of = captures[rng.below(captures.len() as u64) as usize];
                    Op::Refund {
                        id,
                        of,
                        amount: 1 + rng.below(500),
                    }
                }
                _ => Op::Expire { id },
            }
        };
        ops.push((op, Timestamp(now)));
    }
    ops
}
