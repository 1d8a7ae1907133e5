//! Malformed input of every kind is rejected with the error that names it.

use dlt645::{
    Address, Control, Di, Error, Frame, FrameRepr,
    frame::{Payload, after_preamble},
    message::{Message, Reply, Request},
    value::{self, ValueError},
};

fn repr(control: u8, data: &[u8]) -> FrameRepr {
    FrameRepr {
        address: "123456789012".parse().expect("address"),
        control: Control::from_byte(control),
        data: Payload::from_slice(data).expect("short"),
    }
}

fn message_error(control: u8, data: &[u8]) -> Error {
    Message::parse(&repr(control, data)).expect_err("malformed")
}

#[test]
fn link_layer_errors() {
    let good = [
        0x68, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x68, 0x13, 0x00, 0xDF, 0x16,
    ];
    // Fix up the checksum of this hand-written read-address request first.
    let mut good = good;
    good[10] = dlt645::frame::checksum(&good[..10]);
    assert!(Frame::new_checked(&good[..]).is_ok());

    assert_eq!(
        Frame::new_checked(&[][..]),
        Err(Error::Truncated {
            needed: 12,
            available: 0
        })
    );
    assert_eq!(
        Frame::new_checked(&good[..9]),
        Err(Error::Truncated {
            needed: 12,
            available: 9
        })
    );
    assert_eq!(
        Frame::new_checked(&good[1..]),
        Err(Error::StartByte {
            offset: 0,
            found: 0x12
        })
    );
    let mut long = good;
    long[9] = 0x05; // claims 5 data bytes that are not there
    assert_eq!(
        Frame::new_checked(&long[..]),
        Err(Error::Truncated {
            needed: 17,
            available: 12
        })
    );
    // Wake-up bytes are not part of the view.
    let mut woken = vec![0xFE; 3];
    woken.extend_from_slice(&good);
    assert_eq!(
        Frame::new_checked(&woken[..]),
        Err(Error::StartByte {
            offset: 0,
            found: 0xFE
        })
    );
    assert_eq!(after_preamble(&woken).map(|f| f.total_len()), Ok(12));
}

#[test]
fn data_lengths_that_do_not_fit_the_function() {
    let cases: &[(u8, &[u8], &str)] = &[
        (0x11, &[0, 0, 1], "4, 5 or 10"),          // read with a 3-byte DI
        (0x11, &[0, 0, 1, 0, 1, 2], "4, 5 or 10"), // read with 6 bytes
        (0x01, &[0x10, 0x90, 0], "2"),             // 1997 read with 3 bytes
        (0x12, &[0, 0, 1, 0], "5"),                // read subsequent without SEQ
        (0x13, &[0], "0"),                         // read address with data
        (0x14, &[0; 11], "at least 12"),           // write without a full operator code
        (0x04, &[0; 5], "at least 6"),             // 1997 write without a full password
        (0x08, &[0; 5], "6"),                      // broadcast time without the year
        (0x16, &[0; 3], "4"),                      // freeze
        (0x18, &[0; 8], "12"),                     // 2007 password change without DI
        (0x1C, &[0; 15], "16"),                    // relay control
        (0xD1, &[0x02, 0x00], "1 (the ERR byte)"), // abnormal reply with two bytes
        (0xD1, &[], "1 (the ERR byte)"),
        (0x94, &[0], "0"),                   // write ack must be empty
        (0x93, &[0; 5], "6"),                // read-address reply
        (0x91, &[0, 0, 1], "at least 4"),    // read reply shorter than a DI
        (0x92, &[0, 0, 1, 0], "at least 5"), // subsequent reply without SEQ
    ];
    for (control, data, expected) in cases {
        assert_eq!(
            message_error(*control, data),
            Error::DataLength {
                control: *control,
                expected,
                actual: data.len()
            },
            "control {control:02X}"
        );
    }
}

#[test]
fn malformed_fields() {
    // Broadcast time 2017-13-05: month 13.
    assert!(matches!(
        message_error(0x08, &[0x51, 0x22, 0x10, 0x05, 0x13, 0x17]),
        Error::Field {
            field: "broadcast time",
            ..
        }
    ));
    // Broadcast time with a non-BCD minute.
    assert_eq!(
        message_error(0x08, &[0x51, 0x2A, 0x10, 0x05, 0x06, 0x17]),
        Error::Field {
            field: "broadcast time",
            offset: 1,
            byte: 0x2A
        }
    );
    // A rate word with two bits set, and one with a reserved bit.
    for word in [0x0C, 0x01, 0x80, 0x00] {
        assert!(matches!(message_error(0x17, &[word]), Error::Field { byte, .. } if byte == word));
    }
    // Freeze minute 0x6A.
    assert_eq!(
        message_error(0x16, &[0x6A, 0x99, 0x99, 0x99]),
        Error::Field {
            field: "freeze time",
            offset: 0,
            byte: 0x6A
        }
    );
}

#[test]
fn unknown_functions_and_wrong_directions() {
    assert_eq!(
        message_error(0x1F, &[]),
        Error::UnknownFunction {
            control: 0x1F,
            code: 0x1F
        }
    );
    assert_eq!(
        message_error(0x05, &[]),
        Error::UnknownFunction {
            control: 0x05,
            code: 0x05
        }
    );
    let reply = repr(0x91, &[0, 0, 1, 0, 0x42, 0x06, 0x12, 0x00]);
    assert!(matches!(
        Request::parse(&reply),
        Err(Error::Direction { control: 0x91, .. })
    ));
    let request = repr(0x11, &[0, 0, 1, 0]);
    assert!(matches!(
        Reply::parse(&request),
        Err(Error::Direction { control: 0x11, .. })
    ));
}

#[test]
fn encoding_limits() {
    let to: Address = "1".parse().expect("address");
    let big = Payload::from_slice(&[0; 250]).expect("fits payload");
    let write = Request::Write {
        di: Di::V2007(0x0400_0101),
        password: "02000000".parse().expect("password"),
        operator: Some(dlt645::message::OperatorCode::default()),
        data: big,
    };
    assert_eq!(
        write.to_frame(to),
        Err(Error::DataTooLong { len: 262, max: 255 })
    );
    // A 2007 write needs an operator code; a 1997 one must not have one.
    let mut bad = write.clone();
    if let Request::Write { operator, data, .. } = &mut bad {
        *operator = None;
        *data = Payload::new();
    }
    assert_eq!(
        bad.to_frame(to),
        Err(Error::NotInEdition {
            function: dlt645::Function::Write,
            edition: dlt645::Edition::V2007
        })
    );
    // Freeze does not exist in 1997, so a meter cannot refuse one.
    let refusal = Reply::Abnormal {
        function: dlt645::Function::Freeze,
        edition: dlt645::Edition::V1997,
        error: dlt645::message::ErrorWord {
            bits: 1,
            edition: dlt645::Edition::V1997,
        },
    };
    assert_eq!(
        refusal.to_frame(to),
        Err(Error::NotInEdition {
            function: dlt645::Function::Freeze,
            edition: dlt645::Edition::V1997
        })
    );
    // Times outside the two-digit year window cannot be sent.
    let time = chrono::NaiveDate::from_ymd_opt(1999, 12, 31)
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .expect("date");
    assert!(matches!(
        Request::BroadcastTime { time }.to_frame(Address::BROADCAST),
        Err(Error::Field {
            field: "broadcast time",
            ..
        })
    ));
    let mut small = [0u8; 15];
    assert_eq!(
        Request::ReadAddress
            .to_frame(Address::WILDCARD)
            .and_then(|f| f.emit(4, &mut small)),
        Err(Error::BufferTooSmall {
            needed: 16,
            available: 15
        })
    );
}

#[test]
fn malformed_values() {
    let energy = Di::V2007(0x0001_0000);
    // 0x4A is not BCD.
    assert!(matches!(
        value::decode(energy, &[0x42, 0x4A, 0x12, 0x00]),
        Err(ValueError::NotBcd {
            index: 1,
            byte: 0x4A
        })
    ));
    assert!(matches!(
        value::decode(energy, &[0x42, 0x06, 0x12]),
        Err(ValueError::Length {
            expected: 4,
            actual: 3,
            ..
        })
    ));
    // A block that is not a whole number of items.
    assert!(matches!(
        value::decode(Di::V2007(0x0201_FF00), &[0, 0, 0, 0, 0x94]),
        Err(ValueError::BlockLength {
            item_len: 2,
            actual: 5,
            ..
        })
    ));
}
