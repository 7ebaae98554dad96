//! Prints figures for the vault and the store: seal + blind index per address, adding 100,000
//! subscribers, and bytes on disk per subscriber. Run: `cargo bench --bench vault` (`HEROLD_BENCH_N` to change N).

use std::hint::black_box;
use std::time::Instant;

use herold::config::Config;
use herold::crypto::vault::Kek;
use herold::crypto::{MasterKey, Vault};
use herold::domain::{Address, ChannelDraft, ChannelKind, E164, OptInMode, SubscriberId, Transport};
use herold::service::Actor;
use herold::service::subscribers::AddSubscriber;

fn number(i: usize) -> String {
    format!("+49151{:08}", 10_000_000 + i)
}

fn file_size(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench --bench vault`");
        return;
    }
    let n: usize = std::env::var("HEROLD_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    println!("herold vault/store bench, N = {n}");

    // 1. Seal + blind index per address (the work done for every new address).
    let vault = Vault::new(Kek::derive(&MasterKey::generate()), &[3; 32]);
    let addresses: Vec<Address> =
        (0..n).map(|i| Address::Phone(Transport::Sms, E164::parse(&number(i), "DE").unwrap())).collect();
    let t = Instant::now();
    for (i, a) in addresses.iter().enumerate() {
        let id = SubscriberId(i as i64 + 1);
        let (key, wrapped) = vault.new_data_key(id);
        let sealed = key.seal("address", a.as_str().as_bytes());
        let idx = vault.blind_index(a);
        black_box((sealed, wrapped, idx));
    }
    let per = t.elapsed().as_nanos() as f64 / n as f64;
    println!("seal + wrap data key + blind index: {:>8.0} ns per address ({:.0}/s)", per, 1e9 / per);
    let t = Instant::now();
    for a in &addresses {
        black_box(vault.blind_index(a));
    }
    let per_idx = t.elapsed().as_nanos() as f64 / n as f64;
    println!("blind index alone (a lookup):       {per_idx:>8.0} ns per address");
    let t = Instant::now();
    for i in 0..n.min(20_000) {
        black_box(E164::parse(&number(i), "DE").unwrap());
    }
    println!(
        "E.164 parse + validate (reference): {:>8.0} ns per number",
        t.elapsed().as_nanos() as f64 / n.min(20_000) as f64
    );

    // 2. Adding N subscribers through the service, in batches of 1,000, on a real SQLite file.
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { data_dir: dir.path().join("data"), log: "warn".into(), ..Config::default() };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let service = herold::app::open_service(&cfg, true).unwrap();
    let data = dir.path().join("data");
    let (main_db, keyring_db) = (data.join("herold.sqlite"), data.join("keyring.sqlite"));
    let ch = rt
        .block_on(service.create_channel(
            &herold::service::Actor::Cli,
            ChannelDraft {
                name: "Bench".into(),
                keyword: "BENCH".into(),
                description: String::new(),
                kind: ChannelKind::Broadcast,
                opt_in: OptInMode::Double,
                texts: Default::default(),
                transports: vec![Transport::Sms],
                frequency: None,
                public_archive: false,
                quiet: Default::default(),
                over_cap: Default::default(),
            },
        ))
        .unwrap();
    rt.block_on(service.checkpoint()).unwrap();
    let empty = file_size(&main_db) + file_size(&keyring_db);
    let t = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let reqs = chunk
            .iter()
            .map(|&i| AddSubscriber {
                transport: Transport::Sms,
                address: number(i),
                language: "de".into(),
                channels: vec![ch.id],
                consent_note: "paper form".into(),
            })
            .collect();
        rt.block_on(service.add_subscribers(&Actor::Cli, reqs)).unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    println!("adding {n} subscribers (batches of 1,000): {secs:.2} s, {:.0} per second", n as f64 / secs);
    let t = Instant::now();
    let lookups = 10_000.min(n);
    for i in 0..lookups {
        assert!(rt.block_on(service.find_subscriber(&number(i * (n / lookups)))).unwrap().is_some());
    }
    println!(
        "find by number (blind index, async + SQLite): {:.1} µs per lookup",
        t.elapsed().as_micros() as f64 / lookups as f64
    );

    // 3. Bytes on disk per subscriber: subscriber, sealed address + index, subscription, one consent event, data key.
    rt.block_on(service.checkpoint()).unwrap();
    let (m, k) = (file_size(&main_db), file_size(&keyring_db));
    let total = m + k - empty;
    println!(
        "bytes on disk: data {m} B, keyring {k} B → {:.0} B per subscriber in all (keyring alone {:.0} B)",
        total as f64 / n as f64,
        k as f64 / n as f64
    );
    let c = rusqlite::Connection::open(&main_db).unwrap();
    let mut st = c.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").unwrap();
    let rows: Vec<(String, i64)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect();
    let per = |name: &str| rows.iter().find(|r| r.0 == name).map(|r| r.1 as f64 / n as f64).unwrap_or(0.0);
    let core = per("subscribers") + per("addresses") + per("addresses_subscriber") + k as f64 / n as f64;
    println!(
        "  contact data (subscriber row, sealed address + blind index, its index, wrapped key): {core:.0} B per subscriber (target ≤ 300)"
    );
    for (name, size) in rows.iter().take(9) {
        println!("  {name:<28} {:>7.0} B per subscriber", *size as f64 / n as f64);
    }
}
