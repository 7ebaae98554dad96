//! Conversation and delivery end to end: the sandbox phone through HTTP on the real application
//! (with its worker running), and the outbox driven step by step through the worker.

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, channel, open_service, test_numbers};
use herold::domain::{ChannelDraft, ChannelKind, OptInMode, Reason, Role, Transport};
use herold::service::Actor;
use herold::service::broadcasts::Compose;
use herold::service::conversation::{Inbound, Outcome};
use herold::transport::sandbox::Sandbox;
use herold::worker::{Worker, WorkerSettings};

/// Polls `path` until its body contains `needle` (the worker delivers in the background).
async fn wait_for(app: &TestApp, c: &reqwest::Client, path: &str, needle: &str) -> String {
    let mut body = String::new();
    for _ in 0..100 {
        body = c.get(app.url(path)).send().await.unwrap().text().await.unwrap();
        if body.contains(needle) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never showed {needle:?}; last body:\n{body}");
}

async fn type_on(app: &TestApp, c: &reqwest::Client, csrf: &str, number: &str, text: &str) -> String {
    let r =
        c.post(app.url("/sandbox")).form(&[("csrf", csrf), ("number", number), ("text", text)]).send().await.unwrap();
    assert_eq!(r.status(), 303, "typing {text:?}");
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    loc.split("phone=").nth(1).unwrap().to_string()
}

#[tokio::test]
async fn subscribe_confirm_broadcast_stop_and_nothing_more_through_http() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.admin_client("olga", Role::Owner).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Vereinsnews"),
        ("keyword", "news"),
        ("kind", "broadcast"),
        ("opt_in", "double"),
        ("t_sandbox", "on"),
        ("freq_max", "2"),
        ("freq_period", "week"),
    ];
    assert_eq!(c.post(app.url("/channels")).form(&form).send().await.unwrap().status(), 303);
    let number = &test_numbers(1)[0];

    // Opt in by message: a confirmation request comes back, nothing is active yet.
    let phone = type_on(&app, &c, &csrf, number, "Start news.").await;
    let screen = format!("/sandbox/screen?phone={phone}");
    wait_for(&app, &c, &screen, "Antworte JA").await;
    let dash = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(dash.contains("<strong>0</strong> active subscriptions · <strong>1</strong> waiting"), "{dash}");

    // Confirm with JA: welcome with the declared frequency and how to leave.
    type_on(&app, &c, &csrf, number, "Ja").await;
    let s = wait_for(&app, &c, &screen, "Willkommen bei Vereinsnews").await;
    assert!(s.contains("höchstens 2 pro Woche") && s.contains("STOP NEWS"), "{s}");

    // A broadcast; the same form submitted twice sends once.
    let ch = app.service.channels().await.unwrap().remove(0);
    let key = "compose-form-1";
    let send = [
        ("csrf", csrf.as_str()),
        ("idempotency_key", key),
        ("channel", &ch.id.to_string()),
        ("kind", "broadcast"),
        ("body", "Grüße! Sommerfest am Samstag um 15 Uhr."),
    ];
    let first = c.post(app.url("/broadcasts")).form(&send).send().await.unwrap();
    assert_eq!(first.status(), 303);
    let again = c.post(app.url("/broadcasts")).form(&send).send().await.unwrap();
    assert_eq!(again.headers()["location"], first.headers()["location"], "a double submit is one broadcast");
    let page = first.headers()["location"].to_str().unwrap().to_string();
    let progress = wait_for(&app, &c, &format!("{page}/progress"), "100 %").await;
    assert!(progress.contains("sent 1 of 1"), "{progress}");
    wait_for(&app, &c, &screen, "Sommerfest am Samstag").await;
    assert_eq!(app.service.broadcasts(10).await.unwrap().len(), 1);

    // STOP: the confirmation is the last message.
    type_on(&app, &c, &csrf, number, "STOP").await;
    wait_for(&app, &c, &screen, "Abgemeldet von Vereinsnews").await;
    let send2 = [
        ("csrf", csrf.as_str()),
        ("idempotency_key", "compose-form-2"),
        ("channel", &ch.id.to_string()),
        ("kind", "broadcast"),
        ("body", "Nachricht nach dem STOP"),
    ];
    let r = c.post(app.url("/broadcasts")).form(&send2).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let b2 = r.headers()["location"].to_str().unwrap().to_string();
    let p2 = wait_for(&app, &c, &format!("{b2}/progress"), "done").await;
    assert!(p2.contains("sent 0 of 0"), "{p2}");
    // The declared frequency (2 per week) is now used up: a third needs an owner's reason.
    let send3 = [
        ("csrf", csrf.as_str()),
        ("idempotency_key", "compose-form-3"),
        ("channel", &ch.id.to_string()),
        ("kind", "broadcast"),
        ("body", "Noch eine"),
    ];
    let r = c.post(app.url("/broadcasts")).form(&send3).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Only an owner can send anyway"));
    // An editor's reason is refused; an owner's is accepted and recorded in the audit log.
    let (editor, editor_csrf) = app.admin_client("emil", Role::Editor).await;
    let mut with_reason = send3.to_vec();
    with_reason.push(("override_reason", "Spielabsage, alle müssen es wissen"));
    with_reason[0] = ("csrf", editor_csrf.as_str());
    let r = editor.post(app.url("/broadcasts")).form(&with_reason).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("only an owner may send over"));
    with_reason[0] = ("csrf", csrf.as_str());
    let r = c.post(app.url("/broadcasts")).form(&with_reason).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (audit, _) = app.service.audit_log(5, 0).await.unwrap();
    assert!(audit.iter().any(|a| a.detail.contains("Spielabsage")), "{audit:?}");
    let overridden = c.get(app.url(r.headers()["location"].to_str().unwrap())).send().await.unwrap();
    assert!(overridden.text().await.unwrap().contains("override"), "the broadcast page says it went over");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = c.get(app.url(&screen)).send().await.unwrap().text().await.unwrap();
    assert!(!s.contains("nach dem STOP"));
    let last_out = s.rfind("bubble out").unwrap();
    assert!(s[last_out..].contains("Abgemeldet"), "the goodbye is the last message herold sent");

    // The ledger holds each step with the exact text, and its chain is intact.
    let id = app.service.find_subscriber(number).await.unwrap().unwrap();
    let d = app.service.subscriber_detail(id).await.unwrap();
    let steps: Vec<(&str, Option<&str>)> =
        d.consent.iter().map(|e| (e.kind.as_str(), e.inbound_text.as_deref())).collect();
    assert_eq!(
        steps,
        [("optin_requested", Some("Start news.")), ("optin_confirmed", Some("Ja")), ("optout", Some("STOP"))]
    );
    let report = herold::service::ops::verify(app.service.store().paths()).unwrap();
    assert!(report.ok() && report.ledger_events == 3, "{report:?}");

    // Opting in again later is a new, separate consent.
    type_on(&app, &c, &csrf, number, "START NEWS").await;
    let d = app.service.subscriber_detail(id).await.unwrap();
    assert_eq!(d.subscriptions.len(), 2);
    assert_eq!(d.consent.last().unwrap().kind, "optin_requested");
}

#[tokio::test]
async fn other_texts_land_in_the_inbox_as_text() {
    let app = TestApp::spawn().await;
    let (c, csrf) = app.admin_client("paul", Role::Editor).await;
    let number = &test_numbers(2)[1];
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)> Wann ist das Treffen?";
    type_on(&app, &c, &csrf, number, evil).await;
    let (threads, _) = app.service.threads(herold::service::threads::Filter::Open, 10, 0).await.unwrap();
    let inbox = c.get(app.url(&format!("/inbox/{}", threads[0].id))).send().await.unwrap().text().await.unwrap();
    assert!(inbox.contains("Wann ist das Treffen?"));
    assert!(!inbox.contains("<script>alert") && !inbox.contains("<img src=x"));
    assert!(inbox.contains("&lt;script&gt;") || inbox.contains("&#60;script&#62;"));
    // A phone number in the sandbox form is refused with a reason, not a panic.
    let r = c
        .post(app.url("/sandbox"))
        .form(&[("csrf", csrf.as_str()), ("number", "12"), ("text", "hi")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

fn sandbox_worker(service: &herold::service::Service, batch: usize) -> Worker {
    let mut t: HashMap<Transport, Arc<dyn herold::transport::Transport>> = HashMap::new();
    t.insert(Transport::Sandbox, Arc::new(Sandbox::new(0)));
    Worker::new(
        service.clone(),
        t,
        WorkerSettings { batch, lease: std::time::Duration::from_secs(60), max_attempts: 3, concurrency: 8 },
    )
}

/// Leases one batch, sends it and records the outcomes.
async fn one_batch(w: &mut Worker) {
    w.run_once().await.unwrap();
}

async fn drain(w: &mut Worker) -> usize {
    let mut n = 0;
    loop {
        let k = w.run_once().await.unwrap();
        if k == 0 {
            return n;
        }
        n += k;
    }
}

fn inbound(number: &str, text: &str, gateway: Option<&str>) -> Inbound {
    Inbound {
        transport: Transport::Sandbox,
        from: number.into(),
        text: text.into(),
        gateway_message_id: gateway.map(Into::into),
        room: None,
    }
}

#[tokio::test]
async fn a_stop_mid_broadcast_prevents_every_later_send() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_service(dir.path());
    let ch = s
        .create_channel(&herold::service::Actor::Cli, common::draft("ALARM", OptInMode::Single, &[Transport::Sandbox]))
        .await
        .unwrap();
    let numbers = test_numbers(10);
    for n in &numbers {
        assert_eq!(s.receive(inbound(n, "START", None)).await.unwrap().outcome, Outcome::Subscribed);
    }
    let mut w = sandbox_worker(&s, 4);
    drain(&mut w).await; // the welcomes
    let compose = Compose {
        kind: ChannelKind::Broadcast,
        title: String::new(),
        body: "Wasser abgestellt 10-12 Uhr".into(),
        channels: vec![ch.id],
        send_at: None,
        deadline: None,
        override_reason: None,
        idempotency_key: "k1".into(),
        translation: None,
    };
    let (b, created) = s.create_broadcast(&Actor::Cli, compose.clone()).await.unwrap();
    assert!(created && b.total == 10);
    let (again, created) = s.create_broadcast(&Actor::Cli, compose).await.unwrap();
    assert!(!created && again.id == b.id, "the idempotency key makes one broadcast");
    assert_eq!(w.run_once().await.unwrap(), 4); // 4 of 10 sent
    // A subscriber whose delivery is still queued leaves before their turn.
    let queued: i64 = s
        .store()
        .conn()
        .unwrap()
        .query_row(
            "SELECT subscriber_id FROM deliveries WHERE broadcast_id = ?1 AND state = 'queued' LIMIT 1",
            [b.id],
            |r| r.get(0),
        )
        .unwrap();
    let mut last = None;
    for n in &numbers {
        if s.find_subscriber(n).await.unwrap().unwrap().0 == queued {
            last = Some(n.clone());
        }
    }
    let last = &last.unwrap();
    assert_eq!(s.receive(inbound(last, "stop", Some("gw-1"))).await.unwrap().outcome, Outcome::OptedOut);
    // A gateway retry of the same STOP is recognised and changes nothing.
    assert_eq!(s.receive(inbound(last, "stop", Some("gw-1"))).await.unwrap().outcome, Outcome::Duplicate);
    drain(&mut w).await;
    let p = s.progress(b.id).await.unwrap();
    assert_eq!(
        (p.broadcast.state.as_str(), p.broadcast.sent, p.broadcast.cancelled, p.broadcast.total),
        ("done", 9, 1, 10)
    );
    let id = s.find_subscriber(last).await.unwrap().unwrap();
    let screen = s.sandbox_screen(id).await.unwrap();
    let out: Vec<&str> = screen.iter().filter(|l| !l.inbound).map(|l| l.text.as_str()).collect();
    assert!(out.last().unwrap().starts_with("Abgemeldet"), "{out:?}");
    assert!(!out.iter().any(|t| t.contains("Wasser")), "{out:?}");
    let d = s.subscriber_detail(id).await.unwrap();
    assert_eq!(d.consent.iter().filter(|e| e.kind == "optout").count(), 1, "one ledger event for a retried STOP");
}

#[tokio::test]
async fn help_mydata_unknown_channels_and_pending_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_service(dir.path());
    channel(&s, "NEWS").await;
    channel(&s, "SPORT").await;
    let n = &test_numbers(1)[0];
    let mut w = sandbox_worker(&s, 50);
    let r = s.receive(inbound(n, "START", None)).await.unwrap();
    assert_eq!(r.outcome, Outcome::ChooseChannel, "two channels: which one?");
    assert_eq!(s.receive(inbound(n, "START unknownchannel", None)).await.unwrap().outcome, Outcome::ChooseChannel);
    assert_eq!(s.receive(inbound(n, "JOIN sport", None)).await.unwrap().outcome, Outcome::Pending);
    assert_eq!(s.receive(inbound(n, "HELP", None)).await.unwrap().outcome, Outcome::Help);
    assert_eq!(s.receive(inbound(n, "MYDATA", None)).await.unwrap().outcome, Outcome::MyData);
    assert_eq!(s.receive(inbound(n, "", None)).await.unwrap().outcome, Outcome::Inbox);
    assert_eq!(s.receive(inbound(n, &"x".repeat(10_000), None)).await.unwrap().outcome, Outcome::Inbox);
    drain(&mut w).await;
    let id = s.find_subscriber(n).await.unwrap().unwrap();
    let out: Vec<String> =
        s.sandbox_screen(id).await.unwrap().into_iter().filter(|l| !l.inbound).map(|l| l.text).collect();
    assert!(out[0].contains("START NEWS") && out[0].contains("START SPORT"), "{out:?}");
    assert!(out[2].contains("Reply YES"), "JOIN is English: {out:?}");
    assert!(out[3].starts_with("herold: START"), "{out:?}");
    assert!(out[4].contains("Stored since") && out[4].contains("SPORT channel"), "{out:?}");
    assert!(out[4].contains(" CET") || out[4].contains(" CEST"), "the time in the installation's zone: {out:?}");
    assert_eq!(s.inbox(10, 0).await.unwrap().1, 2);
    // Nothing expires before its time.
    assert_eq!(s.expire_pending().await.unwrap(), 0);
}

#[tokio::test]
async fn expired_leases_return_to_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_service(dir.path());
    let n = &test_numbers(1)[0];
    channel(&s, "NEWS").await;
    s.receive(inbound(n, "START NEWS", None)).await.unwrap();
    // A worker leases the reply and dies before recording anything.
    let leased = s.lease_jobs(Transport::Sandbox, 10, Duration::from_secs(1)).await.unwrap();
    assert_eq!(leased.len(), 1);
    assert!(
        s.lease_jobs(Transport::Sandbox, 10, Duration::from_secs(1)).await.unwrap().is_empty(),
        "a leased row is not leased twice"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    s.chores().await.unwrap();
    let again = s.lease_jobs(Transport::Sandbox, 10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].claimed.id, leased[0].claimed.id);
    assert_eq!(again[0].claimed.attempts, 2);
}

/// A worker slower than its lease: the rows a lane holds are not sent twice while it works (it renews
/// their leases), and an outcome reported after the lease ran out counts once — the
/// row's latest lease records it.
#[tokio::test]
async fn an_outcome_reported_after_its_lease_ran_out_is_counted_once() {
    use herold::domain::clock::ManualClock;
    use herold::store::outbox::{Claimed, Outcome as Result};
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let s = common::open_service_at(dir.path(), clock.clone());
    let news = channel(&s, "NEWS").await;
    common::import_sandbox(&s, &test_numbers(4), news.id).await;
    let (b, _) = s.create_broadcast(&Actor::Cli, common::compose_now(news.id, "Hallo", "lease")).await.unwrap();
    let sent =
        |c: Vec<Claimed>| c.into_iter().map(|c| (c, Result::Sent { gateway_id: "g".into(), usage: None })).collect();

    // Two rows: a slow worker leases them, its lease runs out, another worker leases them again and
    // reports first; the slow one's late report is dropped.
    let slow = s.claim(Transport::Sandbox, 2, Duration::from_secs(60)).await.unwrap();
    clock.advance(61);
    s.chores().await.unwrap();
    let fast = s.claim(Transport::Sandbox, 2, Duration::from_secs(60)).await.unwrap();
    assert_eq!(fast.iter().map(|c| c.id).collect::<Vec<_>>(), slow.iter().map(|c| c.id).collect::<Vec<_>>());
    s.record_outcomes(sent(fast)).await.unwrap();
    s.record_outcomes(sent(slow)).await.unwrap();
    assert_eq!(s.progress(b.id).await.unwrap().broadcast.sent, 2);

    // The other two go through a lane whose gateway holds every send until the test lets it go,
    // longer than a lease: the lane renews the leases of the rows it holds, so nobody else leases
    // them meanwhile, and each is sent once.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut t: HashMap<Transport, Arc<dyn herold::transport::Transport>> = HashMap::new();
    t.insert(Transport::Sandbox, Arc::new(Gated { gate: gate.clone(), calls: calls.clone() }));
    let settings =
        WorkerSettings { batch: 100, lease: std::time::Duration::from_secs(3), max_attempts: 3, concurrency: 4 };
    let mut w = Worker::new(s.clone(), t, settings);
    let step = tokio::spawn(async move { w.run_once().await.unwrap() });
    while calls.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    clock.advance(4); // past the lease taken at the start
    tokio::time::sleep(Duration::from_millis(1600)).await; // the lane renews every second
    s.chores().await.unwrap();
    assert_eq!(
        s.claim(Transport::Sandbox, 10, Duration::from_secs(60)).await.unwrap().len(),
        0,
        "renewed leases keep the rows with the lane"
    );
    gate.add_permits(2);
    assert_eq!(step.await.unwrap(), 2);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    let p = s.progress(b.id).await.unwrap();
    assert_eq!((p.broadcast.state.as_str(), p.broadcast.sent, p.broadcast.failed), ("done", 4, 0));
}

/// A gateway that holds each send until the test adds a permit (a slow gateway, on cue).
struct Gated {
    gate: Arc<tokio::sync::Semaphore>,
    calls: Arc<std::sync::atomic::AtomicUsize>,
}

impl herold::transport::Transport for Gated {
    fn send<'a>(
        &'a self,
        msg: &'a herold::transport::OutboundMessage,
    ) -> futures_util::future::BoxFuture<'a, Result<herold::transport::Receipt, herold::transport::SendError>> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            self.gate.acquire().await.unwrap().forget();
            Ok(herold::transport::Receipt::new(format!("g-{}", msg.delivery_id)))
        })
    }
    fn segments_per_second(&self) -> Option<f64> {
        None
    }
    fn reserve(
        &self,
        _: &herold::transport::OutboundMessage,
    ) -> Result<herold::transport::Slot, herold::transport::Hold> {
        Ok(herold::transport::Slot::default())
    }
}

/// A gateway that answers "too many requests" five times for each message, more often than the
/// attempts herold allows: nothing fails, the broadcast says it waits and until when, then all go.
#[tokio::test]
async fn a_rate_limit_defers_without_failing_and_the_broadcast_says_so() {
    use herold::domain::clock::ManualClock;
    use herold::transport::SendError;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let s = common::open_service_at(dir.path(), clock.clone());
    let news = channel(&s, "NEWS").await;
    common::import_sandbox(&s, &test_numbers(3), news.id).await;
    let (b, _) = s.create_broadcast(&Actor::Cli, common::compose_now(news.id, "Hallo", "rl")).await.unwrap();
    let tries = Arc::new(std::sync::Mutex::new(HashMap::<i64, usize>::new()));
    let seen = tries.clone();
    let mut w = scripted_worker(
        &s,
        Scripted {
            answer: Box::new(move |id| {
                let mut t = seen.lock().unwrap();
                let n = t.entry(id).or_default();
                *n += 1;
                if *n <= 5 { Err(SendError::RateLimited { retry_after: Duration::from_secs(30) }) } else { Ok(()) }
            }),
        },
    );
    for round in 0..5 {
        one_batch(&mut w).await;
        let p = s.progress(b.id).await.unwrap();
        assert_eq!((p.broadcast.state.as_str(), p.broadcast.sent, p.broadcast.failed), ("sending", 0, 0), "{round}");
        let waiting = p.waiting.expect("the page says why it waits");
        assert_eq!(waiting.reason, Reason::RateLimitedGateway);
        assert!(waiting.until > herold::domain::Clock::now(&*clock), "{waiting:?}");
        assert_eq!(w.run_once().await.unwrap(), 0, "nothing goes before the gateway's wait is over");
        clock.advance(31);
    }
    drain(&mut w).await;
    let p = s.progress(b.id).await.unwrap();
    assert_eq!((p.broadcast.state.as_str(), p.broadcast.sent, p.broadcast.failed), ("done", 3, 0));
    assert!(p.waiting.is_none());
    assert!(tries.lock().unwrap().values().all(|n| *n == 6));
}

/// A transport whose answers a test scripts: it stands in for a gateway's error replies (the real
/// gateways have their own tests against real peers).
struct Scripted {
    answer: Box<dyn Fn(i64) -> Result<(), herold::transport::SendError> + Send + Sync>,
}

impl herold::transport::Transport for Scripted {
    fn send<'a>(
        &'a self,
        msg: &'a herold::transport::OutboundMessage,
    ) -> futures_util::future::BoxFuture<'a, Result<herold::transport::Receipt, herold::transport::SendError>> {
        let r =
            (self.answer)(msg.delivery_id).map(|()| herold::transport::Receipt::new(format!("s-{}", msg.delivery_id)));
        Box::pin(async move { r })
    }
    fn segments_per_second(&self) -> Option<f64> {
        None
    }
    fn reserve(
        &self,
        _: &herold::transport::OutboundMessage,
    ) -> Result<herold::transport::Slot, herold::transport::Hold> {
        Ok(herold::transport::Slot::default())
    }
}

async fn broadcast_to_many(n: usize) -> (tempfile::TempDir, herold::service::Service, herold::domain::BroadcastId) {
    let dir = tempfile::tempdir().unwrap();
    let s = open_service(dir.path());
    let ch = channel(&s, "NEWS").await;
    common::import_sandbox(&s, &test_numbers(n), ch.id).await;
    let compose = common::compose_now(ch.id, "Hallo", "x");
    let (b, _) = s.create_broadcast(&Actor::Cli, compose).await.unwrap();
    (dir, s, b.id)
}

fn scripted_worker(s: &herold::service::Service, t: Scripted) -> Worker {
    let mut map: HashMap<Transport, Arc<dyn herold::transport::Transport>> = HashMap::new();
    map.insert(Transport::Sandbox, Arc::new(t));
    Worker::new(
        s.clone(),
        map,
        WorkerSettings { batch: 100, lease: std::time::Duration::from_secs(60), max_attempts: 3, concurrency: 4 },
    )
}

#[tokio::test]
async fn transient_errors_retry_after_the_gateways_wait_and_permanent_ones_fail() {
    use herold::transport::SendError;
    let (_dir, s, b) = broadcast_to_many(6).await;
    let tried = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let seen = tried.clone();
    let mut w = scripted_worker(
        &s,
        Scripted {
            answer: Box::new(move |id| {
                if id % 3 == 0 {
                    let gateway = "phone".to_string();
                    return Err(SendError::Permanent(Reason::GatewayRefusedMessage { gateway, detail: "404".into() }));
                }
                if seen.lock().unwrap().insert(id) {
                    let reason = Reason::GatewayAnswered { gateway: "phone".into(), status: 429 };
                    Err(SendError::Transient { reason, retry_after: Some(Duration::from_secs(1)) })
                } else {
                    Ok(())
                }
            }),
        },
    );
    one_batch(&mut w).await;
    let p = s.progress(b).await.unwrap();
    assert_eq!((p.broadcast.sent, p.broadcast.failed), (0, 2), "permanent errors fail at once");
    assert_eq!(w.run_once().await.unwrap(), 0, "nothing is retried before Retry-After");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    drain(&mut w).await;
    let p = s.progress(b).await.unwrap();
    assert_eq!((p.broadcast.state.as_str(), p.broadcast.sent, p.broadcast.failed), ("done", 4, 2));
    // The page says why, grouped: both failures under their one reason.
    let refused = Reason::GatewayRefusedMessage { gateway: "phone".into(), detail: "404".into() };
    assert_eq!(p.reasons, vec![(herold::domain::DeliveryState::Failed, refused, 2)]);
}

#[tokio::test]
async fn a_broadcast_whose_attempts_mostly_fail_pauses_itself_and_says_why() {
    use herold::transport::SendError;
    let (_dir, s, b) = broadcast_to_many(30).await;
    let mut w = scripted_worker(
        &s,
        Scripted {
            answer: Box::new(|_| {
                let reason = Reason::GatewayAnswered { gateway: "phone".into(), status: 500 };
                Err(SendError::Transient { reason, retry_after: None })
            }),
        },
    );
    one_batch(&mut w).await;
    let p = s.progress(b).await.unwrap();
    assert_eq!(p.broadcast.state, herold::domain::BroadcastState::Paused);
    let reason = p.broadcast.pause_reason.unwrap();
    assert!(
        matches!(&reason, Reason::FailingPaused { fails, total, cause }
        if fails == total && **cause == Reason::GatewayAnswered { gateway: "phone".into(), status: 500 }),
        "{reason:?}"
    );
    assert!(reason.to_string().contains("of the last") && reason.to_string().contains("answered 500"), "{reason}");
    // Nothing more is leased while paused; resuming and cancelling work.
    assert_eq!(s.lease_jobs(Transport::Sandbox, 100, Duration::from_secs(60)).await.unwrap().len(), 0);
    s.resume_broadcast(&herold::service::Actor::Cli, b).await.unwrap();
    assert_eq!(s.broadcast(b).await.unwrap().state, herold::domain::BroadcastState::Sending);
    s.cancel_broadcast(&herold::service::Actor::Cli, b).await.unwrap();
    let p = s.progress(b).await.unwrap();
    assert_eq!(p.broadcast.state, herold::domain::BroadcastState::Cancelled);
    assert_eq!(p.broadcast.cancelled, 30);
}

#[tokio::test]
async fn rows_leased_when_a_broadcast_pauses_go_out_exactly_once_after_resume() {
    let (_dir, s, b) = broadcast_to_many(50).await;
    let first = s.claim(Transport::Sandbox, 20, Duration::from_secs(60)).await.unwrap();
    assert_eq!(first.len(), 20);
    s.pause_broadcast(&herold::service::Actor::Cli, b, Reason::PausedByAdmin).await.unwrap();
    // The worker reads the batch after the pause: it gives every row back without an attempt.
    let (jobs, given_back) = s.prepare_jobs(first).await.unwrap();
    assert!(jobs.is_empty());
    assert_eq!(given_back.len(), 20);
    s.record_outcomes(given_back).await.unwrap();
    assert!(
        s.claim(Transport::Sandbox, 100, Duration::from_secs(60)).await.unwrap().is_empty(),
        "nothing is leased while paused"
    );
    s.resume_broadcast(&herold::service::Actor::Cli, b).await.unwrap();
    let sends = Arc::new(std::sync::Mutex::new(HashMap::<i64, usize>::new()));
    let seen = sends.clone();
    let mut w = scripted_worker(
        &s,
        Scripted {
            answer: Box::new(move |id| {
                *seen.lock().unwrap().entry(id).or_default() += 1;
                Ok(())
            }),
        },
    );
    drain(&mut w).await;
    let p = s.progress(b).await.unwrap();
    assert_eq!((p.broadcast.state.as_str(), p.broadcast.sent), ("done", 50));
    let sends = sends.lock().unwrap();
    assert_eq!(sends.len(), 50, "every recipient once");
    assert!(sends.values().all(|&n| n == 1), "no recipient twice: {sends:?}");
}

#[tokio::test]
async fn nothing_is_delivered_after_the_deadline_and_schedules_wait() {
    let (_dir, s, _) = broadcast_to_many(3).await;
    let ch = s.channels().await.unwrap().remove(0);
    let now = s.now();
    let later = Compose {
        kind: ChannelKind::Newsletter,
        title: "Herbstbrief".into(),
        body: "**Neu:** Treffen am *Freitag*.\n\n- Kuchen\n- Musik".into(),
        channels: vec![ch.id],
        send_at: Some(now + 3600),
        deadline: Some(now + 7200),
        override_reason: None,
        idempotency_key: "later".into(),
        translation: None,
    };
    let (b, _) = s.create_broadcast(&Actor::Cli, later).await.unwrap();
    assert_eq!((b.state.as_str(), b.total), ("scheduled", 0), "not materialised before its time");
    assert_eq!(b.sms_text, "Herbstbrief\n\nNeu: Treffen am Freitag.\n\n- Kuchen\n- Musik");
    assert!(b.html.as_deref().unwrap().contains("<strong>Neu:</strong>"));
    let bad = Compose {
        deadline: Some(now - 1),
        idempotency_key: "bad".into(),
        translation: None,
        ..common::compose_now(ch.id, "Hallo", "now")
    };
    assert!(s.create_broadcast(&Actor::Cli, bad).await.is_err(), "a deadline before the send time is refused");
    let long = Compose {
        body: "A".repeat(153 * 10 + 1),
        idempotency_key: "long".into(),
        translation: None,
        ..common::compose_now(ch.id, "Hallo", "now")
    };
    let err = s.create_broadcast(&Actor::Cli, long).await.unwrap_err().to_string();
    assert!(err.contains("11 parts"), "{err}");
}

#[tokio::test]
async fn a_long_newsletter_goes_out_as_a_link_to_its_public_archive() {
    let app = TestApp::spawn().await;
    let s = &app.service;
    let mut draft = ChannelDraft {
        name: "Vereinsbrief".into(),
        keyword: "BRIEF".into(),
        description: "Monatlich".into(),
        kind: ChannelKind::Newsletter,
        opt_in: OptInMode::Single,
        texts: Default::default(),
        transports: vec![Transport::Sandbox],
        frequency: None,
        public_archive: true,
        quiet: Default::default(),
        over_cap: Default::default(),
    };
    let ch = s.create_channel(&herold::service::Actor::Cli, draft.clone()).await.unwrap();
    draft.keyword = "GEHEIM".into();
    draft.public_archive = false;
    let closed = s.create_channel(&herold::service::Actor::Cli, draft).await.unwrap();
    let body = format!(
        "## Rückblick\n\n{}\n\n**Termine:** Sommerfest, <script>x</script>",
        "Viel los im Verein. ".repeat(120)
    );
    let c = Compose {
        kind: ChannelKind::Newsletter,
        title: "Herbst".into(),
        body: body.clone(),
        channels: vec![ch.id],
        send_at: None,
        deadline: None,
        override_reason: None,
        idempotency_key: "long".into(),
        translation: None,
    };
    let (b, _) = s.create_broadcast(&Actor::Cli, c.clone()).await.unwrap();
    let link = format!("{}/n/brief/{}", app.base, b.id);
    assert!(b.sms_text.starts_with("Herbst: Rückblick") && b.sms_text.ends_with(&link), "{}", b.sms_text);
    assert!(herold::domain::segments::count(&b.sms_text).parts <= 2);
    let closed_c = Compose { channels: vec![closed.id], idempotency_key: "long2".into(), ..c };
    let err = s.create_broadcast(&Actor::Cli, closed_c).await.unwrap_err().to_string();
    assert!(err.contains("public archive"), "{err}");

    let anon = app.client();
    let list = anon.get(app.url("/n/brief")).send().await.unwrap();
    assert_eq!(list.status(), 200);
    assert!(list.headers().get("set-cookie").is_none(), "the archive sets no cookie");
    assert!(list.text().await.unwrap().contains("Herbst"));
    let issue = anon.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(issue.contains("<h2>Rückblick</h2>") && issue.contains("<strong>Termine:</strong>"));
    assert!(!issue.contains("<script>x"));
    assert_eq!(anon.get(app.url("/n/geheim")).send().await.unwrap().status(), 404);
    assert_eq!(anon.get(app.url("/n/brief/99999")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn time_moves_pending_opt_ins_expire_and_deadlines_stop_delivery() {
    use herold::domain::clock::ManualClock;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let s = common::open_service_at(dir.path(), clock.clone());
    let news = channel(&s, "NEWS").await;
    let n = test_numbers(3);
    assert_eq!(s.receive(inbound(&n[0], "START NEWS", None)).await.unwrap().outcome, Outcome::Pending);
    clock.advance(47 * 3600);
    assert_eq!(s.expire_pending().await.unwrap(), 0);
    clock.advance(2 * 3600);
    assert_eq!(s.expire_pending().await.unwrap(), 1, "48 hours without JA");
    let id = s.find_subscriber(&n[0]).await.unwrap().unwrap();
    let d = s.subscriber_detail(id).await.unwrap();
    assert_eq!(d.subscriptions[0].state, herold::domain::SubscriptionState::Expired);
    assert_eq!(d.consent.last().unwrap().kind, "optin_expired");
    // JA after expiry confirms nothing; it opts in anew (a new, separate consent).
    assert_eq!(s.receive(inbound(&n[0], "JA", None)).await.unwrap().outcome, Outcome::Pending);

    // One subscriber in two channels gets a broadcast to both once.
    let sport = channel(&s, "SPORT").await;
    for (num, kw) in [(&n[1], "NEWS"), (&n[1], "SPORT"), (&n[2], "SPORT")] {
        s.receive(inbound(num, &format!("START {kw}"), None)).await.unwrap();
        s.receive(inbound(num, "YES", None)).await.unwrap();
    }
    let both = Compose {
        kind: ChannelKind::Broadcast,
        title: String::new(),
        body: "Beide".into(),
        channels: vec![news.id, sport.id],
        send_at: None,
        deadline: Some(s.now() + 600),
        override_reason: None,
        idempotency_key: "both".into(),
        translation: None,
    };
    let (b, _) = s.create_broadcast(&Actor::Cli, both).await.unwrap();
    assert_eq!(b.total, 2, "n[1] once although in both channels, n[2] once");
    // The deadline passes before the worker gets to it: nothing goes out.
    clock.advance(601);
    let mut w = sandbox_worker(&s, 100);
    drain(&mut w).await;
    let p = s.progress(b.id).await.unwrap();
    assert_eq!((p.broadcast.state.as_str(), p.broadcast.sent, p.broadcast.cancelled), ("done", 0, 2));
}

#[tokio::test]
async fn delivery_reports_update_the_counters_once() {
    let (_dir, s, b) = broadcast_to_many(3).await;
    let mut w = sandbox_worker(&s, 100);
    drain(&mut w).await;
    let conn = s.store().conn().unwrap();
    let gids: Vec<String> = conn
        .prepare("SELECT gateway_id FROM deliveries WHERE broadcast_id = ?1 ORDER BY id")
        .unwrap()
        .query_map([b], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    drop(conn);
    assert!(s.delivery_report(Transport::Sandbox, &gids[0], true, None).await.unwrap());
    assert!(
        !s.delivery_report(Transport::Sandbox, &gids[0], true, None).await.unwrap(),
        "a repeated report counts once"
    );
    assert!(s.delivery_report(Transport::Sandbox, &gids[1], false, Some("absent subscriber".into())).await.unwrap());
    assert!(!s.delivery_report(Transport::Sandbox, "nope", true, None).await.unwrap());
    assert!(!s.delivery_report(Transport::Sms, &gids[2], true, None).await.unwrap(), "ids are per transport");
    let p = s.progress(b).await.unwrap();
    assert_eq!((p.broadcast.sent, p.broadcast.delivered, p.broadcast.failed), (2, 1, 1));
}

#[tokio::test]
async fn the_preview_names_encoding_parts_and_cost_and_auto_reply_answers_the_inbox() {
    let app = TestApp::spawn_with(|c| c.conversation.auto_reply = true).await;
    let (c, csrf) = app.admin_client("vera", Role::Editor).await;
    let ch = app
        .service
        .create_channel(&herold::service::Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sandbox]))
        .await
        .unwrap();
    for n in test_numbers(3) {
        app.service.receive(inbound(&n, "START", None)).await.unwrap();
    }
    let preview = |body: &'static str| {
        let c = c.clone();
        let (url, csrf, id) = (app.url("/broadcasts/preview"), csrf.clone(), ch.id.to_string());
        async move {
            let form = [
                ("csrf", csrf.as_str()),
                ("idempotency_key", "p"),
                ("channel", &id),
                ("kind", "broadcast"),
                ("body", body),
            ];
            c.post(url).form(&form).send().await.unwrap().text().await.unwrap()
        }
    };
    let gsm = preview("Grüße aus Köln: Straßenfest am Samstag").await;
    assert!(gsm.contains("<strong>GSM-7</strong>, 38 septets, <strong>1</strong> part"), "{gsm}");
    assert!(gsm.contains("sandbox 3") && gsm.contains("SMS segments in total: <strong>3</strong>"), "{gsm}");
    let ucs = preview("Sommerfest 🎉 am Samstag").await;
    assert!(ucs.contains("<strong>UCS-2</strong>") && ucs.contains("<mark>🎉</mark>"), "{ucs}");
    assert_eq!(app.service.broadcasts(10).await.unwrap().len(), 0, "a preview sends nothing");

    let phone = type_on(&app, &c, &csrf, &test_numbers(4)[3], "Hallo, wann ist das Treffen?").await;
    wait_for(&app, &c, &format!("/sandbox/screen?phone={phone}"), "Danke, deine Nachricht ist angekommen").await;
}

#[tokio::test]
async fn a_delivery_that_cannot_be_opened_fails_alone() {
    let (_dir, s, b) = broadcast_to_many(3).await;
    let conn = s.store().conn().unwrap();
    // Damage one sealed address (as a bad restore or a bit flip would).
    let n = conn
        .execute(
            "UPDATE addresses SET sealed = zeroblob(60) WHERE blind_index = (SELECT min(blind_index) FROM addresses)",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(conn);
    let mut w = sandbox_worker(&s, 100);
    drain(&mut w).await;
    let p = s.progress(b).await.unwrap();
    assert_eq!((p.broadcast.state.as_str(), p.broadcast.sent, p.broadcast.failed), ("done", 2, 1));
}

/// A running app with one single opt-in sandbox channel, NEWS.
async fn app_with_news() -> TestApp {
    let app = TestApp::spawn().await;
    app.service
        .create_channel(&herold::service::Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sandbox]))
        .await
        .unwrap();
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_messages_and_the_worker_never_see_a_busy_database() {
    let app = app_with_news().await;
    let numbers = test_numbers(60);
    let tasks: Vec<_> = numbers
        .iter()
        .map(|n| {
            let s = app.service.clone();
            let n = n.clone();
            tokio::spawn(async move { s.receive(inbound(&n, "START", None)).await })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap().expect("no busy error while others write");
        assert_eq!(r.outcome, Outcome::Subscribed);
    }
    for _ in 0..200 {
        if app.service.outbox_pending().await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the worker did not send the 60 welcomes");
}

/// The broadcast page's figures come from counts kept per minute: every recorded delivery is in the
/// timeline once, the rate counts this minute's sends, and a finished broadcast has no ETA.
#[tokio::test]
async fn progress_rate_and_timeline_come_from_the_per_minute_counts() {
    let (_dir, s, b) = broadcast_to_many(30).await;
    let before = s.progress(b).await.unwrap();
    assert_eq!((before.rate_per_minute, before.timeline.len()), (0, 0));
    assert_eq!(before.eta_seconds, None, "no rate yet, no guess");
    let mut w = sandbox_worker(&s, 7);
    drain(&mut w).await;
    let p = s.progress(b).await.unwrap();
    assert_eq!(p.broadcast.sent, 30);
    assert_eq!(p.timeline.iter().map(|m| m.1).sum::<i64>(), 30, "each send counted once: {:?}", p.timeline);
    assert_eq!(p.timeline.iter().map(|m| m.2).sum::<i64>(), 0);
    assert!((1..=30).contains(&p.rate_per_minute), "rate {}", p.rate_per_minute);
    assert_eq!((p.queued, p.eta_seconds), (0, None));
}

/// A burst of messages shares group commits: the same new number writing many times at once becomes one
/// subscriber (each message handled, none refused), and no data key is left without its subscriber.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_from_one_new_number_makes_one_subscriber_and_leaves_no_spare_key() {
    let app = app_with_news().await;
    let numbers = test_numbers(21);
    let senders: Vec<String> = (0..20).map(|_| numbers[0].clone()).chain(numbers[1..].iter().cloned()).collect();
    let tasks: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let (s, msg) = (app.service.clone(), inbound(n, "START", Some(&format!("burst-{i}"))));
            tokio::spawn(async move { s.receive(msg).await })
        })
        .collect();
    let mut same = vec![];
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.unwrap().expect("every message of the burst is handled");
        if i < 20 {
            same.push(r);
        } else {
            assert_eq!(r.outcome, Outcome::Subscribed);
        }
    }
    assert!(same.iter().all(|r| r.subscriber == same[0].subscriber), "one subscriber for one number");
    let subscribed = same.iter().filter(|r| r.outcome == Outcome::Subscribed).count();
    assert_eq!(subscribed, 1, "{:?}", same.iter().map(|r| r.outcome).collect::<Vec<_>>());
    assert!(same.iter().all(|r| matches!(r.outcome, Outcome::Subscribed | Outcome::AlreadySubscribed)));
    let conn = app.service.store().conn().unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT count(*) FROM subscribers"), 21);
    // Every key belongs to a subscriber or is a spare written ahead (listed, used by nobody).
    let stray = "SELECT count(*) FROM keyring.data_keys k WHERE NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = k.subscriber_id) \
                 AND NOT EXISTS (SELECT 1 FROM keyring.spare_keys p WHERE p.subscriber_id = k.subscriber_id)";
    assert_eq!(count(stray), 0, "a key written for a sender found meanwhile is removed");
}

/// A fast gateway's delivery report can arrive before the worker has recorded the send (it records a
/// round's outcomes during the next round): the report is kept and applied then, not lost.
#[tokio::test]
async fn a_delivery_report_that_beats_its_send_record_is_applied_when_the_send_is_recorded() {
    use herold::store::outbox::Outcome as Result;
    let (_dir, s, b) = broadcast_to_many(2).await;
    let leased = s.claim(Transport::Sandbox, 2, Duration::from_secs(60)).await.unwrap();
    let ids: Vec<String> = leased.iter().map(|c| format!("sandbox-{}", c.id)).collect();
    // One delivered, one failed, both before their sends are recorded.
    assert!(!s.delivery_report(Transport::Sandbox, &ids[0], true, None).await.unwrap(), "not applied yet");
    assert!(!s.delivery_report(Transport::Sandbox, &ids[1], false, Some("absent".into())).await.unwrap());
    let p = s.progress(b).await.unwrap().broadcast;
    assert_eq!((p.sent, p.delivered, p.failed), (0, 0, 0));
    let outcomes =
        leased.into_iter().zip(&ids).map(|(c, g)| (c, Result::Sent { gateway_id: g.clone(), usage: None })).collect();
    s.record_outcomes(outcomes).await.unwrap();
    let p = s.progress(b).await.unwrap().broadcast;
    assert_eq!((p.sent, p.delivered, p.failed, p.state.as_str()), (1, 1, 1, "done"));
    // Applied once: the same report again finds nothing to change.
    assert!(!s.delivery_report(Transport::Sandbox, &ids[0], true, None).await.unwrap());
    assert_eq!(s.progress(b).await.unwrap().broadcast.delivered, 1);
}

/// First contacts take data keys written ahead (their opt-in waits for no keyring sync); a spare a
/// known sender did not need goes back; spares left at a stop are used after a restart, not piled up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_contacts_use_keys_written_ahead_and_a_restart_reuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let numbers = test_numbers(13);
    let count = |s: &herold::service::Service, sql: &str| -> i64 {
        s.store().conn().unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
    };
    const UNUSED: &str = "SELECT count(*) FROM keyring.spare_keys p \
                          WHERE NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = p.subscriber_id)";
    const FROM_SPARES: &str = "SELECT count(*) FROM subscribers s JOIN keyring.spare_keys p ON p.subscriber_id = s.id";
    // Ready means in the stock, not only on disk: the batch is committed before it is handed over.
    let wait_for_spares = |s: &herold::service::Service| {
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while count(s, UNUSED) < 100 || s.spare_keys_ready() < 100 {
            assert!(std::time::Instant::now() < until, "no spare keys were written");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    {
        let s = open_service(dir.path());
        channel(&s, "NEWS").await;
        // The first message of a run starts the first batch (and writes its own key).
        assert_eq!(s.receive(inbound(&numbers[0], "START", None)).await.unwrap().outcome, Outcome::Pending);
        wait_for_spares(&s);
        let spares = count(&s, UNUSED);
        for n in &numbers[1..11] {
            assert_eq!(s.receive(inbound(n, "START", None)).await.unwrap().outcome, Outcome::Pending);
        }
        // The ten new subscribers have spare keys (still listed until the next batch), and can be read.
        assert_eq!(count(&s, FROM_SPARES), 10);
        assert_eq!(count(&s, UNUSED), spares - 10);
        let id = s.find_subscriber(&numbers[5]).await.unwrap().expect("found by number");
        let detail = s.subscriber_detail(id).await.unwrap();
        assert_eq!(detail.consent[0].inbound_text.as_deref(), Some("START"), "sealed with the spare key");
        // A known sender takes a spare and gives it back.
        s.receive(inbound(&numbers[5], "HILFE", None)).await.unwrap();
        s.receive(inbound(&numbers[11], "START", None)).await.unwrap();
        assert_eq!(count(&s, UNUSED), spares - 11);
    }
    // After a restart the spares left are read back and used before new ones are written.
    let s = open_service(dir.path());
    let keys_before = count(&s, "SELECT count(*) FROM keyring.data_keys");
    s.receive(inbound(&numbers[12], "START", None)).await.unwrap();
    wait_for_spares(&s);
    let written = count(&s, "SELECT count(*) FROM keyring.data_keys") - keys_before;
    assert!(written <= 20, "{written} keys written after the restart: the spares left were not reused");
    let stray = "SELECT count(*) FROM keyring.data_keys k WHERE NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = k.subscriber_id) \
                 AND NOT EXISTS (SELECT 1 FROM keyring.spare_keys p WHERE p.subscriber_id = k.subscriber_id)";
    assert_eq!(count(&s, stray), 0);
}

/// A gateway that records when each message left (the sandbox behind it, at its pace).
struct Stopwatch {
    inner: Sandbox,
    sent: Arc<std::sync::Mutex<Vec<(String, std::time::Instant)>>>,
}

impl herold::transport::Transport for Stopwatch {
    fn send<'a>(
        &'a self,
        msg: &'a herold::transport::OutboundMessage,
    ) -> futures_util::future::BoxFuture<'a, Result<herold::transport::Receipt, herold::transport::SendError>> {
        Box::pin(async move {
            let r = self.inner.send(msg).await;
            self.sent.lock().unwrap().push((format!("{}|{}", msg.to.as_str(), msg.text), std::time::Instant::now()));
            r
        })
    }
    fn segments_per_second(&self) -> Option<f64> {
        self.inner.segments_per_second()
    }
    fn reserve(
        &self,
        msg: &herold::transport::OutboundMessage,
    ) -> Result<herold::transport::Slot, herold::transport::Hold> {
        self.inner.reserve(msg)
    }
}

/// Lanes, not rounds: while a broadcast to 5,000 drains through a route paced at 5 messages a second,
/// twenty people write START one after another; each answer leaves within 2 s of their message
/// (it goes ahead of the broadcast's rows), and the broadcast goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_leave_within_two_seconds_while_a_broadcast_drains_at_five_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_service(dir.path());
    let ch = channel(&s, "NEWS").await;
    let numbers = test_numbers(5_020);
    let (members, newcomers) = numbers.split_at(5_000);
    common::import_sandbox(&s, members, ch.id).await;
    let (b, _) = s.create_broadcast(&Actor::Cli, common::compose_now(ch.id, "Probealarm", "drain")).await.unwrap();
    assert_eq!(b.total, 5_000);
    let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut t: HashMap<Transport, Arc<dyn herold::transport::Transport>> = HashMap::new();
    t.insert(Transport::Sandbox, Arc::new(Stopwatch { inner: Sandbox::new(5), sent: sent.clone() }));
    let settings =
        WorkerSettings { batch: 500, lease: std::time::Duration::from_secs(60), max_attempts: 3, concurrency: 32 };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(Worker::new(s.clone(), t, settings).run(stopped));
    tokio::time::sleep(Duration::from_secs(2)).await; // the broadcast is under way

    let mut arrived = HashMap::new();
    for n in newcomers {
        arrived.insert(n.clone(), std::time::Instant::now());
        // The channel asks to confirm: the answer is that request.
        assert_eq!(s.receive(inbound(n, "START news", None)).await.unwrap().outcome, Outcome::Pending);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let until = std::time::Instant::now() + Duration::from_secs(20);
    let mut latencies = Vec::new();
    for (n, at) in &arrived {
        let left = loop {
            let found = sent.lock().unwrap().iter().find(|(k, _)| k.starts_with(&format!("{n}|"))).map(|(_, t)| *t);
            if let Some(t) = found {
                break t;
            }
            assert!(std::time::Instant::now() < until, "no answer to {n}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        latencies.push(left.duration_since(*at));
    }
    latencies.sort();
    println!("answer latencies while draining at 5/s: max {:?}, median {:?}", latencies[19], latencies[10]);
    assert!(latencies.iter().all(|l| *l <= Duration::from_secs(2)), "{latencies:?}");
    let p = s.progress(b.id).await.unwrap().broadcast;
    assert!(p.sent > 10 && p.sent < 5_000, "the broadcast went on at its pace: {} sent", p.sent);
    stop.send(true).unwrap();
    worker.await.unwrap();
    // Stopped: what the lane held went back to the queue; nothing is leased any more.
    let leased: i64 = s
        .store()
        .conn()
        .unwrap()
        .query_row("SELECT count(*) FROM deliveries WHERE state = 'sending'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(leased, 0);
}

/// A text with more SMS parts than a gateway's `max_parts` is refused on the compose page (preview
/// and send) before anything is queued, naming the gateway; in German for a German admin.
#[tokio::test]
async fn a_text_longer_than_a_gateways_max_parts_is_refused_before_anything_is_queued() {
    let app = TestApp::spawn_with(|c| {
        let mut g = common::gateway(
            "phone",
            herold::config::GatewayKind::Kannel,
            "http://127.0.0.1:9",
            "secret0123456789abcdef",
        );
        g.max_parts = 2;
        c.sms.gateways.push(g);
    })
    .await;
    let ch = app
        .service
        .create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sms]))
        .await
        .unwrap();
    let add = herold::service::subscribers::AddSubscriber {
        transport: Transport::Sms,
        address: "+4915112345678".into(),
        language: "de".into(),
        channels: vec![ch.id],
        consent_note: "signed up on paper".into(),
    };
    app.service.add_subscribers(&Actor::Cli, vec![add]).await.unwrap();
    let long = "Wasser ".repeat(60); // 420 GSM-7 characters: 3 parts
    let p = app.service.preview(ChannelKind::Broadcast, "", &long, vec![ch.id]).await.unwrap();
    assert_eq!(p.segments.parts, 3);
    let refusal = p.refusal.expect("refused");
    assert_eq!(refusal.to_string(), "as SMS this is 3 parts, but gateway phone sends at most 2 (its max_parts)");
    let err = app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, &long, "long")).await.unwrap_err();
    assert!(err.to_string().contains("gateway phone sends at most 2"), "{err}");
    assert!(app.service.broadcasts(10).await.unwrap().is_empty(), "nothing was queued");
    assert_eq!(
        herold::web::i18n::problem(herold::web::i18n::Lang::De, &refusal),
        "Als SMS sind das 3 Teile, aber Gateway phone sendet höchstens 2 (sein max_parts)"
    );
    // Two parts fit.
    let short = "Wasser ".repeat(40);
    assert!(app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, &short, "short")).await.is_ok());
}
