//! Property tests: every request and reply kind survives to_frame → emit → check →
//! parse unchanged, and arbitrary frames survive emit → parse.

use chrono::{NaiveDate, NaiveDateTime};
use dlt645::{
    Address, Control, Di, Edition, Frame, FrameRepr, Function,
    frame::{MAX_FRAME_LEN, Payload},
    message::{
        BaudRate, ErrorWord, FreezeTime, Message, OperatorCode, Password, ReadSelector,
        RelayCommand, Reply, Request,
    },
};
use proptest::prelude::*;

fn address() -> impl Strategy<Value = Address> {
    any::<[u8; 6]>().prop_map(Address::from_wire)
}

fn payload(max: usize) -> impl Strategy<Value = Payload> {
    proptest::collection::vec(any::<u8>(), 0..=max)
        .prop_map(|v| Payload::from_slice(&v).expect("bounded by max"))
}

fn time(seconds: bool) -> impl Strategy<Value = NaiveDateTime> {
    (
        2000..=2099i32,
        1..=12u32,
        1..=28u32,
        0..24u32,
        0..60u32,
        0..60u32,
    )
        .prop_map(move |(y, mo, d, h, mi, s)| {
            NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|date| date.and_hms_opt(h, mi, if seconds { s } else { 0 }))
                .expect("valid by construction")
        })
}

fn password() -> impl Strategy<Value = Password> {
    (any::<u8>(), any::<[u8; 3]>()).prop_map(|(level, code)| Password { level, code })
}

fn operator() -> impl Strategy<Value = OperatorCode> {
    any::<[u8; 4]>().prop_map(OperatorCode)
}

fn rate() -> impl Strategy<Value = BaudRate> {
    prop_oneof![
        Just(BaudRate::B600),
        Just(BaudRate::B1200),
        Just(BaudRate::B2400),
        Just(BaudRate::B4800),
        Just(BaudRate::B9600),
        Just(BaudRate::B19200),
    ]
}

fn edition() -> impl Strategy<Value = Edition> {
    prop_oneof![Just(Edition::V2007), Just(Edition::V1997)]
}

fn freeze_field(max: u8) -> impl Strategy<Value = Option<u8>> {
    proptest::option::of(0..=max)
}

fn request() -> impl Strategy<Value = Request> {
    let di07 = any::<u32>().prop_map(Di::V2007);
    let di97 = any::<u16>().prop_map(Di::V1997);
    prop_oneof![
        di97.clone().prop_map(|di| Request::Read {
            di,
            selector: ReadSelector::Current
        }),
        (di07.clone(), any::<u8>(), time(false)).prop_flat_map(|(di, count, since)| {
            prop_oneof![
                Just(Request::Read {
                    di,
                    selector: ReadSelector::Current
                }),
                Just(Request::Read {
                    di,
                    selector: ReadSelector::Blocks { count }
                }),
                Just(Request::Read {
                    di,
                    selector: ReadSelector::LoadRecordsSince { count, since }
                }),
            ]
        }),
        (di07.clone(), any::<u8>())
            .prop_map(|(di, seq)| Request::ReadSubsequent { di, seq: Some(seq) }),
        di97.clone()
            .prop_map(|di| Request::ReadSubsequent { di, seq: None }),
        Just(Request::Reread),
        Just(Request::ReadAddress),
        (di07.clone(), password(), operator(), payload(243)).prop_map(
            |(di, password, op, data)| {
                Request::Write {
                    di,
                    password,
                    operator: Some(op),
                    data,
                }
            }
        ),
        (di97, password(), payload(249)).prop_map(|(di, password, data)| Request::Write {
            di,
            password,
            operator: None,
            data
        }),
        (edition(), address())
            .prop_map(|(edition, address)| Request::WriteAddress { edition, address }),
        time(true).prop_map(|time| Request::BroadcastTime { time }),
        (
            freeze_field(12),
            freeze_field(31),
            freeze_field(23),
            freeze_field(59)
        )
            .prop_map(|(month, day, hour, minute)| Request::Freeze {
                at: FreezeTime {
                    month,
                    day,
                    hour,
                    minute
                }
            }),
        (edition(), rate()).prop_map(|(edition, rate)| Request::ChangeBaud { edition, rate }),
        (proptest::option::of(di07.clone()), password(), password())
            .prop_map(|(di, old, new)| Request::ChangePassword { di, old, new }),
        (password(), proptest::option::of(operator()))
            .prop_map(|(password, operator)| Request::ClearDemand { password, operator }),
        (password(), operator())
            .prop_map(|(password, operator)| Request::ClearMeter { password, operator }),
        (password(), operator(), di07).prop_map(|(password, operator, di)| Request::ClearEvents {
            password,
            operator,
            di
        }),
        (password(), operator(), any::<u8>(), time(true)).prop_map(
            |(password, operator, c, valid_until)| {
                Request::RelayControl {
                    password,
                    operator,
                    command: RelayCommand::from_byte(c),
                    valid_until,
                }
            }
        ),
        any::<u8>().prop_map(|minutes| Request::Heartbeat { minutes }),
        // An empty 0x03 request is a 1997 re-read, so security data is never empty.
        payload(255)
            .prop_filter("security data is not empty", |d| !d.is_empty())
            .prop_map(|data| Request::SecurityAuth { data }),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    let di = prop_oneof![
        any::<u32>().prop_map(Di::V2007),
        any::<u16>().prop_map(Di::V1997)
    ];
    let abnormal_function = prop_oneof![
        Just((Function::Read, Edition::V2007)),
        Just((Function::Read, Edition::V1997)),
        Just((Function::Write, Edition::V2007)),
        Just((Function::Write, Edition::V1997)),
        Just((Function::ReadSubsequent, Edition::V2007)),
        Just((Function::ChangePassword, Edition::V2007)),
        Just((Function::ChangeBaud, Edition::V1997)),
        Just((Function::ClearMeter, Edition::V2007)),
        Just((Function::RelayControl, Edition::V2007)),
    ];
    prop_oneof![
        (di.clone(), payload(251), any::<bool>()).prop_map(|(di, data, more)| Reply::Read {
            di,
            data,
            more
        }),
        (any::<u32>(), payload(250), any::<u8>(), any::<bool>()).prop_map(
            |(di, data, seq, more)| {
                Reply::ReadSubsequent {
                    di: Di::V2007(di),
                    data,
                    seq: Some(seq),
                    more,
                }
            }
        ),
        (any::<u16>(), payload(253), any::<bool>()).prop_map(|(di, data, more)| {
            Reply::ReadSubsequent {
                di: Di::V1997(di),
                data,
                seq: None,
                more,
            }
        }),
        address().prop_map(|address| Reply::ReadAddress { address }),
        edition().prop_map(|edition| Reply::WriteAck { edition }),
        edition().prop_map(|edition| Reply::WriteAddressAck { edition }),
        Just(Reply::FreezeAck),
        (edition(), rate()).prop_map(|(edition, rate)| Reply::ChangeBaud { edition, rate }),
        (edition(), password()).prop_map(|(edition, new)| Reply::ChangePassword { edition, new }),
        edition().prop_map(|edition| Reply::ClearDemandAck { edition }),
        Just(Reply::ClearMeterAck),
        Just(Reply::ClearEventsAck),
        Just(Reply::RelayControlAck),
        payload(255).prop_map(|data| Reply::SecurityAuth { data }),
        (abnormal_function, any::<u8>()).prop_map(|((function, edition), bits)| Reply::Abnormal {
            function,
            edition,
            error: ErrorWord { bits, edition },
        }),
    ]
}

/// Emits a repr with wake-up bytes, finds it again, and parses it back.
fn through_the_wire(repr: &FrameRepr, preamble: usize) -> FrameRepr {
    let mut buf = [0u8; MAX_FRAME_LEN + 8];
    let n = repr.emit(preamble, &mut buf).expect("fits");
    assert_eq!(n, preamble + repr.buffer_len());
    let frame = dlt645::frame::after_preamble(&buf[..n]).expect("emitted frames check");
    assert_eq!(frame.total_len(), repr.buffer_len());
    FrameRepr::parse(&frame)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_request_round_trips(request in request(), to in address(), preamble in 0usize..8) {
        let repr = request.to_frame(to).expect("valid requests encode");
        prop_assert_eq!(repr.control.direction(), dlt645::Direction::Request);
        let back = through_the_wire(&repr, preamble);
        prop_assert_eq!(back.address, to);
        prop_assert_eq!(Message::parse(&back), Ok(Message::Request(request)));
    }

    #[test]
    fn every_reply_round_trips(reply in reply(), from in address()) {
        let repr = reply.to_frame(from).expect("valid replies encode");
        let back = through_the_wire(&repr, 0);
        prop_assert_eq!(Message::parse(&back), Ok(Message::Reply(reply)));
    }

    #[test]
    fn any_frame_round_trips(to in address(), control in any::<u8>(), data in payload(255)) {
        let repr = FrameRepr { address: to, control: Control::from_byte(control), data };
        prop_assert_eq!(through_the_wire(&repr, 3), repr);
    }

    #[test]
    fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(frame) = Frame::new_checked(&bytes[..]) {
            let repr = FrameRepr::parse(&frame);
            let _ = Message::parse(&repr);
            let _ = frame.di();
        }
    }
}

/// Messages the wire cannot carry are refused when built, not sent as something else. Each
/// case was found by the `dlt645_roundtrip` fuzz target (inputs in
/// `fuzz/seeds/dlt645_roundtrip/crash-*`).
#[test]
fn builders_refuse_what_the_wire_cannot_carry() {
    let address = Address::from_wire([0x01, 0x02, 0x03, 0x04, 0x05, 0x06]);
    let password = Password {
        level: 2,
        code: [0x11, 0x22, 0x33],
    };
    // ClearEvents (0x1B) exists in 2007 only: a two-byte 1997 DI would leave the data field
    // two bytes short of the 12 the parser requires.
    let clear = Request::ClearEvents {
        password,
        operator: OperatorCode([1, 2, 3, 4]),
        di: Di::V1997(0x9010),
    };
    assert!(matches!(
        clear.to_frame(address),
        Err(dlt645::Error::NotInEdition { .. })
    ));
    // A 2007 subsequent-frame reply carries its sequence byte, a 1997 one none; either
    // mismatch would be read back with a data byte taken for the sequence or the other way.
    let data = Payload::from_slice(&[0x7F, 0x73, 0xCE]).unwrap();
    for (di, seq) in [(Di::V2007(0x0001_0000), None), (Di::V1997(0x9010), Some(1))] {
        let reply = Reply::ReadSubsequent {
            di,
            data: data.clone(),
            seq,
            more: false,
        };
        assert!(
            matches!(
                reply.to_frame(address),
                Err(dlt645::Error::NotInEdition { .. })
            ),
            "{di:?} with seq {seq:?}"
        );
    }
    // A freeze field is one BCD byte where 99 means "every": 99 and above cannot be sent as
    // a value (month 255 used to go out as 55, 99 as the wildcard).
    for month in [99, 255] {
        let freeze = Request::Freeze {
            at: FreezeTime {
                month: Some(month),
                day: Some(1),
                hour: Some(0),
                minute: Some(0),
            },
        };
        assert!(
            matches!(
                freeze.to_frame(address),
                Err(dlt645::Error::Field { offset: 3, .. })
            ),
            "month {month}"
        );
    }
    // The same freeze with a sendable month still goes out and reads back as sent.
    let at = FreezeTime {
        month: Some(12),
        day: None,
        hour: Some(23),
        minute: Some(59),
    };
    let repr = Request::Freeze { at }.to_frame(address).unwrap();
    assert_eq!(
        Message::parse(&repr).unwrap(),
        Message::Request(Request::Freeze { at })
    );
}
