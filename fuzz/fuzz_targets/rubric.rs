//! The rubric parser: any bytes as a rubric file (TOML syntax, check types, keys, numbers).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = pcaplab::grade::rubric::parse("fuzz.toml", text);
    }
});
