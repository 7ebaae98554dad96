//! Webhooks to other systems, received by a local HTTP server in each test: every event once, signed
//! so that a Standard Webhooks receiver verifies it (checked here with its own HMAC, not herold's),
//! without an address or a text; an endpoint that is down gets its events when it is back; a
//! `kill -9` between an event and its delivery loses nothing; a day of failures switches an endpoint
//! off, and switching it on again delivers what waited.

use crate::common;

use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::TestApp;
use herold::domain::event::EventKind;
use herold::domain::{Clock, OptInMode, Role, Transport};
use herold::service::Actor;
use herold::service::event_hooks::NewWebhook;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use strum::VariantArray;

const NUMBER: &str = "+4915112340077";

/// One request the receiver got: its `webhook-*` headers and body.
#[derive(Debug, Clone)]
struct Got {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// A receiving system: records every request; answers 200, or holds the request without an answer
/// while `hold` is set.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
    hold: Arc<AtomicBool>,
}

impl Receiver {
    /// Listens on `addr` (`127.0.0.1:0` for any port); returns its URL.
    fn listen(&self, addr: &str) -> String {
        let me = self.clone();
        let server = HttpServer::new(move || {
            let me = me.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let me = me.clone();
                async move {
                    let h = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    me.got.lock().unwrap().push(Got {
                        id: h("webhook-id"),
                        timestamp: h("webhook-timestamp"),
                        signature: h("webhook-signature"),
                        body: String::from_utf8_lossy(&body).into(),
                    });
                    if me.hold.load(Ordering::SeqCst) {
                        std::future::pending::<()>().await;
                    }
                    HttpResponse::Ok().finish()
                }
            }))
        })
        .workers(1)
        .shutdown_timeout(0)
        .bind(addr)
        .unwrap();
        let url = format!("http://{}/herold-events", server.addrs()[0]);
        tokio::spawn(server.run());
        url
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    async fn wait_for(&self, what: &str, secs: u64, done: impl Fn(&[Got]) -> bool) -> Vec<Got> {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.got();
            if done(&got) {
                return got;
            }
            assert!(Instant::now() < until, "{what}: got {got:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Verifies a request the way the Standard Webhooks specification tells a receiver to.
fn verifies(secret: &str, g: &Got) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").expect("whsec_ prefix")).unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", g.id, g.timestamp, g.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let fresh = g.timestamp.parse::<i64>().is_ok_and(|t| (t - now()).abs() < 300);
    fresh && g.signature.split(' ').any(|s| s == expected)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn types(got: &[Got]) -> Vec<String> {
    got.iter().map(|g| serde_json::from_str::<Value>(&g.body).unwrap()["type"].as_str().unwrap().to_string()).collect()
}

/// Everything a club does in a week, seen by another system: a person joins, confirms, asks a
/// question, gets a broadcast, leaves and has their data erased. Each event arrives once, signed;
/// none names the number or the question; the question is fetched through the API with a write token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_arrives_once_signed_and_without_an_address() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::default();
    let url = receiver.listen("127.0.0.1:0");
    app.admin_client("owner1", Role::Owner).await;
    let owner = app.service.admin_by_name("owner1").await.unwrap().id;
    let scope = herold::service::Scope::Write;
    let (_, write) = app.service.create_token(&Actor::Cli, owner, "crm", scope).await.unwrap();
    let (_, read) = app.service.create_token(&Actor::Cli, owner, "site", herold::service::Scope::Read).await.unwrap();
    let api = app.client();

    let events: Vec<&str> = EventKind::VARIANTS.iter().map(|k| k.as_str()).collect();
    let r = api
        .post(app.url("/api/v1/webhooks"))
        .bearer_auth(&write)
        .json(&json!({ "url": url, "events": events }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    let hook = created["webhook"]["id"].as_i64().unwrap();
    let refused =
        api.post(app.url("/api/v1/webhooks")).bearer_auth(&write).json(&json!({ "url": "ftp://x", "events": events }));
    let refused: Value = refused.send().await.unwrap().json().await.unwrap();
    assert_eq!(refused["error"]["code"], "webhook-url-form");

    let s = &app.service;
    let draft = common::draft("NEWS", OptInMode::Double, &[Transport::Sandbox]);
    let ch = s.create_channel(&Actor::Cli, draft).await.unwrap();
    let say = |t: &str| common::sandbox_message(NUMBER, t);
    s.receive(say("START NEWS")).await.unwrap();
    s.receive(say("JA")).await.unwrap();
    s.receive(say("Wann ist das nächste Training?")).await.unwrap();
    let compose = common::compose_now(ch.id, "Training fällt heute aus", "hooks");
    let (b, _) = s.create_broadcast(&Actor::Cli, compose).await.unwrap();
    receiver.wait_for("the broadcast finished", 20, |g| types(g).contains(&"broadcast.finished".into())).await;
    // The question itself, as the other system fetches it: only with a write token.
    let got = receiver.wait_for("the inbox event", 20, |g| types(g).contains(&"inbox.message".into())).await;
    let asked =
        got.iter().map(|g| serde_json::from_str::<Value>(&g.body).unwrap()).find(|v| v["type"] == "inbox.message");
    let message = asked.unwrap()["data"]["message"].as_i64().unwrap();
    let path = app.url(&format!("/api/v1/inbox/{message}"));
    assert_eq!(api.get(&path).bearer_auth(&read).send().await.unwrap().status(), 403);
    let m: Value = api.get(&path).bearer_auth(&write).send().await.unwrap().json().await.unwrap();
    assert_eq!(m["text"], "Wann ist das nächste Training?", "{m}");
    s.receive(say("STOP")).await.unwrap();
    let id = s.find_subscriber(NUMBER).await.unwrap().expect("known");
    s.erase_subscriber(&Actor::Cli, id).await.unwrap();
    let gone = api.get(&path).bearer_auth(&write).send().await.unwrap();
    assert_eq!(gone.status(), 404, "erased with its subscriber");

    let got = receiver.wait_for("every event", 20, |g| g.len() >= 6).await;
    tokio::time::sleep(Duration::from_secs(2)).await; // nothing more comes
    let got_later = receiver.got();
    assert_eq!(got_later.len(), got.len(), "each event once: {got_later:?}");
    let mut sorted = types(&got);
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "broadcast.finished",
            "inbox.message",
            "subscriber.confirmed",
            "subscriber.erased",
            "subscriber.joined",
            "subscriber.left"
        ]
    );
    let ids: std::collections::HashSet<_> = got.iter().map(|g| g.id.clone()).collect();
    assert_eq!(ids.len(), got.len(), "every message has its own webhook-id");
    for g in &got {
        assert!(verifies(&secret, g), "the signature verifies: {g:?}");
        assert!(!verifies("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", g), "and only with its secret");
        for private in ["15112340077", "Training"] {
            assert!(!g.body.contains(private), "no address or text in {}", g.body);
        }
    }
    let by_type: HashMap<String, Value> = got
        .iter()
        .map(|g| serde_json::from_str::<Value>(&g.body).unwrap())
        .map(|v| (v["type"].as_str().unwrap().into(), v))
        .collect();
    assert_eq!(by_type["subscriber.confirmed"]["data"]["subscriber"], id.to_string());
    assert_eq!(by_type["subscriber.confirmed"]["data"]["channel"], ch.id.0);
    assert_eq!(by_type["subscriber.left"]["data"]["cause"], "optout");
    let finished = &by_type["broadcast.finished"]["data"];
    assert_eq!((finished["broadcast"].as_i64(), finished["sent"].as_i64()), (Some(b.id.0), Some(1)));

    // The delivery log says each was delivered at the first attempt.
    let log: Value = api
        .get(app.url(&format!("/api/v1/webhooks/{hook}")))
        .bearer_auth(&write)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lines = log["deliveries"].as_array().unwrap();
    assert_eq!(lines.len(), 6, "{log}");
    assert!(lines.iter().all(|l| l["delivered"] == true && l["attempts"] == 1), "{log}");
}

/// The receiving system is down when the events happen and comes up a little later: it gets each
/// of them then, with the same id, and the log shows the failed attempt with its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_is_down_gets_its_events_when_it_is_back() {
    let app = TestApp::spawn().await;
    let addr = format!("127.0.0.1:{}", common::kannel::free_port());
    let url = format!("http://{addr}/herold-events");
    let new = NewWebhook { url, events: vec![EventKind::SubscriberConfirmed] };
    let (hook, secret) = app.service.create_webhook(&Actor::Cli, new).await.unwrap();
    let ch = app
        .service
        .create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sandbox]))
        .await
        .unwrap();
    app.service.receive(common::sandbox_message(NUMBER, "START NEWS")).await.unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let failed = loop {
        let (_, log) = app.service.webhook(hook.id, 10).await.unwrap();
        if log.first().is_some_and(|l| l.attempts >= 1 && l.last_error.is_some()) {
            break log[0].clone();
        }
        assert!(Instant::now() < until, "no failed attempt: {log:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed.last_error, Some(herold::domain::Reason::EndpointUnreachable));
    assert!(!failed.delivered);

    let receiver = Receiver::default();
    receiver.listen(&addr);
    let got = receiver.wait_for("the event after the endpoint came back", 40, |g| !g.is_empty()).await;
    assert_eq!(got[0].id, format!("msg_{}", failed.id));
    assert!(verifies(&secret, &got[0]));
    let v: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!((v["type"].as_str(), v["data"]["channel"].as_i64()), (Some("subscriber.confirmed"), Some(ch.id.0)));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.got().len(), 1, "once");
    let (endpoint, log) = app.service.webhook(hook.id, 10).await.unwrap();
    assert!(log[0].delivered && log[0].attempts >= 2, "{log:?}");
    assert_eq!(endpoint.failing_since, None, "a delivery ends the failing spell");
}

fn start(dir: &std::path::Path) -> Child {
    let mut c = common::herold_command(dir);
    c.args(["--data-dir", "data", "--listen", "127.0.0.1:0", "--log", "warn", "serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c.spawn().expect("start herold")
}

/// The real binary is killed with `kill -9` while the receiving system holds its request without an
/// answer: after a restart the event comes again (same id, signed), is taken, and is not sent a
/// third time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_between_an_event_and_its_delivery_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::default();
    receiver.hold.store(true, Ordering::SeqCst);
    let url = receiver.listen("127.0.0.1:0");
    let secret = {
        let s = common::open_service(dir.path());
        let new = NewWebhook { url, events: vec![EventKind::SubscriberConfirmed] };
        let (_, secret) = s.create_webhook(&Actor::Cli, new).await.unwrap();
        let ch = s
            .create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sandbox]))
            .await
            .unwrap();
        common::subscriber(&s, Transport::Sandbox, NUMBER, ch.id).await;
        secret.to_string()
    };
    let mut herold = start(dir.path());
    let held = receiver.wait_for("the first attempt", 30, |g| !g.is_empty()).await;
    herold.kill().unwrap(); // SIGKILL, with the request unanswered
    herold.wait().unwrap();

    receiver.hold.store(false, Ordering::SeqCst);
    let mut herold = start(dir.path());
    let got = receiver.wait_for("the event after the restart", 30, |g| g.len() >= 2).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = receiver.got();
    herold.kill().unwrap();
    herold.wait().unwrap();
    assert_eq!(after.len(), 2, "sent again once, then taken: {after:?}");
    assert_eq!(got[1].id, held[0].id, "the same webhook-id, so a receiver can drop a repeat");
    assert_eq!(got[1].body, held[0].body);
    assert!(verifies(&secret, &got[1]));
    let c = rusqlite::Connection::open(dir.path().join("data/herold.sqlite")).unwrap();
    let state: String = c.query_row("SELECT state FROM webhook_deliveries", [], |r| r.get(0)).unwrap();
    assert_eq!(state, "delivered");
}

/// An endpoint that takes nothing for a day is switched off (audited, the dashboard says so); its
/// events wait, and switching it on again delivers them. The clock is the test's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_failures_switches_an_endpoint_off_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(herold::domain::clock::ManualClock::new(now()));
    let s = common::open_service_at(dir.path(), clock.clone());
    let addr = format!("127.0.0.1:{}", common::kannel::free_port());
    let new = NewWebhook { url: format!("http://{addr}/in"), events: vec![EventKind::SubscriberConfirmed] };
    let (hook, _) = s.create_webhook(&Actor::Cli, new).await.unwrap();
    let ch =
        s.create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sandbox])).await.unwrap();
    common::subscriber(&s, Transport::Sandbox, NUMBER, ch.id).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(herold::worker::event_hooks::run(s.clone(), stopped));

    // Waits until the `n`-th attempt failed and was recorded (its time is the clock's now).
    let failed_attempt = |n: i64| {
        let (s, at) = (s.clone(), clock.now());
        async move {
            let until = Instant::now() + Duration::from_secs(10);
            loop {
                let line = s.webhook(hook.id, 1).await.unwrap().1.remove(0);
                if line.attempts >= n && line.last_attempt_at == Some(at) {
                    assert_eq!(line.attempts, n);
                    return;
                }
                assert!(Instant::now() < until, "no failed attempt {n}: {line:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    failed_attempt(1).await;
    clock.advance(3600); // an hour later: tried again, still on
    failed_attempt(2).await;
    assert!(s.webhook(hook.id, 1).await.unwrap().0.enabled);
    clock.advance(23 * 3600 + 60); // a day after the first failure
    failed_attempt(3).await;
    let (endpoint, _) = s.webhook(hook.id, 1).await.unwrap();
    assert!(!endpoint.enabled && endpoint.disabled_at.is_some(), "{endpoint:?}");
    assert_eq!(endpoint.queued, 1, "the event waits");
    let (audit, _) = s.audit_log(10, 0).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "webhook_disabled" && a.actor == "system"), "{audit:?}");
    clock.advance(7200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(s.webhook(hook.id, 1).await.unwrap().1[0].attempts, 3, "a switched-off endpoint is not tried");

    let receiver = Receiver::default();
    receiver.listen(&addr);
    s.enable_webhook(&Actor::Cli, hook.id).await.unwrap();
    receiver.wait_for("the waiting event", 10, |g| g.len() == 1).await;
    let _ = stop.send(true);
    worker.await.unwrap();
}
