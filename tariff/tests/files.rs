//! Tariff files, the readings CSV, renderers and the plain-words explanation.
#![cfg(feature = "serde-1")]
#![allow(clippy::unwrap_used)]

use meterkit_tariff::file::{Format, load, load_json, load_toml};
use meterkit_tariff::{
    Attribution, BillFormat, CsvProblem, Error, PricingPolicy, Reading, explain,
    parse_readings_csv, price_session,
};
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn data(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/examples-data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn price_file(
    tariff: &meterkit_tariff::Tariff,
    readings: &[Reading],
    policy: PricingPolicy,
) -> meterkit_tariff::Bill {
    price_session(
        tariff,
        policy,
        readings[0].at,
        readings.last().unwrap().at,
        readings,
    )
    .unwrap()
}

#[test]
fn chinese_example_prices_the_example_csv() {
    let tariff = load_toml(&data("cn-tou.toml")).unwrap();
    let readings = parse_readings_csv(&data("cn-session.csv")).unwrap();
    assert_eq!(readings.len(), 10);
    assert_eq!(readings[0].total_wh, 1_206_420);
    // 2025-07-15 is a summer Tuesday: peak 10:30–11:00 (2 × 1.750 = 3.5 kWh), sharp from 11:00
    // (6 × 1.750 = 10.5 kWh, then idle to 13:00).
    // peak:  3.5 × 1.0125 = 3.54375 electricity, 3.5 × 0.80 = 2.80 service
    // sharp: 10.5 × 1.2150 = 12.7575 electricity, 10.5 × 0.80 = 8.40 service
    // per-fee half-up: electricity 16.30125 → 16.30, service 11.20; total 27.50 incl. 13 % tax:
    // net 27.50 / 1.13 = 24.336… → 24.34, tax 3.16.
    for attribution in [Attribution::Linear, Attribution::RateRegisters] {
        let bill = price_file(
            &tariff,
            &readings,
            PricingPolicy::default().with_attribution(attribution),
        );
        let lines: Vec<_> = bill
            .lines()
            .iter()
            .map(|l| (l.period.as_str().to_string(), l.energy_wh))
            .collect();
        assert_eq!(
            lines,
            vec![("peak".to_string(), 3500), ("sharp".to_string(), 10_500)],
            "{attribution:?}"
        );
        let t = bill.totals;
        assert_eq!(
            (t.electricity, t.service, t.gross, t.net, t.tax),
            (d("16.30"), d("11.20"), d("27.50"), d("24.34"), d("3.16"))
        );
    }
}

#[test]
fn european_example_toml_and_json_agree_and_price_time_and_parking() {
    let toml = load_toml(&data("eu-time-parking.toml")).unwrap();
    let json = load_json(&data("eu-time-parking.json")).unwrap();
    assert_eq!(toml, json);
    // Monday 2025-06-02, Berlin (UTC+2): 21:00–22:00 charging 11 kWh standard, 22:00–22:30 charging
    // 5.5 kWh night, idle 22:30–00:30.
    // electricity 11 × 0.59 + 5.5 × 0.49 = 6.49 + 2.695 = 9.185 → 9.19
    // time 1.5 h × 0.60 = 0.90; parking (2 h idle − 1 h grace) × 6.00 = 6.00; flat 0.35
    // total 16.44 incl. 19 %: net 16.44 / 1.19 = 13.815… → 13.82, tax 2.62
    let csv = "timestamp,energy_wh,state\n\
               2025-06-02T21:00:00+02:00,0,charging\n\
               2025-06-02T22:00:00+02:00,11000,\n\
               2025-06-02T22:30:00+02:00,16500,idle\n\
               2025-06-03T00:30:00+02:00,16500,\n";
    let readings = parse_readings_csv(csv).unwrap();
    let bill = price_file(&toml, &readings, PricingPolicy::default());
    let t = bill.totals;
    assert_eq!(
        (
            t.electricity,
            t.time_fee,
            t.parking_fee,
            t.flat_fee,
            t.gross,
            t.net,
            t.tax
        ),
        (
            d("9.19"),
            d("0.90"),
            d("6.00"),
            d("0.35"),
            d("16.44"),
            d("13.82"),
            d("2.62")
        )
    );
    assert_eq!(bill.lines().len(), 2, "the night line runs across midnight");

    let table = bill.render(BillFormat::Table);
    assert!(table.contains("TOTAL  16.44 EUR"), "{table}");
    assert!(table.contains("night"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&bill.render(BillFormat::Json)).unwrap();
    assert_eq!(json["totals"]["total"], "16.44");
    assert_eq!(json["lines"][1]["energy_kwh"], "5.500");
    assert_eq!(json["lines"][1]["parking_seconds"], "3600");
    assert_eq!(json["totals"]["charging_seconds"], "5400");
    assert_eq!(json["lines"][0]["start"], "2025-06-02T21:00:00+02:00");
    let csv_out = bill.render(BillFormat::Csv);
    let rows: Vec<&str> = csv_out.lines().collect();
    assert_eq!(rows.len(), 4);
    assert!(
        rows[3].starts_with("total,") && rows[3].ends_with(",16.44"),
        "{}",
        rows[3]
    );
    assert_eq!("csv".parse::<BillFormat>().unwrap(), BillFormat::Csv);
    assert!("xml".parse::<BillFormat>().is_err());
}

#[test]
fn explain_says_which_period_applies_when() {
    let text = explain(&load_toml(&data("cn-tou.toml")).unwrap());
    assert!(text.contains("season summer, any day:"), "{text}");
    assert!(text.contains("11:00–13:00  sharp"), "{text}");
    assert!(
        text.contains(
            "sharp        electricity 1.2150 + service 0.8000 = 2.0150 CNY (meter rate 1)"
        ),
        "{text}"
    );
    assert!(text.contains("prices include 13 % tax"), "{text}");
    let eu = explain(&load_toml(&data("eu-time-parking.toml")).unwrap());
    assert!(
        eu.contains("6.00 per hour idle after 60 free minutes"),
        "{eu}"
    );
}

#[test]
fn check_names_the_line_of_every_problem() {
    let text = r#"name = "bad"
currency = "CNY"
time_zone = "Asia/Shanghai"

[[versions]]
periods = [
  { kind = "peak", energy = 1.0 },
  { kind = "valley", energy = 0.4 },
]

[[versions.days]]
slots = [
  "00:00-08:00 valley",
  "07:00-12:00 peak",
  "13:00-20:00 peak",
  "20:00-24:00 sharp",
]
"#;
    // The `sharp` slot is unknown but still counts for coverage: no gap is reported after 20:00.
    let report = load(text, Format::Toml).unwrap_err();
    let got: Vec<(Option<usize>, &str)> = report
        .problems
        .iter()
        .map(|p| (p.line, p.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                Some(16),
                "unknown period kind `sharp` (not in this version's periods)"
            ),
            (
                Some(14),
                "overlaps the previous slot: 07:00–08:00 is covered twice"
            ),
            (Some(15), "gap in the day: nothing covers 12:00–13:00"),
        ]
    );
    assert!(
        report
            .to_string()
            .contains("line 14: versions[0].days[0].slots[1]: overlaps"),
        "{report}"
    );

    // Syntax errors and unknown keys carry the line too.
    let report = load_toml(
        "name = \"x\"\ncurrency = \"EUR\"\ntime_zone = \"UTC\"\nversions = []\ncolour = 1\n",
    )
    .unwrap_err();
    assert_eq!(report.problems[0].line, Some(5), "{report}");
    let report = load_toml("name = \"x\"\ncurrency = \n").unwrap_err();
    assert_eq!(report.problems[0].line, Some(2), "{report}");

    // Semantic problems elsewhere: unknown zone, bad dates, unknown season, overlapping versions.
    let text = r#"name = "x"
currency = "EUR"
time_zone = "Mars/Olympus"
[[versions]]
valid_from = "2025-13-01"
periods = [{ kind = "flat", energy = "0.3" }]
[[versions.days]]
season = "winter"
slots = ["00:00-24:00 flat"]
"#;
    let messages: Vec<String> = load_toml(text)
        .unwrap_err()
        .problems
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        vec![
            "line 3: time_zone: unknown time zone `Mars/Olympus`".to_string(),
            "line 5: versions[0].valid_from: `2025-13-01` is not a date (YYYY-MM-DD)".to_string(),
            "line 8: versions[0].days[0].season: unknown season `winter`".to_string(),
        ]
    );
    let text = r#"name = "x"
currency = "EUR"
time_zone = "UTC"
[[versions]]
valid_until = "2025-06-01"
periods = [{ kind = "flat", energy = "0.3" }]
days = [{ slots = ["00:00-24:00 flat"] }]
[[versions]]
valid_from = "2025-05-01"
periods = [{ kind = "flat", energy = "0.3" }]
days = [{ slots = ["00:00-24:00 flat"] }]
"#;
    let report = load_toml(text).unwrap_err();
    assert_eq!(
        report.to_string(),
        "line 8: versions[1]: tariff versions overlap on 2025-05-01"
    );
}

#[test]
fn check_finds_days_without_a_table_and_json_errors_carry_the_line() {
    let text = r#"name = "x"
currency = "EUR"
time_zone = "UTC"
[[versions]]
periods = [{ kind = "flat", energy = "0.3" }]
day_types = [{ name = "workday", weekdays = ["mon", "tue", "wed", "thu", "fri"] }, { name = "weekend", weekdays = ["sat", "sun"] }]
[[versions.days]]
day_type = "workday"
slots = ["00:00-24:00 flat"]
"#;
    let report = load_toml(text).unwrap_err();
    assert_eq!(
        report.to_string(),
        "line 7: versions[0].days: no day table applies to 2024-01-06 (Saturday, no season, weekend)"
    );
    let report = load_json("{\n  \"name\": \"x\",\n  \"currency\": 3\n}").unwrap_err();
    assert_eq!(report.problems[0].line, Some(3));
}

#[test]
fn json_validation_problems_name_their_lines() {
    // The shipped JSON example with two mistakes on line 15: a slot of an unknown kind, and
    // 21:00-22:00 left uncovered. The second version (line 24) gets the same two.
    let good = include_str!("../examples-data/eu-time-parking.json");
    let line_15 = r#""days": [ { "slots": ["00:00-06:00 night", "06:00-22:00 standard", "22:00-00:00 night"] } ]"#;
    assert_eq!(good.lines().nth(14).map(str::trim), Some(line_15));
    let bad = good.replace(
        r#""06:00-22:00 standard", "22:00-00:00 night""#,
        r#""06:00-21:00 standard", "22:00-00:00 nite""#,
    );
    let report = load_json(&bad).unwrap_err();
    let located: Vec<_> = report
        .problems
        .iter()
        .map(|p| (p.line, p.path.as_str()))
        .collect();
    assert_eq!(
        located,
        [
            (Some(15), "versions[0].days[0].slots[2]"),
            (Some(15), "versions[0].days[0].slots[2]"),
            (Some(24), "versions[1].days[0].slots[2]"),
            (Some(24), "versions[1].days[0].slots[2]"),
        ]
    );
}

#[test]
fn readings_csv_errors_name_line_and_problem() {
    let bad = |text: &str| parse_readings_csv(text).unwrap_err();
    assert_eq!(
        bad(""),
        Error::Csv {
            line: 1,
            problem: CsvProblem::MissingHeader
        }
    );
    assert_eq!(
        bad("timestamp,volts\n"),
        Error::Csv {
            line: 1,
            problem: CsvProblem::UnknownColumn(2)
        }
    );
    assert_eq!(
        bad("energy_kwh\n"),
        Error::Csv {
            line: 1,
            problem: CsvProblem::MissingColumn("timestamp")
        }
    );
    // Found by the tariff_files fuzz target: rate numbering starts at 1, and `rate0`
    // underflowed while being rejected.
    for header in [
        "timestamp,energy_kwh,rate0_kwh\n",
        "timestamp,energy_kwh,rate64_kwh\n",
    ] {
        assert_eq!(
            bad(header),
            Error::Csv {
                line: 1,
                problem: CsvProblem::UnknownColumn(3)
            },
            "{header:?}"
        );
    }
    assert_eq!(
        bad("# c\ntimestamp,state\n"),
        Error::Csv {
            line: 2,
            problem: CsvProblem::MissingColumn("energy_kwh")
        }
    );
    let head = "timestamp,energy_kwh,rate1_kwh,state\n";
    assert_eq!(
        bad(&format!("{head}2025-01-01T00:00:00Z,1\n")),
        Error::Csv {
            line: 2,
            problem: CsvProblem::FieldCount {
                expected: 4,
                found: 2
            }
        }
    );
    assert_eq!(
        bad(&format!("{head}2025-01-01 00:00,1,,\n")),
        Error::Csv {
            line: 2,
            problem: CsvProblem::Timestamp
        }
    );
    assert_eq!(
        bad(&format!("{head}2025-01-01T00:00:00Z,1.0001,,\n")),
        Error::Csv {
            line: 2,
            problem: CsvProblem::Energy(2)
        }
    );
    assert_eq!(
        bad(&format!("{head}2025-01-01T00:00:00Z,-1,,\n")),
        Error::Csv {
            line: 2,
            problem: CsvProblem::Energy(2)
        }
    );
    assert_eq!(
        bad(&format!("{head}2025-01-01T00:00:00Z,1,x,\n")),
        Error::Csv {
            line: 2,
            problem: CsvProblem::Energy(3)
        }
    );
    assert_eq!(
        bad(&format!("{head}2025-01-01T00:00:00Z,1,,parked\n")),
        Error::Csv {
            line: 2,
            problem: CsvProblem::State
        }
    );
    let ok =
        parse_readings_csv(&format!("{head}2025-01-01T08:00:00+08:00,1.5,0.25,idle\n")).unwrap();
    assert_eq!(
        ok[0].at,
        chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap()
    );
    assert_eq!(
        (ok[0].total_wh, ok[0].rates[0], ok[0].state),
        (1500, Some(250), Some(meterkit_tariff::ChargeState::Idle))
    );
}
