#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| herold_fuzz::keywords(data));
