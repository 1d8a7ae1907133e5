//! The bus search against several simulated meters on one pipe, with tokio's paused
//! clock (every silent pattern waits out its whole deadline in virtual time).
#![allow(clippy::unwrap_used)] // fixtures: a failed unwrap is a failed test

use dlt645::Address;
use meterkit_transport::{
    client::{Client, ClientConfig},
    link::{Link, Once},
    scan,
    sim::{self, EnergyProfile, Faults, SimBus, SimMeter},
};

fn address(text: &str) -> Address {
    text.parse().unwrap()
}

fn meters(addresses: &[Address]) -> Vec<SimMeter> {
    addresses
        .iter()
        .map(|a| {
            sim::demo_meter(
                *a,
                EnergyProfile {
                    start_wh: 0,
                    power_w: 0,
                },
            )
            .unwrap()
        })
        .collect()
}

async fn search(bus: SimBus) -> scan::SearchReport {
    let (ours, mut theirs) = tokio::io::duplex(1024);
    tokio::spawn(async move {
        let mut bus = bus;
        sim::serve(&mut theirs, &mut bus).await
    });
    let mut client = Client::new(Link::new(Once::new(ours, "pipe")), ClientConfig::default());
    scan::search(&mut client).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn finds_every_meter_on_a_shared_bus() {
    // Low bytes 01, 02, 12 (and 34 for the last, which shares 12 with the third):
    // AA…AA collides (1 request), AA…AAxx (100) finds 01 and 02 and collides on 12,
    // AAAAAAAAxx12 (100) separates 90 from 34.
    let addresses = [
        address("000000000001"),
        address("000000000002"),
        address("000000003412"),
        address("123456789012"),
    ];
    let report = search(SimBus::new(meters(&addresses))).await;
    assert_eq!(report.found, addresses);
    assert!(report.unresolved.is_empty());
    assert_eq!(report.requests, 1 + 100 + 100);
}

#[tokio::test(start_paused = true)]
async fn a_lone_meter_takes_one_request() {
    let report = search(SimBus::new(meters(&[address("123456789012")]))).await;
    assert_eq!(report.found, [address("123456789012")]);
    assert_eq!(report.requests, 1);
    // An empty line: one silent request, nothing found.
    let report = search(SimBus::new(Vec::new())).await;
    assert!(report.found.is_empty());
    assert_eq!(report.requests, 1);
}

#[tokio::test(start_paused = true)]
async fn echo_noise_foreign_replies_and_split_writes_do_not_confuse_the_search() {
    // A foreign reply under a wildcard pattern is collision debris; the clean reply
    // after it still counts.
    let addresses = [address("000000000011"), address("000000000022")];
    let mut bus = SimBus::new(meters(&addresses));
    let mut faults = Faults::default();
    faults.echo = true;
    faults.garbage_before_reply = true;
    faults.foreign_reply_first = true;
    faults.split_writes = true;
    bus.faults = faults;
    let report = search(bus).await;
    assert_eq!(report.found, addresses);
    assert_eq!(report.requests, 101);
}

#[tokio::test(start_paused = true)]
async fn two_meters_with_one_address_look_like_one() {
    // Their replies are identical bytes, and the OR of equal frames is that frame:
    // the wire cannot tell them apart, so the search reports the address once.
    let twin = address("000000000007");
    let report = search(SimBus::new(meters(&[twin, twin, address("000000000008")]))).await;
    assert_eq!(report.found, [twin, address("000000000008")]);
    assert!(report.unresolved.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_line_that_garbles_every_reply_ends_unresolved() {
    // The checksum of every reply is broken: each pattern looks like a collision,
    // down to the fully fixed address 000000000000, which is given up.
    let mut bus = SimBus::new(meters(&[address("000000000000")]));
    let mut faults = Faults::default();
    faults.corrupt_replies = u32::MAX;
    bus.faults = faults;
    let report = search(bus).await;
    assert!(report.found.is_empty());
    assert_eq!(report.unresolved, [address("000000000000")]);
    // Six splits down the 00 branch, 100 patterns each, plus the first request.
    assert_eq!(report.requests, 1 + 6 * 100);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Random meters on the simulated bus, their replies ORed on collision: the
    /// search finds exactly them (no phantom made of colliding replies).
    #[test]
    fn the_search_finds_random_meters_on_the_simulated_bus(
        raw in proptest::collection::btree_set(0u64..1_000_000_000_000, 2..6),
    ) {
        let addresses: Vec<Address> = raw.iter().map(|n| address(&format!("{n:012}"))).collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let report = runtime.block_on(search(SimBus::new(meters(&addresses))));
        // `raw` is sorted, and so are the 12-digit addresses made from it.
        proptest::prop_assert_eq!(report.found, addresses);
        proptest::prop_assert!(report.unresolved.is_empty());
    }
}
