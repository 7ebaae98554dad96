//! Prints figures for the outbox: materialising a broadcast for 100,000 and 1,000,000 recipients,
//! peak memory, and the worker's throughput to the sandbox (our own overhead per delivery).
//! Run: `cargo bench --bench outbox` (`HEROLD_BENCH_QUICK=1` for 10× smaller sizes).

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use herold::config::Config;
use herold::domain::Transport;
use herold::service::Actor;
use herold::transport::sandbox::Sandbox;
use herold::worker::{Worker, WorkerSettings};

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn draft(keyword: &str) -> herold::domain::ChannelDraft {
    common::draft(keyword, Transport::Sandbox)
}

fn compose(channel: herold::domain::ChannelId, key: &str) -> herold::service::broadcasts::Compose {
    common::compose(channel, key, "Probealarm: bitte nicht antworten.")
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench --bench outbox`");
        return;
    }
    let quick = std::env::var("HEROLD_BENCH_QUICK").is_ok();
    let scale = if quick { 10 } else { 1 };
    let rt = herold::tuning::runtime().unwrap();

    // 1. Materialising: recipients are inserted directly (random bytes stand in for sealed addresses;
    //    materialising reads ids only), then one INSERT … SELECT per broadcast is timed.
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { data_dir: dir.path().join("data"), log: "warn".into(), ..Config::default() };
    let service = herold::app::open_service(&cfg, true).unwrap();
    let sizes = [100_000 / scale, 1_000_000 / scale];
    let mut channel_ids = vec![];
    for (i, n) in sizes.iter().enumerate() {
        let ch = rt.block_on(service.create_channel(&herold::service::Actor::Cli, draft(&format!("SIZE{i}")))).unwrap();
        channel_ids.push(ch.id);
        common::bulk_subscribers(&cfg.data_dir.join("herold.sqlite"), ch.id, (i as i64) * 10_000_000 + 1, *n);
    }
    let rss_before = rss_kb("VmRSS:");
    for (n, ch) in sizes.iter().zip(&channel_ids) {
        let t = Instant::now();
        let (b, _) = rt.block_on(service.create_broadcast(&Actor::Cli, compose(*ch, &format!("m{n}")))).unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(b.total, *n as i64);
        let target = if *n >= 1_000_000 { "≤ 2 s" } else { "≤ 0.25 s" };
        println!(
            "materialise outbox for {n:>9} recipients: {secs:>7.3} s ({:.0} rows/s; target {target})",
            *n as f64 / secs
        );
        // Reference in the same run: the same rows copied into a plain table with no index (the floor
        // of this disk and SQLite at this moment), leaving the checkpoint to later as herold does.
        let c = rusqlite::Connection::open(cfg.data_dir.join("herold.sqlite")).unwrap();
        c.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        let t = Instant::now();
        c.execute_batch(&format!(
            "BEGIN; CREATE TABLE bench_ref AS SELECT subscriber_id, 'sandbox' AS transport, 'queued' AS state, 0 AS at \
             FROM subscriptions WHERE channel_id = {ch}; COMMIT; DROP TABLE bench_ref;"
        ))
        .unwrap();
        let reference = t.elapsed().as_secs_f64();
        println!("  reference, the same rows into a plain table: {reference:>7.3} s");
        common::report(&format!("materialise_{n}"), secs, "s", Some((reference, "plain table copy, s")), target);
    }
    println!(
        "memory: RSS {} MB before materialising, peak (VmHWM, whole bench process) {} MB (target ≤ 150 MB)",
        rss_before / 1024,
        rss_kb("VmHWM:") / 1024
    );
    common::report(
        "peak_rss_1m_fanout",
        (rss_kb("VmHWM:") / 1024) as f64,
        "MB",
        Some(((rss_before / 1024) as f64, "RSS before, MB")),
        "≤ 150 MB",
    );
    drop(service);

    // 2. Worker throughput to the sandbox with real subscribers (sealed addresses, data keys).
    let n = 100_000 / scale;
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { data_dir: dir.path().join("data"), log: "warn".into(), ..Config::default() };
    let service = herold::app::open_service(&cfg, true).unwrap();
    let ch = rt.block_on(service.create_channel(&herold::service::Actor::Cli, draft("WORK"))).unwrap();
    rt.block_on(common::add_subscribers(&service, Transport::Sandbox, "+49151", ch.id, n));
    let (broadcast, _) = rt.block_on(service.create_broadcast(&Actor::Cli, compose(ch.id, "w"))).unwrap();
    let mut transports: HashMap<Transport, Arc<dyn herold::transport::Transport>> = HashMap::new();
    transports.insert(Transport::Sandbox, Arc::new(Sandbox::new(0)));
    let settings =
        WorkerSettings { batch: 1000, lease: std::time::Duration::from_secs(60), max_attempts: 8, concurrency: 64 };
    let mut worker = Worker::new(service.clone(), transports, settings);
    let t = Instant::now();
    while rt.block_on(worker.run_once()).unwrap() > 0 {}
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(rt.block_on(service.broadcast(broadcast.id)).unwrap().sent, n as i64);
    let worker_rate = n as f64 / secs;
    println!("worker to the sandbox: {n} deliveries in {secs:.2} s = {worker_rate:.0}/s (target ≥ 50,000/s)");
    // Reference in the same run: the crypto alone (unwrap the data key, open the address) per delivery.
    let vault = service.vault().clone();
    let id = herold::domain::SubscriberId(1);
    let (key, wrapped) = vault.new_data_key(id);
    let sealed = key.seal("address", b"+4915110000000");
    let t = Instant::now();
    for _ in 0..n {
        let k = vault.unwrap_data_key(id, &wrapped).unwrap();
        std::hint::black_box(k.open("address", &sealed).unwrap());
    }
    let secs = t.elapsed().as_secs_f64();
    println!("reference, crypto alone per delivery: {:.0}/s", n as f64 / secs);
    common::report("worker_sandbox_per_s", worker_rate, "/s", Some((n as f64 / secs, "crypto alone /s")), "≥ 50,000/s");
}
