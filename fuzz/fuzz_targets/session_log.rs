//! Any bytes as a session log: no panic; every line that reads as a record re-encodes to a
//! line that reads as the same record; the valid prefix reads as the same records, untorn.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meterkit_session::{LogReader, LogRecord, SessionLog};

fuzz_target!(|data: &[u8]| {
    let mut reader = LogReader::new(data);
    let records: Vec<LogRecord> = reader.by_ref().map_while(Result::ok).collect();
    for record in &records {
        let mut line = String::new();
        record.encode(&mut line).expect("a decoded record encodes");
        let decoded = LogRecord::decode(line.trim_end_matches('\n').as_bytes());
        assert_eq!(decoded.as_ref(), Ok(record));
    }
    let valid = &data[..reader.valid_len()];
    let mut again = LogReader::new(valid);
    let prefix: Vec<LogRecord> = again.by_ref().map(|r| r.expect("valid prefix")).collect();
    assert_eq!(prefix, records);
    assert!(!again.torn());
    let _ = SessionLog::parse(data);
});
