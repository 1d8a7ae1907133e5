//! The serial path end to end: the simulator on a pseudo-terminal behind a symlink
//! (what `meterkit sim --link PATH` does), and the client opening that path through
//! tokio-serial's termios code, like a real `/dev/ttyUSB0`.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // fixtures: a failed unwrap is a failed test

use dlt645::{Address, Di, value::Value};
use meterkit_transport::{
    Error,
    client::{Client, ClientConfig},
    link::{Link, Parity, SerialConfig},
    sim::{self, EnergyProfile, Pty, SimBus},
};

#[tokio::test]
async fn client_reads_the_simulator_through_a_pty_link() {
    let link = std::env::temp_dir().join(format!("meterkit-pty-{}", std::process::id()));
    let mut pty = Pty::create(&link).unwrap();
    assert_eq!(
        std::fs::read_link(&link).unwrap().to_str(),
        Some(pty.device())
    );
    let meter: Address = "000000000042".parse().unwrap();
    let profile = EnergyProfile {
        start_wh: 5_000,
        power_w: 0,
    };
    let mut bus = SimBus::new(vec![sim::demo_meter(meter, profile).unwrap()]);
    let server = tokio::spawn(async move {
        let result = sim::serve(pty.stream(), &mut bus).await;
        (pty, result)
    });

    let path = link.to_str().unwrap().to_owned();
    let mut config = SerialConfig::dlt645(&path);
    let mut client = Client::new(Link::new(config.clone()), ClientConfig::default());
    let found = match client.read_address(Address::WILDCARD).await {
        // Some kernels refuse parity on a pty; the setting is then checked by unit
        // tests, and the byte path here with parity off.
        Err(Error::Open { .. }) => {
            config.parity = Parity::None;
            client = Client::new(Link::new(config.clone()), ClientConfig::default());
            client.read_address(Address::WILDCARD).await
        }
        other => other,
    };
    assert_eq!(found.unwrap(), meter);
    let value = client
        .read_value(meter, Di::V2007(0x0001_0000))
        .await
        .unwrap();
    let Value::Number(kwh) = value else {
        panic!("not a number: {value:?}")
    };
    // 5000 Wh = 5.00 kWh.
    assert_eq!(kwh.to_string(), "5.00");
    // A second client after the first closed the port: the simulator is still there.
    drop(client);
    let mut again = Client::new(
        Link::new(SerialConfig::dlt645(&path)),
        ClientConfig::default(),
    );
    assert_eq!(again.read_address(Address::WILDCARD).await.unwrap(), meter);
    drop(again);
    server.abort();
    let _ = server.await;
    // The task owned the pty; aborting it dropped the pty and its link.
    assert!(std::fs::symlink_metadata(&link).is_err());
}
