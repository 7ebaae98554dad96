//! Prints how long a person waits for herold's answer while a broadcast drains through a slow route:
//! `reply_latency_p99_while_draining` (target ≤ 2 s) through the sandbox and through a Kannel-kind
//! gateway (a loopback sink that answers like Kannel's sendsms), each paced at 5 messages a second.
//! A broadcast to 5,000 is under way; 50 people write `START` 200 ms apart; the latency is from
//! `receive` to the answer leaving the gateway client. Reference: the interval between two sends at
//! the route's pace (the least a row waits for its turn).
//! Run: `cargo bench --bench replies` (`HEROLD_BENCH_QUICK=1` for 20 people).

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use herold::config::Config;
use herold::domain::Transport as Kind;
use herold::service::Actor;
use herold::service::conversation::Inbound;
use herold::transport::{OutboundMessage, Receipt, SendError, Transport};
use herold::worker::{Worker, WorkerSettings};

const MEMBERS: usize = 5_000;
const RATE: u32 = 5;

/// The route as herold built it, with the moment each message left it.
struct Stopwatch {
    inner: Arc<dyn Transport>,
    left: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Transport for Stopwatch {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            let r = self.inner.send(msg).await;
            self.left.lock().unwrap().entry(msg.to.as_str().to_string()).or_insert_with(Instant::now);
            r
        })
    }
    fn segments_per_second(&self) -> Option<f64> {
        self.inner.segments_per_second()
    }
    fn reserve(&self, msg: &OutboundMessage) -> Result<herold::transport::Slot, herold::transport::Hold> {
        self.inner.reserve(msg)
    }
}

/// The people who write during the broadcast (the members are +49151…).
fn newcomer(i: usize) -> String {
    format!("+49152{:08}", 10_000_000 + i)
}

/// One run: returns the answers' latencies, sorted.
async fn run(kind: Kind, people: usize) -> Vec<Duration> {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config { data_dir: dir.path().join("data"), log: "warn".into(), ..Config::default() };
    common::any_hour(&mut cfg);
    cfg.delivery.sandbox_per_second = RATE;
    if kind == Kind::Sms {
        let sink = common::kannel_sink();
        cfg.sms.gateways.push(common::kannel_gateway("kannel", &sink, "u", "p", &format!("{RATE}/s")));
    }
    let service = herold::app::open_service(&cfg, true).unwrap();
    let ch = service.create_channel(&Actor::Cli, common::draft("NEWS", kind)).await.unwrap();
    common::add_subscribers(&service, kind, "+49151", ch.id, MEMBERS).await;
    let built =
        herold::app::transports(&cfg, "http://127.0.0.1:1", herold::app::quota_book(&cfg, service.clock()).unwrap())
            .unwrap();
    let left = Arc::new(Mutex::new(HashMap::new()));
    let route: Arc<dyn Transport> = Arc::new(Stopwatch { inner: built.senders[&kind].clone(), left: left.clone() });
    let settings: WorkerSettings = herold::app::worker_settings(&cfg);
    let worker = Worker::new(service.clone(), HashMap::from([(kind, route)]), settings);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(worker.run(stopped));
    service.create_broadcast(&Actor::Cli, common::compose(ch.id, "drain", "Probealarm")).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut arrived = Vec::new();
    for i in 0..people {
        let from = newcomer(i);
        arrived.push((from.clone(), Instant::now()));
        let msg = Inbound { transport: kind, from, text: "START news".into(), gateway_message_id: None, room: None };
        service.receive(msg).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let until = Instant::now() + Duration::from_secs(60);
    let mut latencies = Vec::new();
    for (from, at) in arrived {
        loop {
            if let Some(t) = left.lock().unwrap().get(&from) {
                latencies.push(t.duration_since(at));
                break;
            }
            assert!(Instant::now() < until, "no answer within a minute");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    stop.send(true).unwrap();
    task.await.unwrap();
    latencies.sort();
    latencies
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench --bench replies`");
        return;
    }
    let people = if std::env::var("HEROLD_BENCH_QUICK").is_ok() { 20 } else { 50 };
    let rt = herold::tuning::runtime().unwrap();
    common::block_on_main(&rt, async move {
        let reference = 1.0 / f64::from(RATE);
        for (kind, label) in [(Kind::Sandbox, "sandbox"), (Kind::Sms, "kannel")] {
            let l = run(kind, people).await;
            let p99 = l[(l.len() * 99).div_ceil(100) - 1].as_secs_f64();
            let median = l[l.len() / 2].as_secs_f64();
            println!(
                "replies while a broadcast to {MEMBERS} drains at {RATE}/s through {label}: {people} answers, \
                 median {median:.3} s, p99 {p99:.3} s, max {:.3} s (one pace interval: {reference:.3} s)",
                l[l.len() - 1].as_secs_f64()
            );
            common::report(
                &format!("reply_latency_p99_while_draining.{label}"),
                p99,
                "s",
                Some((reference, "one pace interval")),
                "≤ 2 s",
            );
        }
    });
}
