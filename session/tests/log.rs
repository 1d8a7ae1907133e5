//! The session log: a crash at every point of a session (log written, ledger not yet told;
//! ledger told), with and without a torn last line, recovers to exactly the ledger state and
//! the log of an uninterrupted run. Virtual clock throughout.
#![allow(clippy::unwrap_used, clippy::naive_bytecount)]

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{cents, cn_tou, local, minutes, wallet};
use meterkit_ledger::{Id, MemLedger};
use meterkit_session::{
    LineError, LogError, LogReader, LogRecord, MAX_LINE_LEN, MeterEvent, Receipt, Session,
    SessionConfig, SessionLog,
};
use meterkit_tariff::{
    Attribution, ChargeState, PricingPolicy, Reading, RoundingMode, RoundingPoint, Tariff,
    VersionSelection,
};
use proptest::prelude::*;

fn line(record: &LogRecord) -> String {
    let mut out = String::new();
    record.encode(&mut out).unwrap();
    out
}

/// The scripted session: 07:00 → 11:45 at 7 kW (valley, flat, peak), a meter swap at
/// 09:30, on a 30.00 wallet asking for a 40.00 hold, so the money runs out before the end
/// and the settle books the rest as debt.
struct Script {
    config: SessionConfig,
    events: Vec<MeterEvent>,
    stop: DateTime<Utc>,
}

fn script(who: Id) -> Script {
    let t0 = local("07:00");
    let mut events = Vec::new();
    let mut wh = 1_206_420;
    for quarter in 0..=19 {
        let at = minutes(t0, quarter * 15);
        if quarter == 10 {
            // The old meter's last reading and the new meter's first, at the same instant.
            events.push(MeterEvent::Swap {
                old_final: Reading::new(at, wh),
                new_initial: Reading::new(at, 500),
            });
            wh = 500;
        } else {
            events.push(MeterEvent::Reading(Reading::new(at, wh)));
        }
        wh += 1_750;
    }
    let config = SessionConfig::new(Id::name("s-log").unwrap(), who, t0, 4_000, local("13:00"))
        .with_low_balance(500);
    Script {
        config,
        events,
        stop: local("12:00"),
    }
}

/// One step of the writer's protocol: every record is logged before the session acts on it.
#[derive(Debug, Clone, Copy)]
enum Step {
    Log(usize),
    Act(usize),
}

/// Records in protocol order: start, the events, stop.
fn records(script: &Script) -> Vec<LogRecord> {
    let mut records = vec![LogRecord::Start {
        config: script.config,
        tariff: 0x1234_abcd,
    }];
    records.extend(script.events.iter().copied().map(LogRecord::Event));
    records.push(LogRecord::Stop { at: script.stop });
    records
}

fn steps(count: usize) -> impl Iterator<Item = Step> {
    (0..count).flat_map(|i| [Step::Log(i), Step::Act(i)])
}

/// The process: a log (the file's bytes), a ledger, a session.
struct Run<'t> {
    tariff: &'t Tariff,
    log: Vec<u8>,
    ledger: MemLedger,
    session: Option<Session<'t>>,
    receipt: Option<Receipt>,
}

impl Run<'_> {
    fn step(&mut self, records: &[LogRecord], step: Step) {
        match step {
            Step::Log(i) => self.log.extend(line(&records[i]).as_bytes()),
            Step::Act(i) => match records[i] {
                LogRecord::Start { config, .. } => {
                    let at = config.start;
                    self.session =
                        Some(Session::start(&mut self.ledger, self.tariff, config, at).unwrap());
                }
                LogRecord::Event(event) => {
                    let at = match event {
                        MeterEvent::Reading(r) | MeterEvent::Swap { new_initial: r, .. } => r.at,
                    };
                    let session = self.session.as_mut().unwrap();
                    session.on_event(&mut self.ledger, &event, at).unwrap();
                }
                LogRecord::Stop { at } => {
                    let session = self.session.as_mut().unwrap();
                    self.receipt = Some(session.stop(&mut self.ledger, at).unwrap());
                }
                _ => unreachable!(),
            },
        }
    }
}

/// What a restarted process does: read the log, drop a torn tail, recover the session
/// (or start over if no start record survived), and finish the script.
fn restart<'t>(
    tariff: &'t Tariff,
    mut log: Vec<u8>,
    ledger: MemLedger,
    records: &[LogRecord],
) -> Run<'t> {
    let parsed = SessionLog::parse(&log).unwrap();
    let mut run = Run {
        tariff,
        log: Vec::new(),
        ledger,
        session: None,
        receipt: None,
    };
    let Some(parsed) = parsed else {
        // No start record: no hold was placed; the session starts from the beginning.
        for step in steps(records.len()) {
            run.step(records, step);
        }
        return run;
    };
    log.truncate(parsed.valid_len);
    run.log = log;
    let now = parsed.last_reading().map_or(parsed.config.start, |r| r.at);
    run.session = Some(
        Session::recover(
            &mut run.ledger,
            tariff,
            parsed.config,
            parsed.events.iter().copied(),
            now,
        )
        .unwrap(),
    );
    // Logged records were acted on by `recover` (or, for the stop, are acted on now).
    let logged = 1 + parsed.events.len() + usize::from(parsed.stop.is_some());
    if parsed.stop.is_some() {
        run.step(records, Step::Act(logged - 1));
    }
    for step in steps(records.len()).skip(2 * logged) {
        run.step(records, step);
    }
    run
}

/// How the crash left the last line.
#[derive(Debug, Clone, Copy)]
enum Tail {
    Clean,
    /// Half of the next record's line was written.
    Half,
    /// The next line without its newline.
    NoNewline,
    /// The next line with a byte changed and its newline (a page written with garbage).
    Garbled,
}

#[test]
fn a_crash_at_every_step_recovers_exactly_the_uninterrupted_run() {
    let tariff = cn_tou();
    let t0 = local("07:00");
    let mut fresh = MemLedger::new(cents());
    let who = wallet(&mut fresh, "dana", 3_000, 0, t0 - TimeDelta::minutes(5));
    let script = script(who);
    let records = records(&script);
    let all: Vec<Step> = steps(records.len()).collect();

    let mut reference = Run {
        tariff: &tariff,
        log: Vec::new(),
        ledger: fresh.clone(),
        session: None,
        receipt: None,
    };
    for &step in &all {
        reference.step(&records, step);
    }
    let expected = reference.receipt.clone().unwrap();
    // The script does what it says: the hold ran out and the rest became debt.
    assert_eq!(expected.held, 3_000);
    assert!(expected.settlement.to_debt > 0);
    assert_eq!(expected.meters.len(), 2);
    assert_eq!(
        expected.balance_before - expected.balance_after + expected.debt_after,
        i128::from(expected.total)
    );

    let mut recoveries = 0;
    for done in 0..=all.len() {
        for tail in [Tail::Clean, Tail::Half, Tail::NoNewline, Tail::Garbled] {
            let mut crashed = Run {
                tariff: &tariff,
                log: Vec::new(),
                ledger: fresh.clone(),
                session: None,
                receipt: None,
            };
            for &step in &all[..done] {
                crashed.step(&records, step);
            }
            // The next record's line, as a crash in the middle of its append leaves it.
            let next = records.get(crashed.log_records()).map(line);
            match (tail, next) {
                (Tail::Clean, _) | (_, None) => {}
                (Tail::Half, Some(next)) => {
                    crashed.log.extend(&next.as_bytes()[..next.len() / 2]);
                }
                (Tail::NoNewline, Some(next)) => {
                    crashed.log.extend(next.trim_end().as_bytes());
                }
                (Tail::Garbled, Some(next)) => {
                    let mut bytes = next.into_bytes();
                    bytes[3] ^= 0x20;
                    crashed.log.extend(bytes);
                }
            }
            let Run { log, ledger, .. } = crashed;
            let recovered = restart(&tariff, log, ledger, &records);
            let context = format!("crash after {done} steps, tail {tail:?}");
            let receipt = recovered.receipt.unwrap();
            assert_eq!(receipt.total, expected.total, "{context}");
            assert_eq!(receipt.bill, expected.bill, "{context}");
            assert_eq!(receipt.settlement, expected.settlement, "{context}");
            assert_eq!(receipt.balance_after, expected.balance_after, "{context}");
            assert_eq!(receipt.debt_after, expected.debt_after, "{context}");
            // No ledger operation twice, none missing, the same money everywhere.
            assert_eq!(recovered.ledger.seq(), reference.ledger.seq(), "{context}");
            assert_eq!(
                recovered.ledger.system(),
                reference.ledger.system(),
                "{context}"
            );
            assert_eq!(
                recovered.ledger.account(who),
                reference.ledger.account(who),
                "{context}"
            );
            recovered.ledger.check_invariants().unwrap();
            // The log ends as the uninterrupted run's, byte for byte: the torn tail is gone.
            assert_eq!(recovered.log, reference.log, "{context}");
            recoveries += 1;
        }
    }
    // start, 20 events, stop: 22 records, 44 steps, 45 crash points, 4 tails each.
    assert_eq!(recoveries, 45 * 4);
}

impl Run<'_> {
    /// Complete records in the log so far.
    fn log_records(&self) -> usize {
        self.log.iter().filter(|&&b| b == b'\n').count()
    }
}

#[test]
fn a_log_cut_before_its_start_record_holds_no_session() {
    assert_eq!(SessionLog::parse(b""), Ok(None));
    let start = line(&records(&script(Id::name("x").unwrap()))[0]);
    for cut in 0..start.len() {
        assert_eq!(
            SessionLog::parse(&start.as_bytes()[..cut]),
            Ok(None),
            "cut at {cut}"
        );
    }
}

#[test]
fn damage_before_the_last_line_and_records_out_of_order_are_errors() {
    let recs = records(&script(Id::name("x").unwrap()));
    let text: String = recs.iter().map(line).collect();
    // Line 3 garbled: not a torn write, the log is damaged.
    let mut bytes = text.clone().into_bytes();
    let third = text.match_indices('\n').nth(1).unwrap().0 + 1;
    bytes[third + 2] ^= 0x01;
    assert!(matches!(
        SessionLog::parse(&bytes),
        Err(LogError::Line {
            line: 3,
            error: LineError::Checksum { .. }
        })
    ));
    // A reading first; a second start; a reading after the stop.
    let reading = line(&recs[1]);
    assert_eq!(
        SessionLog::parse(reading.as_bytes()),
        Err(LogError::Misplaced {
            line: 1,
            record: "reading"
        })
    );
    let twice = format!("{}{}", line(&recs[0]), line(&recs[0]));
    assert_eq!(
        SessionLog::parse(twice.as_bytes()),
        Err(LogError::Misplaced {
            line: 2,
            record: "start"
        })
    );
    let after = format!("{text}{reading}");
    assert_eq!(
        SessionLog::parse(after.as_bytes()),
        Err(LogError::Misplaced {
            line: recs.len() + 1,
            record: "reading"
        })
    );
    // A line whose checksum holds but whose text is not a record (a bug, not a crash), last
    // or not: an error.
    for body in [
        "reading at=5",
        "reading at=5 wh=1 r0=1",
        "reading at=5 wh=1 r2=1 r1=1",
        "reading at=5 wh=1 r9=1",
        "reading at=5 wh=+1",
        "reading at=5.5 wh=1",
        "reading at=5 wh=1 state=parked",
        "reading at=5 wh=1 extra",
        "swap at=5 wh=1 at=6 wh=2",
        "stop",
        "pause at=5",
    ] {
        let bad = format!("{body} *{:08x}\n", meterkit_ledger::crc32c(body.as_bytes()));
        let log = format!("{}{bad}", line(&recs[0]));
        assert!(
            matches!(
                SessionLog::parse(log.as_bytes()),
                Err(LogError::Line { line: 2, .. })
            ),
            "{body}"
        );
    }
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // About ±3000 years around 1970, with nanoseconds.
    (-95_000_000_000i64..95_000_000_000, 0u32..1_000_000_000)
        .prop_map(|(s, ns)| DateTime::from_timestamp(s, ns).unwrap())
}

fn reading() -> impl Strategy<Value = Reading> {
    (
        instant(),
        any::<u64>(),
        proptest::collection::vec(proptest::option::of(any::<u64>()), 8),
        proptest::option::of(prop_oneof![
            Just(ChargeState::Charging),
            Just(ChargeState::Idle)
        ]),
    )
        .prop_map(|(at, wh, rates, state)| {
            let mut r = Reading::new(at, wh);
            for (rate, value) in (1u8..).zip(rates) {
                if let Some(value) = value {
                    r = r.with_rate(rate, value).unwrap();
                }
            }
            match state {
                Some(s) => r.with_state(s),
                None => r,
            }
        })
}

fn record() -> impl Strategy<Value = LogRecord> {
    let policy = (
        prop_oneof![
            Just(RoundingMode::HalfUp),
            Just(RoundingMode::HalfEven),
            Just(RoundingMode::Down)
        ],
        prop_oneof![
            Just(RoundingPoint::PerLine),
            Just(RoundingPoint::PerFee),
            Just(RoundingPoint::PerTotal)
        ],
        prop_oneof![Just(Attribution::Linear), Just(Attribution::RateRegisters)],
        prop_oneof![
            Just(VersionSelection::AtSessionStart),
            Just(VersionSelection::PerInstant)
        ],
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(mode, point, attribution, versions, modulus)| {
            let p = PricingPolicy::default()
                .with_rounding(mode, point)
                .with_attribution(attribution)
                .with_version_selection(versions);
            match modulus {
                Some(m) => p.with_register_modulus_wh(m),
                None => p,
            }
        });
    let start = (
        any::<u128>(),
        any::<u128>(),
        instant(),
        instant(),
        any::<u64>(),
        any::<u64>(),
        policy,
        any::<u32>(),
    )
        .prop_map(|(s, w, start, expires, max, low, policy, tariff)| {
            let config = SessionConfig::new(Id::from_raw(s), Id::from_raw(w), start, max, expires)
                .with_low_balance(low)
                .with_policy(policy);
            LogRecord::Start { config, tariff }
        });
    prop_oneof![
        start,
        reading().prop_map(|r| LogRecord::Event(MeterEvent::Reading(r))),
        (reading(), reading()).prop_map(|(old_final, new_initial)| LogRecord::Event(
            MeterEvent::Swap {
                old_final,
                new_initial
            }
        )),
        instant().prop_map(|at| LogRecord::Stop { at }),
    ]
}

proptest! {
    #[test]
    fn every_record_round_trips_through_one_line(record in record()) {
        let text = line(&record);
        prop_assert!(text.len() <= MAX_LINE_LEN);
        prop_assert_eq!(text.find('\n'), Some(text.len() - 1), "exactly one line");
        prop_assert_eq!(LogRecord::decode(text.trim_end().as_bytes()), Ok(record));
    }

    #[test]
    fn any_bytes_are_a_record_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = LogRecord::decode(&bytes);
        let mut reader = LogReader::new(&bytes);
        for _ in reader.by_ref() {}
        prop_assert!(reader.valid_len() <= bytes.len());
        let _ = SessionLog::parse(&bytes);
    }

    /// A log cut at any byte (a crash in the middle of an append) reads as the records
    /// wholly before the cut.
    #[test]
    fn a_log_cut_anywhere_reads_as_its_whole_records(
        events in proptest::collection::vec(reading(), 0..6),
        stop in proptest::option::of(instant()),
        cut in any::<proptest::sample::Index>(),
    ) {
        let start = records(&script(Id::name("p").unwrap())).remove(0);
        let mut recs = vec![start];
        recs.extend(events.into_iter().map(|r| LogRecord::Event(MeterEvent::Reading(r))));
        recs.extend(stop.map(|at| LogRecord::Stop { at }));
        let text: String = recs.iter().map(line).collect();
        let cut = cut.index(text.len() + 1);
        let prefix = &text.as_bytes()[..cut];
        let whole = prefix.iter().filter(|&&b| b == b'\n').count();
        let parsed = SessionLog::parse(prefix).unwrap();
        match parsed {
            None => prop_assert_eq!(whole, 0),
            Some(log) => {
                prop_assert_eq!(1 + log.events.len() + usize::from(log.stop.is_some()), whole);
                prop_assert_eq!(&log.events[..], &recs[1..=log.events.len()]
                    .iter()
                    .map(|r| match r { LogRecord::Event(e) => *e, _ => unreachable!() })
                    .collect::<Vec<_>>()[..]);
                prop_assert_eq!(log.torn, prefix.last().is_some_and(|&b| b != b'\n'));
                prop_assert_eq!(log.valid_len, prefix.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1));
            }
        }
    }
}
