//! Inbound opt-ins per second through a real webhook: `wrk` posts Kannel-style inbound messages, each
//! `START NEWS` from a new number, to `/hooks/sms/<gateway>/inbound`; each is stored (subscriber,
//! sealed number, consent event, queued welcome) before the 2xx. Prints the rate and p50/p99 (targets
//! ≥ 5,000/s and p99 ≤ 20 ms) beside `/healthz` under the same load, then checks that every answered
//! request became a subscriber. Run: `cargo bench --bench inbound` (`HEROLD_BENCH_QUICK=1`: 3 s).

mod common;

use base64::Engine;
use herold::config::Config;
use herold::domain::Transport;
use herold::service::Actor;

const LUA: &str = r#"
counter = 0
request = function()
  counter = counter + 1
  wrk.headers["X-Kannel-From"] = string.format("+49151%08d", 10000000 + counter)
  return wrk.format("POST", "/hooks/sms/bench/inbound?id=m" .. counter, nil, "START NEWS")
end
"#;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench --bench inbound`");
        return;
    }
    let secs = if std::env::var("HEROLD_BENCH_QUICK").is_ok() { 3 } else { 10 };
    let rt = herold::tuning::runtime().unwrap();
    let dir = tempfile::tempdir().unwrap();
    common::block_on_main(&rt, async move {
        let sink = common::kannel_sink();
        let mut cfg = Config {
            data_dir: dir.path().join("data"),
            listen: "127.0.0.1:0".into(),
            log: "warn".into(),
            ..Config::default()
        };
        common::any_hour(&mut cfg);
        cfg.sms.gateways.push(common::kannel_gateway("bench", &sink, "u", "p", "100000/s"));
        let app = herold::app::Application::build(&cfg).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let service = app.service().clone();
        let ch = service.create_channel(&Actor::Cli, common::draft("NEWS", Transport::Sms)).await.unwrap();
        let handle = tokio::task::spawn_local(app.run_until_stopped());

        let script = dir.path().join("inbound.lua");
        std::fs::write(&script, LUA).unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("kannel:{}", common::HOOK_SECRET));
        let headers = vec![format!("Authorization: Basic {auth}")];
        let url = format!("{base}/hooks/sms/bench/inbound");
        let (_, ref_rps, _, ref_p99) = common::off_runtime({
            let url = format!("{base}/healthz");
            move || common::wrk(&url, &[], None, 16, secs)
        })
        .await;
        let written_before = common::disk_bytes_written();
        let (requests, rps, p50, p99) =
            common::off_runtime(move || common::wrk(&url, &headers, Some(&script), 16, secs)).await;
        let written = common::disk_bytes_written() - written_before;
        println!("inbound opt-ins through the Kannel webhook (wrk, 16 connections, {secs} s):");
        println!("  {rps:>7.0} opt-ins/s  p50 {p50:.2} ms  p99 {p99:.2} ms  (targets ≥ 5,000/s, p99 ≤ 20 ms)");
        println!("  reference, /healthz under the same load: {ref_rps:.0} req/s, p99 {ref_p99:.2} ms");
        // Every answered request is a subscriber (wrk may cut the last ones off unanswered).
        let counts = service.channel_counts().await.unwrap();
        let active = counts.iter().find(|c| c.channel.id == ch.id).unwrap().active_total;
        println!("  {requests} requests answered, {active} subscribers stored");
        let per_optin = written as f64 / requests.max(1) as f64 / 1024.0;
        println!("  written to disk meanwhile: {:.0} MB, {per_optin:.1} kB per opt-in", written as f64 / 1e6);
        assert!(active as u64 >= requests, "every answered opt-in is stored");
        common::report("inbound_optins_per_s", rps, "/s", Some((ref_rps, "/healthz req/s")), "≥ 5,000/s");
        common::report("inbound_disk_kb_per_optin", per_optin, "kB", None, "–");
        common::report("inbound_p99", p99, "ms", Some((ref_p99, "p99 of /healthz")), "≤ 20 ms");
        handle.abort();
    });
}
