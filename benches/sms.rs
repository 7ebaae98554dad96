//! Prints the delivery rate through herold's HTTP SMS path (worker → Kannel gateway client) against a
//! loopback sink that answers like Kannel's sendsms, beside a plain HTTP client sending the same
//! requests to the same sink in the same run (target: herold ≥ 50 % of the plain client).
//! Then end to end through a real Kannel (bearerbox, smsbox, fakesmsc as the phone; installed by
//! `scripts/setup-peers`): messages per second from creating the broadcast to the last one arriving.
//! Run: `cargo bench --bench sms` (`HEROLD_BENCH_QUICK=1` for 10× fewer messages).

mod common;

#[path = "../tests/integration/common/kannel.rs"]
mod kannel;

use std::time::Instant;

use futures_util::StreamExt;
use herold::config::Config;
use herold::domain::Transport;
use herold::service::Actor;
use herold::service::subscribers::AddSubscriber;
use herold::worker::{Worker, WorkerSettings};

const CONCURRENCY: usize = 32;

fn draft(keyword: &str) -> herold::domain::ChannelDraft {
    common::draft(keyword, Transport::Sms)
}

fn compose(channel: herold::domain::ChannelId, key: &str) -> herold::service::broadcasts::Compose {
    common::compose(channel, key, "Probealarm")
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench --bench sms`");
        return;
    }
    let n: usize = if std::env::var("HEROLD_BENCH_QUICK").is_ok() { 2_000 } else { 20_000 };
    let rt = herold::tuning::runtime().unwrap();
    common::block_on_main(&rt, async move {
        let sink = common::kannel_sink();

        // Reference: a plain client sending the same kind of request, CONCURRENCY at a time.
        let http = reqwest::Client::new();
        let t = Instant::now();
        futures_util::stream::iter(0..n)
            .map(|i| {
                let (http, sink) = (&http, &sink);
                async move {
                    let to = format!("+49151{:08}", 10_000_000 + i);
                    let r = http
                        .get(format!("{sink}/cgi-bin/sendsms"))
                        .query(&[
                            ("username", "u"),
                            ("password", "p"),
                            ("to", &to),
                            ("text", "Probealarm"),
                            ("coding", "0"),
                            ("charset", "UTF-8"),
                            ("dlr-mask", "31"),
                            ("dlr-url", "http://kannel:x@127.0.0.1:1/hooks/sms/k/dlr?id=1&type=%d"),
                        ])
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 202);
                    r.text().await.unwrap();
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        let plain = n as f64 / t.elapsed().as_secs_f64();

        // herold: n SMS subscribers, one broadcast, the worker through the Kannel client to the sink;
        // without quotas and with quotas that never hold (counted for every send), two runs each.
        let mut off = Vec::new();
        let mut on = Vec::new();
        for quotas in [false, true, false, true] {
            let rate = through_worker(&sink, n, quotas).await;
            if quotas { on.push(rate) } else { off.push(rate) }
        }
        let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        let (herold, with_quotas) = (best(&off), best(&on));
        let kannel_rate = through_kannel(n / 10).await;
        println!("HTTP SMS to a loopback Kannel-style sink, {n} messages, {CONCURRENCY} in flight (best of two runs):");
        println!("  plain reqwest client:          {plain:>8.0} messages/s (reference)");
        println!(
            "  herold (outbox, worker, Kannel client): {herold:>8.0} messages/s = {:.0} % of the plain client (target ≥ 50 %)",
            100.0 * herold / plain
        );
        println!(
            "  herold with gateway quotas:     {with_quotas:>8.0} messages/s = {:+.1} % against without (target within 10 %; runs {off:.0?} without, {on:.0?} with)",
            100.0 * (with_quotas / herold - 1.0)
        );
        println!("end to end through Kannel 1.4.5 with fakesmsc, {} messages: {kannel_rate:>6.0} messages/s", n / 10);
        common::report(
            "sms_http_per_s",
            herold,
            "/s",
            Some((plain, "plain reqwest client /s")),
            "≥ 50 % of the plain client",
        );
        common::report(
            "sms_http_quotas_per_s",
            with_quotas,
            "/s",
            Some((herold, "without quotas /s")),
            "within 10 % of without",
        );
        common::report("sms_kannel_e2e_per_s", kannel_rate, "/s", None, "");
    });
}

/// herold sending one broadcast to `n` SMS subscribers through the worker and the Kannel client to
/// `sink`, with gateway quotas that never hold when `quotas`: messages per second.
async fn through_worker(sink: &str, n: usize, quotas: bool) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let mut gateway = common::kannel_gateway("kannel", sink, "u", "p", "1000000/s");
    if quotas {
        (gateway.parts_per_day, gateway.recipients_per_month) = (Some(100_000_000), Some(100_000_000));
    }
    let mut cfg = Config { data_dir: dir.path().join("data"), log: "warn".into(), ..Config::default() };
    common::any_hour(&mut cfg);
    cfg.sms.gateways.push(gateway);
    let service = herold::app::open_service(&cfg, true).unwrap();
    let ch = service.create_channel(&herold::service::Actor::Cli, draft("BENCH")).await.unwrap();
    add_sms_subscribers(&service, ch.id, 10_000_000, n).await;
    let book = herold::app::quota_book(&cfg, service.clock()).unwrap();
    service.set_quotas(book.clone()).await.unwrap();
    let built = herold::app::transports(&cfg, "http://127.0.0.1:1", book).unwrap();
    let settings = WorkerSettings {
        batch: 500,
        lease: std::time::Duration::from_secs(60),
        max_attempts: 8,
        concurrency: CONCURRENCY,
    };
    let mut worker = Worker::new(service.clone(), built.senders, settings);
    let t = Instant::now();
    let (b, _) = service.create_broadcast(&Actor::Cli, compose(ch.id, "bench")).await.unwrap();
    while worker.run_once().await.unwrap() > 0 {}
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(service.broadcast(b.id).await.unwrap().sent, n as i64);
    if quotas {
        assert_eq!(service.quotas_left()[0].1.parts_used as usize, n, "every send counted");
    }
    n as f64 / secs
}

/// A running herold with a Kannel gateway, `n` SMS subscribers, one broadcast: messages per second
/// until the fake phone has all of them.
async fn through_kannel(n: usize) -> f64 {
    let sendsms = kannel::free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config {
        data_dir: dir.path().join("data"),
        listen: "127.0.0.1:0".into(),
        log: "warn".into(),
        ..Config::default()
    };
    common::any_hour(&mut cfg);
    cfg.sms.gateways.push(common::kannel_gateway(
        "kannel",
        &format!("http://127.0.0.1:{sendsms}"),
        "broadcaster",
        "s3cret",
        "100000/s",
    ));
    let app = herold::app::Application::build(&cfg).await.unwrap();
    let service = app.service().clone();
    tokio::task::spawn_local(app.run_until_stopped());
    let ch = service.create_channel(&herold::service::Actor::Cli, draft("KANNEL")).await.unwrap();
    add_sms_subscribers(&service, ch.id, 20_000_000, n).await;
    let setup = service.gateway_setup();
    let config = setup[0].1.config();
    let k = kannel::Kannel::start(sendsms, &config[config.find("group = sms-service").unwrap()..]);
    let phone = k.phone("+4915100000000", None);
    let compose = compose(ch.id, "kannel");
    let t = Instant::now();
    service.create_broadcast(&Actor::Cli, compose).await.unwrap();
    phone.wait_for(n);
    n as f64 / t.elapsed().as_secs_f64()
}

/// `n` SMS subscribers of `channel`, numbered from +49151 `first`.
async fn add_sms_subscribers(
    service: &herold::service::Service,
    channel: herold::domain::ChannelId,
    first: usize,
    n: usize,
) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(2000) {
        let reqs = chunk
            .iter()
            .map(|i| AddSubscriber {
                transport: Transport::Sms,
                address: format!("+49151{:08}", first + i),
                language: "de".into(),
                channels: vec![channel],
                consent_note: "bench".into(),
            })
            .collect();
        service.add_subscribers(&Actor::Cli, reqs).await.unwrap();
    }
}
