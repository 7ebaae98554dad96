#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| herold_fuzz::twilio_hook(data));
