//! Runs every fuzz target of `fuzz/` on stable for a few seconds each (`HEROLD_FUZZ_SECONDS`, default
//! 3): a small mutation fuzzer over the targets' seeds (bit flips, byte edits, splices, and characters
//! that parsers trip on). An input that breaks a property is saved under `target/fuzz-findings/` and
//! fails the test. For long runs with libFuzzer, see `fuzz/README.md`.

#[path = "../../fuzz/src/lib.rs"]
mod targets;

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TRICKY: &[&str] = &[
    "€",
    "🎉",
    "\u{0}",
    "\u{200b}",
    "ß",
    "Ü",
    "%",
    "%zz",
    "+",
    "&",
    "=",
    "\n",
    "\r\n",
    "\"",
    "\\",
    "{",
    "}",
    "[",
    "<script>",
    "javascript:",
    "0049",
    "+49",
    "STOP",
    "JA",
    "START ",
    "999999999999999999999",
    "\u{fffd}",
    "ﬃ",
];

fn mutate(rng: &mut StdRng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..rng.gen_range(1..=4) {
        let len = input.len();
        match rng.gen_range(0..6) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                input.remove(rng.gen_range(0..len));
            }
            2 => {
                let at = rng.gen_range(0..=len);
                input.insert(at, rng.r#gen());
            }
            3 => {
                let at = rng.gen_range(0..=len);
                let t = TRICKY[rng.gen_range(0..TRICKY.len())].as_bytes();
                input.splice(at..at, t.iter().copied());
            }
            4 if !corpus.is_empty() => {
                let other = &corpus[rng.gen_range(0..corpus.len())];
                let cut = rng.gen_range(0..=len);
                let from = rng.gen_range(0..=other.len());
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            _ => {
                let at = rng.gen_range(0..=len);
                let n = rng.gen_range(1..64);
                let fill: u8 = rng.r#gen();
                input.splice(at..at, std::iter::repeat_n(fill, n));
            }
        }
    }
    input.truncate(12_000);
}

#[test]
fn every_parser_of_outside_input_survives_fuzzing() {
    let secs: u64 = std::env::var("HEROLD_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let findings_dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("fuzz-findings");
    // Panics are the findings: keep their messages out of the output until one is reported.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut report = vec![];
    let mut failures = vec![];
    for (name, target) in targets::TARGETS {
        let mut rng = StdRng::seed_from_u64(0x6865_726f_6c64);
        let mut corpus = targets::seeds(name);
        // A 10 kB message and the empty input, for every target.
        corpus.push(vec![b'a'; 10_000]);
        corpus.push(vec![]);
        let started = Instant::now();
        let mut execs = 0u64;
        while started.elapsed() < Duration::from_secs(secs) {
            let mut input = corpus[rng.gen_range(0..corpus.len())].clone();
            mutate(&mut rng, &mut input, &corpus);
            execs += 1;
            if std::panic::catch_unwind(|| target(&input)).is_err() {
                std::fs::create_dir_all(&findings_dir).unwrap();
                let file = findings_dir.join(format!("{name}-{execs}.bin"));
                std::fs::write(&file, &input).unwrap();
                failures.push(format!(
                    "{name}: {} (input saved to {})",
                    String::from_utf8_lossy(&input).chars().take(120).collect::<String>(),
                    file.display()
                ));
                break;
            }
            // Keep inputs that grew the variety a little: every 97th survivor joins the corpus.
            if execs.is_multiple_of(97) && corpus.len() < 512 {
                corpus.push(input);
            }
        }
        report.push(format!("fuzz {name}: {execs} executions in {secs} s"));
    }
    std::panic::set_hook(hook);
    for line in &report {
        println!("{line}");
    }
    if !failures.is_empty() {
        // Replay the first finding with the panic message visible.
        panic!("fuzzing found inputs that break a property:\n{}", failures.join("\n"));
    }
}
