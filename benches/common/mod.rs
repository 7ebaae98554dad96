//! What the benches share: a single opt-in channel on one transport and a broadcast to send now.
#![allow(dead_code)]

use herold::domain::{ChannelDraft, ChannelKind, OptInMode, Transport};
use herold::service::broadcasts::Compose;

pub fn draft(keyword: &str, transport: Transport) -> ChannelDraft {
    ChannelDraft {
        name: keyword.into(),
        keyword: keyword.into(),
        description: String::new(),
        kind: ChannelKind::Broadcast,
        opt_in: OptInMode::Single,
        texts: Default::default(),
        transports: vec![transport],
        frequency: None,
        public_archive: false,
        quiet: Default::default(),
        over_cap: Default::default(),
    }
}

pub fn compose(channel: herold::domain::ChannelId, key: &str, body: &str) -> Compose {
    Compose {
        kind: ChannelKind::Broadcast,
        title: String::new(),
        body: body.into(),
        channels: vec![channel],
        send_at: None,
        deadline: None,
        override_reason: None,
        idempotency_key: key.into(),
        translation: None,
    }
}

/// One figure for `scripts/bench`: printed by the bench as it likes, and appended as a JSON line to
/// `$HEROLD_BENCH_JSON/results.jsonl` when that is set, with its in-run reference and its target.
pub fn report(name: &str, value: f64, unit: &str, reference: Option<(f64, &str)>, target: &str) {
    let Ok(dir) = std::env::var("HEROLD_BENCH_JSON") else { return };
    let line = serde_json::json!({
        "name": name,
        "value": value,
        "unit": unit,
        "reference": reference.map(|r| r.0),
        "reference_is": reference.map(|r| r.1),
        "target": target,
    });
    std::fs::create_dir_all(&dir).unwrap();
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(format!("{dir}/results.jsonl")).unwrap();
    writeln!(f, "{line}").unwrap();
}

/// A Kannel gateway named `name` at `url` with sendsms user and password (webhook secret `HOOK_SECRET`).
pub fn kannel_gateway(name: &str, url: &str, user: &str, password: &str, rate: &str) -> herold::config::GatewayConfig {
    let secret = |s: &str| -> herold::config::Secret { serde_json::from_value(serde_json::json!(s)).unwrap() };
    herold::config::GatewayConfig {
        name: name.into(),
        kind: herold::config::GatewayKind::Kannel,
        url: url.into(),
        username: user.into(),
        password: Some(secret(password)),
        password_file: None,
        webhook_secret: Some(secret(HOOK_SECRET)),
        webhook_secret_file: None,
        sender: String::new(),
        rate: rate.into(),
        priority: 0,
        max_parts: 10,
        timeout_seconds: 10,
        parts_per_day: None,
        recipients_per_month: None,
        reply_reserve_percent: 10,
        sim_number: None,
    }
}

pub const HOOK_SECRET: &str = "benchHookSecret0123456789";

/// A loopback sink that answers every sendsms request as Kannel does, on one worker thread; returns
/// its base URL. Call inside a Tokio runtime.
pub fn kannel_sink() -> String {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let server = HttpServer::new(|| {
        App::new().route(
            "/cgi-bin/sendsms",
            web::get().to(|| async { HttpResponse::Accepted().body("0: Accepted for delivery") }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let sink = format!("http://{}", server.addrs()[0]);
    // On the caller's thread (a bench's LocalSet): its worker thread then runs at normal priority,
    // like a gateway of its own, not at the background priority of the runtime's threads.
    tokio::task::spawn_local(server.run());
    sink
}

/// Runs `bench` on `rt` as `herold serve` runs: in a `LocalSet` on this (main) thread, so that servers
/// spawned with `spawn_local` start their worker threads from here, at normal priority, not from the
/// runtime's background threads (`tuning::runtime`), whose priority they would take.
pub fn block_on_main<F: std::future::Future>(rt: &tokio::runtime::Runtime, bench: F) -> F::Output {
    tokio::task::LocalSet::new().block_on(rt, bench)
}

/// Runs `f` (a load generator) on a thread of its own, started from the caller's thread: not on the
/// runtime's blocking pool, whose threads run at herold's background priority (`tuning::runtime`),
/// which `wrk` would take on.
pub async fn off_runtime<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await.expect("the load generator's thread finished")
}

/// Runs `wrk` for `secs` seconds (one thread, `connections`), with an optional Lua script, and returns
/// (requests, requests per second, p50 ms, p99 ms). Fails on any answer that is not 2xx/3xx.
pub fn wrk(
    url: &str,
    headers: &[String],
    script: Option<&std::path::Path>,
    connections: u32,
    secs: u64,
) -> (u64, f64, f64, f64) {
    let mut cmd = std::process::Command::new("wrk");
    cmd.args(["-t1", &format!("-c{connections}"), &format!("-d{secs}s"), "--latency"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd.arg(url).output().expect("wrk runs (scripts/setup-peers installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    let ms = |v: &str| -> f64 {
        let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
        let n: f64 = num.parse().unwrap_or(f64::NAN);
        match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            _ => f64::NAN,
        }
    };
    let pct = |p: &str| text.lines().find_map(|l| l.trim().strip_prefix(p).map(|v| ms(v.trim()))).unwrap_or(f64::NAN);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:").map(|v| v.trim().parse().unwrap_or(f64::NAN)))
        .unwrap_or(f64::NAN);
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in ").and_then(|(n, _)| n.trim().parse().ok()))
        .unwrap_or(0);
    let non2xx = text.lines().find(|l| l.contains("Non-2xx"));
    assert!(non2xx.is_none(), "{url}: {}", non2xx.unwrap());
    (requests, rps, pct("50%"), pct("99%"))
}

/// Inserts `n` active sandbox subscribers to `channel` straight into the database, ids from
/// `first_id` (random bytes stand in for sealed addresses: for benches that read ids and counts only).
pub fn bulk_subscribers(db: &std::path::Path, channel: herold::domain::ChannelId, first_id: i64, n: usize) {
    let mut c = rusqlite::Connection::open(db).unwrap();
    let tx = c.transaction().unwrap();
    {
        let mut sub = tx.prepare("INSERT INTO subscribers(id, language, created_at) VALUES (?1, 'de', 0)").unwrap();
        let mut addr = tx
            .prepare(
                "INSERT INTO addresses(blind_index, subscriber_id, transport, sealed) VALUES (?1, ?2, 'sandbox', ?3)",
            )
            .unwrap();
        let mut s = tx
            .prepare("INSERT INTO subscriptions(subscriber_id, channel_id, transport, state, created_at, updated_at) VALUES (?1, ?2, 'sandbox', 'active', 0, 0)")
            .unwrap();
        for k in 0..n {
            let id = first_id + k as i64;
            sub.execute([id]).unwrap();
            addr.execute(rusqlite::params![rand::random::<[u8; 16]>().to_vec(), id, vec![0u8; 54]]).unwrap();
            s.execute([id, channel.0]).unwrap();
        }
    }
    tx.commit().unwrap();
}

/// Adds `n` real subscribers (sealed numbers `<prefix><8 digits>`, data keys) to `channel` through the
/// service, 2,000 at a time.
pub async fn add_subscribers(
    service: &herold::service::Service,
    transport: Transport,
    prefix: &str,
    channel: herold::domain::ChannelId,
    n: usize,
) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(2000) {
        let reqs = chunk
            .iter()
            .map(|i| herold::service::subscribers::AddSubscriber {
                transport,
                address: format!("{prefix}{:08}", 10_000_000 + i),
                language: "de".into(),
                channels: vec![channel],
                consent_note: "bench".into(),
            })
            .collect();
        service.add_subscribers(&herold::service::Actor::Cli, reqs).await.unwrap();
    }
}

/// A process's resident memory in MB from `/proc/<pid>/status`: (all, anonymous, file-backed). The
/// file-backed part is mostly the executable's own pages, which the kernel maps in large chunks on a
/// device with a large read-ahead (8 MB on the test machine), so the anonymous part is what the
/// process itself allocated.
pub fn memory_mb(pid: u32) -> (f64, f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("RssAnon:"), field("RssFile:"))
}

/// The most memory the process `pid` has held so far (`VmHWM`, resident), in MB.
pub fn peak_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:")?.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Bytes this process has caused to be written to disk so far (`write_bytes` of `/proc/self/io`): the
/// database's write-ahead log, its checkpoints and everything else the process writes.
pub fn disk_bytes_written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("write_bytes: ")?.trim().parse().ok())
        .unwrap_or(0)
}

/// `binary` as a command without this process's own `HEROLD_*` variables: herold reads `HEROLD_*` as
/// configuration and refuses keys it does not know (`HEROLD_BENCH_JSON` among them).
pub fn herold_command(binary: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(binary);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("HEROLD_")) {
        cmd.env_remove(k);
    }
    cmd
}

/// Benches measure sending, whatever the time of day: quiet hours off (they hold SMS and Matrix at
/// night by default).
pub fn any_hour(cfg: &mut herold::config::Config) {
    cfg.quiet_hours.transports = vec![];
}
