//! Against a real meter: `METERKIT_DLT645_PORT=/dev/ttyUSB0 cargo test -p
//! meterkit-transport --features hardware-tests --test hardware`. One meter on the
//! line (read address uses the full wildcard); the bus search also runs with several.
#![cfg(feature = "hardware-tests")]
#![allow(clippy::unwrap_used)] // fixtures: a failed unwrap is a failed test

use dlt645::{Address, Di, value::Value};
use meterkit_transport::{
    client::{Client, ClientConfig},
    link::{Link, SerialConfig},
    scan,
};

fn serial() -> Option<SerialConfig> {
    let Ok(port) = std::env::var("METERKIT_DLT645_PORT") else {
        eprintln!("METERKIT_DLT645_PORT not set: nothing to test");
        return None;
    };
    let mut serial = SerialConfig::dlt645(port);
    if let Ok(baud) = std::env::var("METERKIT_DLT645_BAUD") {
        serial.baud = baud.parse().unwrap();
    }
    Some(serial)
}

#[tokio::test]
async fn real_meter_answers_address_and_energy() {
    let Some(serial) = serial() else { return };
    let mut client = Client::new(
        Link::new(serial.clone()),
        ClientConfig::with_line(serial.timing()),
    );
    let address = client.read_address(Address::WILDCARD).await.unwrap();
    let energy = client
        .read_value(address, Di::V2007(0x0001_0000))
        .await
        .unwrap();
    assert!(matches!(energy, Value::Number(_)), "{energy:?}");
    eprintln!("meter {address}: {energy} kWh");
}

#[tokio::test]
async fn real_bus_search_finds_at_least_one_meter() {
    let Some(serial) = serial() else { return };
    let mut client = Client::new(
        Link::new(serial.clone()),
        ClientConfig::with_line(serial.timing()),
    );
    let report = scan::search(&mut client).await.unwrap();
    eprintln!(
        "found {:?} in {} requests (unresolved {:?})",
        report.found, report.requests, report.unresolved
    );
    assert!(!report.found.is_empty());
}
