//! Prints figures for the privacy operations on an installation of N subscribers (default 100,000):
//! a backup, one erasure, an export, a retention sweep that erases a tenth of them, and restoring the
//! backup from before those erasures (which erases them all again).
//! Run: `cargo bench --bench privacy` (`HEROLD_BENCH_N` to change N).

mod common;

use std::sync::Arc;
use std::time::Instant;

use herold::config::Config;
use herold::domain::clock::ManualClock;
use herold::domain::{SubscriberId, Transport};
use herold::service::Actor;
use herold::service::conversation::Inbound;
use herold::service::subscribers::AddSubscriber;

fn number(i: usize) -> String {
    format!("+49151{:08}", 10_000_000 + i)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench --bench privacy`");
        return;
    }
    let n: usize = std::env::var("HEROLD_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    println!("herold privacy bench, N = {n}");
    let rt = herold::tuning::runtime().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { data_dir: dir.path().join("data"), ..Config::default() };
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let s = herold::app::open_service_with_clock(&cfg, true, clock.clone()).unwrap();
    rt.block_on(async {
        let ch = s.create_channel(&Actor::Cli, common::draft("PRIV", Transport::Sandbox)).await.unwrap();
        for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
            let reqs = chunk
                .iter()
                .map(|i| AddSubscriber {
                    transport: Transport::Sandbox,
                    address: number(*i),
                    language: "de".into(),
                    channels: vec![ch.id],
                    consent_note: "bench".into(),
                })
                .collect();
            s.add_subscribers(&Actor::Cli, reqs).await.unwrap();
        }

        let backup = dir.path().join("data.bak");
        let t = Instant::now();
        s.backup(&backup, false).await.unwrap();
        println!(
            "online backup of the data:           {:>8.2} s ({:.1} MB)",
            t.elapsed().as_secs_f64(),
            std::fs::metadata(&backup).unwrap().len() as f64 / 1e6
        );

        // One erasure among N (list append + fsync, the transaction, the keyring checkpoint).
        let mut ids = Vec::new();
        for i in 0..50 {
            ids.push(s.find_subscriber(&number(i)).await.unwrap().unwrap());
        }
        let t = Instant::now();
        for id in &ids {
            s.erase_subscriber(&Actor::Cli, *id).await.unwrap();
        }
        println!(
            "erase one subscriber:                {:>8.1} ms (mean of 50)",
            t.elapsed().as_secs_f64() * 1e3 / 50.0
        );

        let id: SubscriberId = s.find_subscriber(&number(100)).await.unwrap().unwrap();
        let t = Instant::now();
        for _ in 0..20 {
            s.export_subscriber(&Actor::Cli, id, "bench").await.unwrap();
        }
        println!(
            "export one subscriber:               {:>8.1} ms (mean of 20)",
            t.elapsed().as_secs_f64() * 1e3 / 20.0
        );

        // A tenth of them leave; 31 days later the sweep erases them.
        let leaving = n / 10;
        let t = Instant::now();
        for i in 1000..1000 + leaving {
            let msg = Inbound {
                transport: Transport::Sandbox,
                from: number(i),
                text: "STOP".into(),
                gateway_message_id: None,
                room: None,
            };
            s.receive(msg).await.unwrap();
        }
        let per_stop = t.elapsed().as_secs_f64() * 1e6 / leaving as f64;
        println!("STOP by message (reference):         {per_stop:>8.0} µs each");
        clock.advance(31 * 86_400);
        let t = Instant::now();
        let r = s.retention_sweep().await.unwrap();
        let secs = t.elapsed().as_secs_f64();
        println!(
            "retention sweep, {} erased of {}:   {:>8.2} s ({:.0} erasures/s)",
            r.erased,
            n,
            secs,
            r.erased as f64 / secs
        );
        assert_eq!(r.erased, leaving);
        let t = Instant::now();
        let r = s.retention_sweep().await.unwrap();
        println!("retention sweep, nothing due:        {:>8.2} s", t.elapsed().as_secs_f64());
        assert_eq!(r.erased, 0);
    });
    drop(s);
    let paths = herold::store::DataPaths::new(&cfg.data_dir, None);
    let source = cfg.key_source().unwrap();
    let t = Instant::now();
    let r = rt.block_on(herold::service::backup::restore(&paths, &source, &dir.path().join("data.bak"), None)).unwrap();
    println!(
        "restore (erasure list re-applied):   {:>8.2} s ({} erased again)",
        t.elapsed().as_secs_f64(),
        r.erased_again
    );
}
