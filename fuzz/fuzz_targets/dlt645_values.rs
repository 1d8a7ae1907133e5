//! Any DI and any value bytes through the value codecs: no panic, and whatever
//! decodes encodes back to the same bytes.
#![no_main]

use dlt645::{Di, value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte picks the edition; the DI follows in wire order, then the value.
    let Some((&edition, rest)) = data.split_first() else {
        return;
    };
    let (di, bytes) = if edition & 1 == 0 {
        let Some((di, bytes)) = rest.split_first_chunk::<4>() else {
            return;
        };
        (Di::from_wire_2007(*di), bytes)
    } else {
        let Some((di, bytes)) = rest.split_first_chunk::<2>() else {
            return;
        };
        (Di::from_wire_1997(*di), bytes)
    };
    if let Ok(decoded) = value::decode(di, bytes) {
        let mut out = [0u8; 512];
        let n = value::encode(di, &decoded, &mut out).expect("a decoded value re-encodes");
        assert_eq!(&out[..n], bytes);
    }
});
