//! Prints herold's Matrix DM fan-out rate on a local Synapse (rate limits off) beside a bare matrix-sdk
//! loop sending the same messages, from the same device, into the same rooms, with the same
//! concurrency, in the same run. Each subscriber has one device with encryption keys. First
//! broadcast: herold also creates the 1,000 encrypted DMs and an Olm session with each device (its
//! figure includes that). Second broadcast: the rooms exist; this is the figure to compare. Both timed
//! fan-outs start once Synapse is idle, and the CPU time Synapse spent on each is printed beside it.
//! Then the idle memory of the release binary with the bot connected (target ≤ 60 MB): after a first
//! sync that catches up on a new message in every room, and restarted with nothing new.
//! Run: `cargo bench --bench matrix` (`HEROLD_BENCH_QUICK=1`: 100 subscribers, `HEROLD_BENCH_MATRIX_N`:
//! any number; `HEROLD_BENCH_BIN`: the herold binary whose idle memory and size are measured, by
//! default the one cargo built for the bench; `HEROLD_BENCH_COMPARE_BIN`: other ones, a `:`-separated
//! list, each measured the same way on the same data; `HEROLD_BENCH_LOG`: a log filter, e.g.
//! `warn,matrix_sdk::http_client=debug`, for the herold running inside the bench, written to stderr).
//! Needs the Synapse venv from `scripts/setup-peers`.
#![recursion_limit = "256"]

mod common;

#[allow(dead_code)]
#[path = "../tests/integration/common/synapse.rs"]
mod synapse;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use herold::app::Application;
use herold::config::{Config, MatrixConfig};
use herold::domain::Transport;
use herold::service::{Actor, Service};
use matrix_sdk::Client;
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::OwnedUserId;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;

const PASSWORD: &str = "bench-bot-password";
/// herold's worker sends this many messages at once; the bare loop does the same.
const CONCURRENCY: usize = 32;

fn config(dir: &std::path::Path, url: &str) -> Config {
    let mut cfg = Config {
        data_dir: dir.join("data"),
        listen: "127.0.0.1:0".into(),
        log: "warn".into(),
        matrix: Some(MatrixConfig {
            homeserver: url.into(),
            user_id: "@herold:localhost".into(),
            password: Some(serde_json::from_value(serde_json::json!(PASSWORD)).unwrap()),
            password_file: None,
            device_name: "herold bench".into(),
            rate: "100000/s".into(),
        }),
        ..Config::default()
    };
    common::any_hour(&mut cfg);
    cfg
}

/// Sends one broadcast and returns the seconds until every delivery is recorded.
async fn broadcast(s: &Service, channel: herold::domain::ChannelId, key: &str, n: usize) -> f64 {
    let t = Instant::now();
    let (b, _) =
        s.create_broadcast(&Actor::Cli, common::compose(channel, key, "Probealarm über Matrix")).await.unwrap();
    loop {
        let p = s.progress(b.id).await.unwrap();
        if p.broadcast.state == herold::domain::BroadcastState::Done {
            assert_eq!((p.broadcast.sent, p.broadcast.failed), (n as i64, 0), "every message sent, none failed");
            return t.elapsed().as_secs_f64();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The bare loop: the bot's own store and session (herold stopped), one `room.send` per subscriber,
/// started once Synapse is idle; with `syncing`, the client's sync loop runs meanwhile, as a bot's
/// must to see the replies (Synapse then also sends the bot its own messages back). Returns its
/// seconds, the seconds it waited for Synapse and Synapse's CPU seconds during the loop.
async fn bare_loop(
    dir: &std::path::Path,
    syn: &synapse::Synapse,
    passphrase: &str,
    users: &[OwnedUserId],
    syncing: bool,
) -> (f64, f64, f64) {
    let client = Client::builder()
        .homeserver_url(&syn.url)
        .sqlite_store(dir.join("data/matrix"), Some(passphrase))
        .build()
        .await
        .unwrap();
    let session = client.state_store().get_custom_value(b"herold.session.v1").await.unwrap().unwrap();
    client.restore_session(serde_json::from_slice::<MatrixSession>(&session).unwrap()).await.unwrap();
    client.sync_once(Default::default()).await.unwrap();
    let rooms: Vec<_> = users.iter().map(|u| client.get_dm_room(u).expect("herold made this DM")).collect();
    let sync = syncing.then(|| {
        let c = client.clone();
        tokio::spawn(async move { c.sync(SyncSettings::default().timeout(Duration::from_secs(30))).await })
    });
    let settled = tokio::task::block_in_place(|| syn.settle(Duration::from_secs(120))).as_secs_f64();
    let cpu = syn.cpu_seconds();
    let t = Instant::now();
    futures_util::stream::iter(rooms)
        .map(|room| async move {
            room.send(RoomMessageEventContent::text_plain("Probealarm über Matrix")).await.unwrap();
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let took = t.elapsed().as_secs_f64();
    let used = syn.cpu_seconds() - cpu;
    if let Some(s) = sync {
        s.abort();
    }
    (took, settled, used)
}

/// The release binary on the bench's data directory (the bot's session and its DMs), as an operator
/// runs it: its memory (all, anonymous, file-backed) 5 s after the bot reports itself connected, with
/// nothing to send, and the most it held until then (its first sync's catch-up).
fn idle_rss_with_bot(dir: &std::path::Path, url: &str, binary: &std::path::Path) -> Memory {
    let toml =
        format!("[matrix]\nhomeserver = \"{url}\"\nuser_id = \"@herold:localhost\"\npassword = \"{PASSWORD}\"\n");
    std::fs::write(dir.join("herold.toml"), toml).unwrap();
    let log_path = dir.join("idle.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = common::herold_command(binary)
        .current_dir(dir)
        .args(["--data-dir", "data", "--listen", "127.0.0.1:0", "--log", "info", "serve"])
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !std::fs::read_to_string(&log_path).unwrap_or_default().contains("the Matrix bot is connected") {
        assert!(child.try_wait().unwrap().is_none(), "herold stopped: {}", std::fs::read_to_string(&log_path).unwrap());
        assert!(t.elapsed() < Duration::from_secs(120), "the bot did not connect within 120 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(5));
    let (all, anon, file) = common::memory_mb(child.id());
    let peak = common::peak_mb(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    Memory { all, anon, file, peak }
}

/// Resident memory of a `herold serve` process, MB.
#[derive(Clone, Copy)]
struct Memory {
    all: f64,
    anon: f64,
    file: f64,
    peak: f64,
}

/// Gives each user one device with end-to-end encryption keys (device keys and one-time keys
/// uploaded), as a subscriber using an encrypting client has. The client that uploads them keeps its
/// keys in memory only and is dropped.
async fn add_devices(url: &str, names: &[String], password: &str) {
    futures_util::stream::iter(names)
        .map(|n| async move {
            let client = Client::builder().homeserver_url(url).build().await.unwrap();
            client.matrix_auth().login_username(n, password).await.unwrap();
            // The first sync sends the pending key upload before it syncs.
            client.sync_once(SyncSettings::default().timeout(Duration::ZERO)).await.unwrap();
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench --bench matrix`");
        return;
    }
    let n: usize = match std::env::var("HEROLD_BENCH_MATRIX_N") {
        Ok(n) => n.parse().expect("HEROLD_BENCH_MATRIX_N is a number"),
        Err(_) if std::env::var("HEROLD_BENCH_QUICK").is_ok() => 100,
        Err(_) => 1_000,
    };
    if let Ok(filter) = std::env::var("HEROLD_BENCH_LOG") {
        herold::telemetry::init(&filter);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let syn = synapse::Synapse::start(false);
        syn.register("herold", PASSWORD, false).await;
        syn.register("root", "root-password", true).await;
        let admin = syn.token("root", "root-password").await;
        let names: Vec<String> = (0..n).map(|i| format!("m{i:04}")).collect();
        // Each subscriber has one device with encryption keys, as one using Element has: the bot claims
        // a one-time key and shares the room key with it. (A subscriber without any device makes
        // matrix-sdk wait up to 5 s per message for a key query that finds none; see the README.)
        syn.create_users(&admin, &names, Some("subscriber-password")).await;
        add_devices(&syn.url, &names, "subscriber-password").await;
        let users: Vec<OwnedUserId> =
            names.iter().map(|n| OwnedUserId::try_from(format!("@{n}:localhost")).unwrap()).collect();

        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path(), &syn.url);
        let app = Application::build(&cfg).await.unwrap();
        let (s, stop) = (app.service().clone(), app.stop_handle());
        let task = tokio::spawn(app.run_until_stopped());
        let ch = s.create_channel(&Actor::Cli, common::draft("BENCH", Transport::Matrix)).await.unwrap().id;
        let reqs = names
            .iter()
            .map(|name| herold::service::subscribers::AddSubscriber {
                transport: Transport::Matrix,
                address: format!("@{name}:localhost"),
                language: "de".into(),
                channels: vec![ch],
                consent_note: "bench".into(),
            })
            .collect();
        s.add_subscribers(&Actor::Cli, reqs).await.unwrap();
        for _ in 0..240 {
            let status = s.transport_status();
            if status.iter().any(|(_, rows)| rows.iter().any(|(k, v)| k.code == "mx-syncing" && v.code == "mx-yes")) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let first = broadcast(&s, ch, "first", n).await;
        // Each timed fan-out starts on an idle Synapse: after creating 1,000 rooms it works on for a
        // while, and that work fell into whichever measurement came next.
        let settled_second = tokio::task::block_in_place(|| syn.settle(Duration::from_secs(120))).as_secs_f64();
        let cpu = syn.cpu_seconds();
        let second = broadcast(&s, ch, "second", n).await;
        let synapse_cpu_second = syn.cpu_seconds() - cpu;
        stop.stop(true).await;
        task.await.unwrap().unwrap();
        drop(s);
        let passphrase = herold::app::open_service(&cfg, false).unwrap().vault().matrix_store_passphrase();
        let (bare, settled_bare, synapse_cpu_bare) = bare_loop(dir.path(), &syn, &passphrase, &users, false).await;
        let (bare_syncing, _, synapse_cpu_bare_syncing) = bare_loop(dir.path(), &syn, &passphrase, &users, true).await;

        // Each binary twice: right after the bare loop left a new message in every room (the first sync
        // catches up on all of them), and restarted with nothing new.
        // The release binary cargo built for this bench (the same code and profile as `cargo build
        // --release`), or another one (`HEROLD_BENCH_BIN`).
        let main_bin = std::env::var_os("HEROLD_BENCH_BIN")
            .map_or_else(|| std::path::PathBuf::from(env!("CARGO_BIN_EXE_herold")), std::path::PathBuf::from);
        let main_bin = main_bin.as_path();
        let idle = idle_rss_with_bot(dir.path(), &syn.url, main_bin);
        let idle_again = idle_rss_with_bot(dir.path(), &syn.url, main_bin);
        // Other builds of herold on the same data, for comparing a change's memory (they must open the
        // same store versions), each after the same catch-up.
        let mut others = Vec::new();
        let compare = std::env::var_os("HEROLD_BENCH_COMPARE_BIN").unwrap_or_default();
        for bin in std::env::split_paths(&compare).filter(|p| !p.as_os_str().is_empty()) {
            bare_loop(dir.path(), &syn, &passphrase, &users, false).await;
            let caught_up = idle_rss_with_bot(dir.path(), &syn.url, &bin);
            others.push((caught_up, idle_rss_with_bot(dir.path(), &syn.url, &bin), bin));
        }

        let rate = |secs: f64| n as f64 / secs;
        println!(
            "matrix fan-out to {n} DM subscribers on a local Synapse (rate limits off), concurrency {CONCURRENCY}:"
        );
        println!("  herold, first broadcast (creates {n} encrypted DMs): {first:.1} s, {:.1} msg/s", rate(first));
        println!("  herold, second broadcast (rooms exist):            {second:.1} s, {:.1} msg/s", rate(second));
        println!("  bare matrix-sdk loop, same rooms and device:         {bare:.1} s, {:.1} msg/s", rate(bare));
        println!(
            "  the same loop with its sync loop running:         {bare_syncing:.1} s, {:.1} msg/s",
            rate(bare_syncing)
        );
        println!("  herold / bare: {:.0} %", 100.0 * bare / second);
        println!("  herold / bare with its sync loop: {:.0} %", 100.0 * bare_syncing / second);
        println!(
            "  Synapse's CPU time during each: herold {synapse_cpu_second:.1} s, bare loop {synapse_cpu_bare:.1} s, \
             syncing {synapse_cpu_bare_syncing:.1} s \
             (each started once Synapse was idle: after {settled_second:.0} s and {settled_bare:.0} s)"
        );
        common::report("matrix_dm_per_s", rate(second), "msg/s", Some((rate(bare), "bare matrix-sdk loop msg/s")), "");
        common::report(
            "matrix_dm_per_s_vs_syncing_loop",
            rate(second),
            "msg/s",
            Some((rate(bare_syncing), "bare loop with its sync loop, msg/s")),
            "",
        );
        common::report("matrix_first_with_dm_creation_per_s", rate(first), "msg/s", None, "");
        let show = |what: &str, m: Memory| {
            println!(
                "  {what}: {:.1} MB RSS ({:.1} MB anonymous, {:.1} MB file-backed), peak {:.1} MB",
                m.all, m.anon, m.file, m.peak
            )
        };
        println!(
            "idle memory of `herold serve` ({}) with the Matrix bot connected ({n} DMs known; target ≤ 60 MB):",
            main_bin.display()
        );
        show("after catching up on a new message in every room", idle);
        show("restarted, nothing new", idle_again);
        common::report("idle_rss_with_matrix_bot", idle.all, "MB", Some((idle.anon, "of it anonymous, MB")), "≤ 60 MB");
        common::report(
            "idle_rss_with_matrix_bot_restarted",
            idle_again.all,
            "MB",
            Some((idle_again.anon, "of it anonymous, MB")),
            "≤ 60 MB",
        );
        common::report("peak_rss_with_matrix_bot_catching_up", idle.peak, "MB", None, "");
        for (caught_up, again, bin) in others {
            println!("  the same with {}:", bin.display());
            show("after catching up", caught_up);
            show("restarted, nothing new", again);
        }
        let size = std::fs::metadata(main_bin).unwrap().len() as f64 / 1_048_576.0;
        println!("release binary with Matrix (the default build): {size:.1} MB");
        common::report("binary_size_with_matrix", size, "MB", None, "");
    });
}
