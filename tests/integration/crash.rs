//! `kill -9` of the real binary at random moments of a sandbox send to 20,000 recipients (or more),
//! `HEROLD_CRASH_ROUNDS` times (3 in CI; `scripts/bench` runs 50): `herold verify` is clean after every
//! kill, and in the end every recipient has the message and the duplicates stay within the rows in
//! flight at the crashes.

use crate::common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{open_service, test_numbers};
use herold::domain::{OptInMode, Transport};
use herold::service::Actor;
use rand::{Rng, SeedableRng};

const BATCH: usize = 200;
/// Sent but not yet written at a crash, at most: the lane's sends under way, the group of outcomes
/// being written and the one waiting for it.
const IN_FLIGHT: usize = herold::app::LANE_CONCURRENCY + 2 * herold::worker::RECORD_GROUP;

fn start(dir: &Path, log: &Path) -> Child {
    let mut c = common::herold_command(dir);
    c.args(["--data-dir", "data", "--listen", "127.0.0.1:0", "--log", "warn", "serve"])
        .env("HEROLD_DELIVERY__SANDBOX_LOG", log)
        .env("HEROLD_DELIVERY__BATCH", BATCH.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c.spawn().expect("start herold")
}

fn lines(log: &Path) -> usize {
    std::fs::read_to_string(log).map(|s| s.lines().count()).unwrap_or(0)
}

fn broadcast_state(dir: &Path) -> (String, i64) {
    let c = rusqlite::Connection::open_with_flags(
        dir.join("data/herold.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    c.query_row("SELECT state, sent FROM broadcasts", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_a_large_send_loses_nothing() {
    let crashes: usize = std::env::var("HEROLD_CRASH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    // A release build delivers fast: between reaching the target and the kill, a round may send 1,000 more.
    let recipients = 20_000.max(crashes * 2_500 + 4_000);
    let mut rng = rand::rngs::StdRng::seed_from_u64(crashes as u64);
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open_service(dir.path());
        let ch = s
            .create_channel(
                &herold::service::Actor::Cli,
                common::draft("CRASH", OptInMode::Single, &[Transport::Sandbox]),
            )
            .await
            .unwrap();
        common::import_sandbox(&s, &test_numbers(recipients), ch.id).await;
        let compose = common::compose_now(ch.id, "Probealarm", "crash");
        let (b, _) = s.create_broadcast(&Actor::Cli, compose).await.unwrap();
        assert_eq!(b.total, recipients as i64);
    }
    let log = dir.path().join("received.log");
    let mut before = 0;
    for round in 0..crashes {
        let mut child = start(dir.path(), &log);
        // Let it deliver a while (a random amount each round), then kill it hard.
        let target = before + rng.gen_range(100..1_200);
        let t = Instant::now();
        while lines(&log) < target {
            assert!(t.elapsed() < Duration::from_secs(120), "round {round}: no progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        before = lines(&log);
        assert!(before < recipients, "the send finished before the kill: make it larger");
        let o = common::herold_command(dir.path()).args(["--data-dir", "data", "verify"]).output().unwrap();
        assert!(
            o.status.success(),
            "round {round}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let mut child = start(dir.path(), &log);
    let t = Instant::now();
    loop {
        let (state, sent) = broadcast_state(dir.path());
        if state == "done" {
            assert_eq!(sent, recipients as i64);
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(180), "not done after restart: {state} {sent}");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let text = std::fs::read_to_string(&log).unwrap();
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for l in text.lines() {
        *seen.entry(l.parse().unwrap()).or_default() += 1;
    }
    let c = rusqlite::Connection::open(dir.path().join("data/herold.sqlite")).unwrap();
    let ids: Vec<i64> = c
        .prepare("SELECT id FROM deliveries WHERE broadcast_id IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(ids.len(), recipients);
    let missing = ids.iter().filter(|id| !seen.contains_key(id)).count();
    assert_eq!(missing, 0, "every recipient got the message");
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    println!(
        "crash test: {recipients} recipients, {crashes} kill -9, {duplicates} duplicates (bound {})",
        crashes * IN_FLIGHT
    );
    if let Ok(dir) = std::env::var("HEROLD_BENCH_JSON") {
        use std::io::Write;
        let line = serde_json::json!({"name": "crash_duplicates", "value": duplicates, "unit": format!("in {crashes} kill -9"),
            "reference": crashes * IN_FLIGHT, "reference_is": "rows in flight", "target": "≤ rows in flight, 0 missing, verify clean"});
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(format!("{dir}/results.jsonl")).unwrap();
        writeln!(f, "{line}").unwrap();
    }
    assert!(
        duplicates <= crashes * IN_FLIGHT,
        "{duplicates} duplicates for {crashes} crashes of {IN_FLIGHT} in flight"
    );
    drop(c);
    let o = common::herold_command(dir.path()).args(["--data-dir", "data", "verify"]).output().unwrap();
    assert!(o.status.success(), "{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
}
