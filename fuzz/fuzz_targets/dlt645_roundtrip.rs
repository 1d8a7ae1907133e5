//! Structured DL/T 645 messages (built from `arbitrary` input): every message the builder
//! accepts is emitted with a random preamble, found whole by the streaming decoder, parsed
//! back to the same frame and the same message, and its value codecs round-trip too.
#![no_main]

use arbitrary::Arbitrary;
use chrono::{NaiveDate, NaiveDateTime};
use dlt645::{
    Address, Di, Edition, FrameRepr, Function,
    frame::{MAX_FRAME_LEN, Payload},
    message::{
        BaudRate, ErrorWord, FreezeTime, Message, OperatorCode, Password, ReadSelector,
        RelayCommand, Reply, Request,
    },
    stream::{Decoded, Decoder},
    value::{self, Number, Value},
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum AnyDi {
    V2007(u32),
    V1997(u16),
}

impl AnyDi {
    fn di(&self) -> Di {
        match *self {
            AnyDi::V2007(d) => Di::V2007(d),
            AnyDi::V1997(d) => Di::V1997(d),
        }
    }
}

/// Year offset, month, day, hour, minute, second; out-of-range parts make no date.
#[derive(Arbitrary, Debug)]
struct AnyTime(u8, u8, u8, u8, u8, u8);

impl AnyTime {
    fn time(&self) -> Option<NaiveDateTime> {
        let AnyTime(y, mo, d, h, mi, s) = *self;
        NaiveDate::from_ymd_opt(2000 + i32::from(y % 100), mo.into(), d.into())?.and_hms_opt(
            h.into(),
            mi.into(),
            s.into(),
        )
    }
}

#[derive(Arbitrary, Debug)]
enum AnySelector {
    Current,
    Blocks(u8),
    LoadRecordsSince(u8, AnyTime),
}

#[derive(Arbitrary, Debug)]
struct AnyPassword(u8, [u8; 3]);

impl AnyPassword {
    fn password(&self) -> Password {
        Password {
            level: self.0,
            code: self.1,
        }
    }
}

/// The messages of both editions, both directions, with every field free.
#[derive(Arbitrary, Debug)]
enum AnyMessage {
    Read(AnyDi, AnySelector),
    ReadSubsequent(AnyDi, Option<u8>),
    Reread,
    ReadAddress,
    Write(AnyDi, AnyPassword, Option<[u8; 4]>, Vec<u8>),
    WriteAddress(bool, [u8; 6]),
    BroadcastTime(AnyTime),
    Freeze(Option<u8>, Option<u8>, Option<u8>, Option<u8>),
    ChangeBaud(bool, u8),
    ChangePassword(Option<AnyDi>, AnyPassword, AnyPassword),
    ClearDemand(AnyPassword, Option<[u8; 4]>),
    ClearMeter(AnyPassword, [u8; 4]),
    ClearEvents(AnyPassword, [u8; 4], AnyDi),
    RelayControl(AnyPassword, [u8; 4], u8, AnyTime),
    Heartbeat(u8),
    SecurityAuth(Vec<u8>),
    ReplyRead(AnyDi, Vec<u8>, bool),
    ReplyReadSubsequent(AnyDi, Vec<u8>, Option<u8>, bool),
    ReplyReadAddress([u8; 6]),
    WriteAck(bool),
    WriteAddressAck(bool),
    FreezeAck,
    ReplyChangeBaud(bool, u8),
    ReplyChangePassword(bool, AnyPassword),
    ClearDemandAck(bool),
    ClearMeterAck,
    ClearEventsAck,
    RelayControlAck,
    ReplySecurityAuth(Vec<u8>),
    Abnormal(u8, bool, u8),
}

const FUNCTIONS: [Function; 16] = [
    Function::BroadcastTime,
    Function::Read,
    Function::ReadSubsequent,
    Function::Reread,
    Function::ReadAddress,
    Function::Write,
    Function::WriteAddress,
    Function::Freeze,
    Function::ChangeBaud,
    Function::ChangePassword,
    Function::ClearDemand,
    Function::ClearMeter,
    Function::ClearEvents,
    Function::RelayControl,
    Function::Heartbeat,
    Function::SecurityAuth,
];

fn edition(v2007: bool) -> Edition {
    if v2007 {
        Edition::V2007
    } else {
        Edition::V1997
    }
}

fn payload(bytes: &[u8]) -> Option<Payload> {
    Payload::from_slice(bytes).ok()
}

fn rate(pick: u8) -> BaudRate {
    BaudRate::from_word(1 << (1 + pick % 6)).unwrap_or(BaudRate::B2400)
}

impl AnyMessage {
    /// The library message, or `None` when the input names no valid one (an impossible
    /// date, a data field over 255 bytes).
    fn message(&self) -> Option<Message> {
        use AnyMessage as A;
        let request = |r| Some(Message::Request(r));
        let reply = |r| Some(Message::Reply(r));
        match self {
            A::Read(di, selector) => request(Request::Read {
                di: di.di(),
                selector: match selector {
                    AnySelector::Current => ReadSelector::Current,
                    AnySelector::Blocks(count) => ReadSelector::Blocks { count: *count },
                    AnySelector::LoadRecordsSince(count, since) => ReadSelector::LoadRecordsSince {
                        count: *count,
                        since: since.time()?,
                    },
                },
            }),
            A::ReadSubsequent(di, seq) => request(Request::ReadSubsequent {
                di: di.di(),
                seq: *seq,
            }),
            A::Reread => request(Request::Reread),
            A::ReadAddress => request(Request::ReadAddress),
            A::Write(di, password, operator, data) => request(Request::Write {
                di: di.di(),
                password: password.password(),
                operator: operator.map(OperatorCode),
                data: payload(data)?,
            }),
            A::WriteAddress(v2007, address) => request(Request::WriteAddress {
                edition: edition(*v2007),
                address: Address::from_wire(*address),
            }),
            A::BroadcastTime(time) => request(Request::BroadcastTime { time: time.time()? }),
            A::Freeze(month, day, hour, minute) => request(Request::Freeze {
                at: FreezeTime {
                    month: *month,
                    day: *day,
                    hour: *hour,
                    minute: *minute,
                },
            }),
            A::ChangeBaud(v2007, pick) => request(Request::ChangeBaud {
                edition: edition(*v2007),
                rate: rate(*pick),
            }),
            A::ChangePassword(di, old, new) => request(Request::ChangePassword {
                di: di.as_ref().map(AnyDi::di),
                old: old.password(),
                new: new.password(),
            }),
            A::ClearDemand(password, operator) => request(Request::ClearDemand {
                password: password.password(),
                operator: operator.map(OperatorCode),
            }),
            A::ClearMeter(password, operator) => request(Request::ClearMeter {
                password: password.password(),
                operator: OperatorCode(*operator),
            }),
            A::ClearEvents(password, operator, di) => request(Request::ClearEvents {
                password: password.password(),
                operator: OperatorCode(*operator),
                di: di.di(),
            }),
            A::RelayControl(password, operator, command, until) => request(Request::RelayControl {
                password: password.password(),
                operator: OperatorCode(*operator),
                command: RelayCommand::from_byte(*command),
                valid_until: until.time()?,
            }),
            A::Heartbeat(minutes) => request(Request::Heartbeat { minutes: *minutes }),
            A::SecurityAuth(data) => request(Request::SecurityAuth {
                data: payload(data)?,
            }),
            A::ReplyRead(di, data, more) => reply(Reply::Read {
                di: di.di(),
                data: payload(data)?,
                more: *more,
            }),
            A::ReplyReadSubsequent(di, data, seq, more) => reply(Reply::ReadSubsequent {
                di: di.di(),
                data: payload(data)?,
                seq: *seq,
                more: *more,
            }),
            A::ReplyReadAddress(address) => reply(Reply::ReadAddress {
                address: Address::from_wire(*address),
            }),
            A::WriteAck(v2007) => reply(Reply::WriteAck {
                edition: edition(*v2007),
            }),
            A::WriteAddressAck(v2007) => reply(Reply::WriteAddressAck {
                edition: edition(*v2007),
            }),
            A::FreezeAck => reply(Reply::FreezeAck),
            A::ReplyChangeBaud(v2007, pick) => reply(Reply::ChangeBaud {
                edition: edition(*v2007),
                rate: rate(*pick),
            }),
            A::ReplyChangePassword(v2007, new) => reply(Reply::ChangePassword {
                edition: edition(*v2007),
                new: new.password(),
            }),
            A::ClearDemandAck(v2007) => reply(Reply::ClearDemandAck {
                edition: edition(*v2007),
            }),
            A::ClearMeterAck => reply(Reply::ClearMeterAck),
            A::ClearEventsAck => reply(Reply::ClearEventsAck),
            A::RelayControlAck => reply(Reply::RelayControlAck),
            A::ReplySecurityAuth(data) => reply(Reply::SecurityAuth {
                data: payload(data)?,
            }),
            A::Abnormal(function, v2007, bits) => {
                let function = FUNCTIONS[usize::from(*function) % FUNCTIONS.len()];
                reply(Reply::Abnormal {
                    function,
                    edition: edition(*v2007),
                    error: ErrorWord {
                        bits: *bits,
                        edition: edition(*v2007),
                    },
                })
            }
        }
    }
}

/// An energy-style number for a value round trip: magnitude, scale and sign of a
/// `Value::Number` in the format of the DI it is encoded for.
#[derive(Arbitrary, Debug)]
struct AnyNumber {
    di: AnyDi,
    magnitude: u64,
    scale: u8,
    negative: bool,
}

#[derive(Arbitrary, Debug)]
struct Input {
    address: [u8; 6],
    preamble: u8,
    message: AnyMessage,
    number: AnyNumber,
}

fn to_frame(message: &Message, address: Address) -> Result<FrameRepr, dlt645::Error> {
    match message {
        Message::Request(r) => r.to_frame(address),
        Message::Reply(r) => r.to_frame(address),
    }
}

fuzz_target!(|input: Input| {
    let address = Address::from_wire(input.address);
    if let Some(message) = input.message.message() {
        let built = to_frame(&message, address);
        // The builder may refuse a combination the edition cannot carry; that is an error,
        // not a frame, and it must not panic.
        if let Ok(repr) = built {
            let preamble = usize::from(input.preamble % 5);
            let mut wire = [0u8; MAX_FRAME_LEN + 4];
            let n = repr
                .emit(preamble, &mut wire)
                .expect("a built frame fits the largest frame");
            let Decoded::Frame {
                frame, consumed, ..
            } = Decoder::new().decode(&wire[..n])
            else {
                panic!(
                    "the decoder did not find the emitted frame: {:02X?}",
                    &wire[..n]
                );
            };
            assert_eq!(consumed, n);
            assert_eq!(frame.as_bytes(), &wire[preamble..n]);
            let parsed = FrameRepr::parse(&frame);
            assert_eq!(parsed, repr);
            let back = Message::parse(&parsed).unwrap_or_else(|e| {
                panic!(
                    "{message:?} built {:02X?}, which does not parse: {e:?}",
                    &wire[..n]
                )
            });
            if let Message::Reply(Reply::Abnormal { .. }) = message {
                // An abnormal reply carries only a function code, which two editions may
                // share for different functions (0x03: 2007 security authentication, 1997
                // re-read); the parser's reading must at least rebuild the same frame.
                assert_eq!(
                    to_frame(&back, address).as_ref(),
                    Ok(&repr),
                    "frame {:02X?} read as {back:?}",
                    &wire[..n]
                );
            } else if let Message::Request(Request::SecurityAuth { data }) = &message
                && data.is_empty()
            {
                // Documented: code 0x03 without data can only be a 1997 re-read.
                assert_eq!(back, Message::Request(Request::Reread));
            } else {
                assert_eq!(back, message, "frame {:02X?}", &wire[..n]);
            }
        }
    }

    // Numbers: whatever `encode` accepts for a DI decodes to the same value and sign, in
    // the DI's own number of decimals (encode rescales exactly or refuses).
    let n = &input.number;
    let di = n.di.di();
    let number = Number::new(n.magnitude, n.scale, n.negative);
    let mut out = [0u8; 64];
    if let Ok(len) = value::encode(di, &Value::Number(number), &mut out) {
        let Ok(Value::Number(decoded)) = value::decode(di, &out[..len]) else {
            panic!(
                "DI {di:?}: {number:?} encoded to {:02X?}, which does not decode to a number",
                &out[..len]
            );
        };
        let scale = decoded.scale().max(number.scale());
        assert_eq!(
            (decoded.rescaled_mantissa(scale), decoded.is_negative()),
            (number.rescaled_mantissa(scale), number.is_negative()),
            "DI {di:?}: {number:?} came back as {decoded:?}"
        );
    }
});
