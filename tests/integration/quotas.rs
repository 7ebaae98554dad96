//! Gateway quotas with the clock moved by the test: an Android phone (its documented send API, as
//! in `sms_gateways.rs`: no phone runs here) with parts a day and recipients a month; two phones
//! sharing a broadcast by what they have left, one failing, and a conversation that stays on its
//! phone.

use crate::common;
use crate::sms_gateways::{Seen, mock};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use herold::config::{Config, GatewayKind};
use herold::domain::{ManualClock, OptInMode, Reason, Transport};
use herold::service::conversation::Inbound;
use herold::service::{Actor, Service};
use herold::worker::{Worker, WorkerSettings};

const KEY: &str = "androidSigningKey0123456789";

/// The app's answer to `POST /messages` (202 with the message's id and state).
fn accept(path: &str, body: &str) -> (u16, serde_json::Value) {
    match path {
        "/messages" => {
            let b: serde_json::Value = serde_json::from_str(body).unwrap();
            (202, serde_json::json!({ "id": b["id"], "state": "Pending", "recipients": [] }))
        }
        _ => (404, serde_json::json!({})),
    }
}

/// The numbers the phone was asked to send to, in order.
fn sent_to(seen: &Seen) -> Vec<String> {
    let seen = seen.lock().unwrap();
    seen.iter()
        .filter(|(p, ..)| p == "/messages")
        .map(|(_, _, body, _)| {
            let b: serde_json::Value = serde_json::from_str(body).unwrap();
            b["phoneNumbers"][0].as_str().unwrap().to_string()
        })
        .collect()
}

/// herold on `dir` at `clock`'s time: the service and a worker with the configured gateways.
async fn herold(dir: &std::path::Path, clock: &Arc<ManualClock>, tweak: impl Fn(&mut Config)) -> (Service, Worker) {
    let mut cfg = common::config(dir);
    tweak(&mut cfg);
    let service = herold::app::open_service_with_clock(&cfg, true, clock.clone()).unwrap();
    let book = herold::app::quota_book(&cfg, service.clock()).unwrap();
    let built = herold::app::transports(&cfg, "http://127.0.0.1:1", book.clone()).unwrap();
    service.set_quotas(book).await.unwrap();
    service.set_webhooks(built.webhooks);
    let settings =
        WorkerSettings { batch: 500, lease: std::time::Duration::from_secs(60), max_attempts: 3, concurrency: 8 };
    (service.clone(), Worker::new(service, built.senders, settings))
}

async fn run(worker: &mut Worker) {
    while worker.run_once().await.unwrap() > 0 {}
}

fn phone(name: &str, url: &str) -> herold::config::GatewayConfig {
    let mut g = common::gateway(name, GatewayKind::Android, url, KEY);
    g.rate = "1000/s".into();
    g
}

async fn sms_channel(service: &Service, n: usize) -> (herold::domain::ChannelId, Vec<String>) {
    let ch =
        service.create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sms])).await.unwrap();
    let numbers = common::test_numbers(n);
    let reqs = numbers
        .iter()
        .map(|n| herold::service::subscribers::AddSubscriber {
            transport: Transport::Sms,
            address: n.clone(),
            language: "de".into(),
            channels: vec![ch.id],
            consent_note: "member list".into(),
        })
        .collect();
    service.add_subscribers(&Actor::Cli, reqs).await.unwrap();
    (ch.id, numbers)
}

/// A message from `number` through gateway `via`, as its webhook hands it over.
fn from(number: &str, text: &str, via: &str, id: &str) -> Inbound {
    Inbound {
        transport: Transport::Sms,
        from: number.into(),
        text: text.into(),
        gateway_message_id: Some(format!("{via}:{id}")),
        room: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_quota_spreads_a_broadcast_over_three_days_and_replies_use_the_reserve() {
    let (url, seen) = mock(accept);
    let dir = tempfile::tempdir().unwrap();
    let zone = herold::domain::zone::Zone::parse("Europe/Berlin").unwrap();
    let clock = Arc::new(ManualClock::new(zone.from_input("2026-12-07T10:00").unwrap()));
    // 125 parts a day, 20 % of them for replies: 100 a day for broadcasts.
    let quota = |c: &mut Config| {
        let mut g = phone("phone", &url);
        (g.parts_per_day, g.reply_reserve_percent) = (Some(125), 20);
        c.sms.gateways.push(g);
    };
    let (service, mut worker) = herold(dir.path(), &clock, quota).await;
    let (ch, numbers) = sms_channel(&service, 250).await;
    let (b, _) =
        service.create_broadcast(&Actor::Cli, common::compose_now(ch, "Training fällt aus", "k1")).await.unwrap();
    run(&mut worker).await;
    assert_eq!(sent_to(&seen).len(), 100, "today's broadcast share");
    let p = service.progress(b.id).await.unwrap();
    let waiting = p.waiting.expect("the page says why the rest waits");
    assert_eq!(waiting.reason, Reason::DayQuotaReached { gateway: "phone".into() });
    assert_eq!(waiting.until, zone.from_input("2026-12-08T00:00").unwrap());
    let said = herold::web::i18n::reason(herold::i18n::Lang::En, &waiting.reason);
    assert_eq!(said, "today's quota of gateway phone is used up; waiting for tomorrow's");
    let left = service.quotas_left();
    assert_eq!((left[0].1.parts_used, left[0].1.broadcast_parts_left), (100, Some(0)));

    // A member asks for help: the answer goes out today, from the reserve.
    service.receive(from(&numbers[0], "HILFE", "phone", "in-1")).await.unwrap();
    run(&mut worker).await;
    assert_eq!(sent_to(&seen).len(), 101, "the reply went out");

    // A restart changes nothing: the day's use is read back, nothing more goes today.
    drop(worker);
    drop(service);
    let (service, mut worker) = herold(dir.path(), &clock, quota).await;
    run(&mut worker).await;
    assert_eq!(sent_to(&seen).len(), 101);
    assert_eq!(service.quotas_left()[0].1.parts_used, 101, "today's use after the restart");

    // The next two days: 100, then the last 50, and a reply each day.
    for (day, (want, reply)) in [("2026-12-08T00:01", (202, "in-2")), ("2026-12-09T00:01", (253, "in-3"))] {
        clock.set(zone.from_input(day).unwrap());
        run(&mut worker).await;
        service.receive(from(&numbers[1], "HILFE", "phone", reply)).await.unwrap();
        run(&mut worker).await;
        assert_eq!(sent_to(&seen).len(), want, "{day}");
    }
    let b = service.broadcast(b.id).await.unwrap();
    assert_eq!((b.sent, b.failed), (250, 0));
    let mut got = sent_to(&seen);
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 250, "every member once (the two who asked got their answers too)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_51st_new_recipient_of_the_month_waits_for_next_month() {
    let (url, seen) = mock(accept);
    let dir = tempfile::tempdir().unwrap();
    let zone = herold::domain::zone::Zone::parse("Europe/Berlin").unwrap();
    let clock = Arc::new(ManualClock::new(zone.from_input("2026-12-30T18:00").unwrap()));
    let (service, mut worker) = herold(dir.path(), &clock, |c| {
        let mut g = phone("phone", &url);
        g.recipients_per_month = Some(50);
        c.sms.gateways.push(g);
    })
    .await;
    let (ch, _) = sms_channel(&service, 51).await;
    let (b, _) = service.create_broadcast(&Actor::Cli, common::compose_now(ch, "Jahresabschluss", "k1")).await.unwrap();
    run(&mut worker).await;
    assert_eq!(sent_to(&seen).len(), 50);
    let waiting = service.progress(b.id).await.unwrap().waiting.unwrap();
    assert_eq!(waiting.reason, Reason::MonthQuotaReached { gateway: "phone".into() });
    assert_eq!(waiting.until, zone.from_input("2027-01-01T00:00").unwrap());
    // A second broadcast to the same 50 is no new recipient: it goes out at once.
    service.create_broadcast(&Actor::Cli, common::compose_now(ch, "Noch etwas", "k2")).await.unwrap();
    run(&mut worker).await;
    assert_eq!(sent_to(&seen).len(), 100);
    clock.set(zone.from_input("2027-01-01T00:01").unwrap());
    run(&mut worker).await;
    assert_eq!(sent_to(&seen).len(), 102, "the 51st gets both in the new month");
}

static FIRST_DOWN: AtomicBool = AtomicBool::new(false);

/// The first phone: takes messages until the test says it fails, then answers 503.
fn first_phone(path: &str, body: &str) -> (u16, serde_json::Value) {
    if FIRST_DOWN.load(Ordering::SeqCst) {
        return (503, serde_json::json!({ "message": "unavailable" }));
    }
    accept(path, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phones_share_by_what_is_left_one_failing_hands_its_rest_over_and_a_conversation_stays() {
    let (a_url, a) = mock(first_phone);
    let (b_url, b) = mock(accept);
    let dir = tempfile::tempdir().unwrap();
    let zone = herold::domain::zone::Zone::parse("Europe/Berlin").unwrap();
    let clock = Arc::new(ManualClock::new(zone.from_input("2026-12-07T10:00").unwrap()));
    let (service, mut worker) = herold(dir.path(), &clock, |c| {
        c.sms.routing = herold::config::Routing::Capacity;
        for (name, url, day) in [("a", &a_url, 300), ("b", &b_url, 100)] {
            let mut g = phone(name, url);
            (g.parts_per_day, g.reply_reserve_percent) = (Some(day), 0);
            c.sms.gateways.push(g);
        }
    })
    .await;
    let (ch, numbers) = sms_channel(&service, 80).await;
    service.create_broadcast(&Actor::Cli, common::compose_now(ch, "Erste", "k1")).await.unwrap();
    run(&mut worker).await;
    let (na, nb) = (sent_to(&a).len(), sent_to(&b).len());
    assert_eq!(na + nb, 80);
    assert!((na as i64 - 60).abs() <= 1, "3:1 by what each has left: a {na}, b {nb}");

    // The first phone fails: what it has not sent goes through the second, nobody twice.
    FIRST_DOWN.store(true, Ordering::SeqCst);
    let (b2, _) = service.create_broadcast(&Actor::Cli, common::compose_now(ch, "Zweite", "k2")).await.unwrap();
    for _ in 0..10 {
        run(&mut worker).await;
        clock.advance(120);
    }
    let second: Vec<String> = {
        let seen = b.lock().unwrap();
        seen.iter().filter(|(_, _, body, _)| body.contains("Zweite")).map(|(_, _, body, _)| body.clone()).collect()
    };
    let done = service.broadcast(b2.id).await.unwrap();
    assert_eq!((done.sent, done.failed), (80, 0), "{done:?}");
    let mut to: Vec<&str> = second.iter().map(|s| s.split("+49").nth(1).unwrap_or("")).collect();
    let before = to.len();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), before, "nobody got the second broadcast twice");
    assert!(before >= 79, "the second phone took (nearly) all of it: {before}");
    let a_took = a
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, _, body, json)| body.contains("Zweite") && json.get("id").is_some())
        .count();
    assert_eq!(a_took + before, 80, "what the first phone accepted before failing plus what the second sent");

    // A member writes to the first phone's number: the answer goes back through it once it works.
    FIRST_DOWN.store(false, Ordering::SeqCst);
    let b_before = sent_to(&b).len();
    let a_before = sent_to(&a).len();
    service.receive(from(&numbers[5], "HILFE", "a", "in-1")).await.unwrap();
    clock.advance(3600);
    run(&mut worker).await;
    assert_eq!(sent_to(&b).len(), b_before, "nothing of the conversation through the other phone");
    assert!(sent_to(&a).len() > a_before, "the answer went back through the phone they wrote to");
}

/// The compose page says how long the quotas make a broadcast take, the dashboard and the Gateways
/// page show each phone's use, and a deadline the quotas cannot meet is refused with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compose_page_says_how_long_and_a_deadline_the_quota_cannot_meet_is_refused() {
    let (url, _seen) = mock(accept);
    let app = common::TestApp::spawn_with(|c| {
        let mut g = phone("phone", &url);
        (g.parts_per_day, g.recipients_per_month, g.reply_reserve_percent) = (Some(10), Some(250), 0);
        c.sms.gateways.push(g);
    })
    .await;
    let (ch, _) = sms_channel(&app.service, 30).await;
    let (owner, csrf) = app.admin_client("owner", herold::domain::Role::Owner).await;
    let id = ch.to_string();
    let form =
        [("csrf", csrf.as_str()), ("idempotency_key", "p"), ("channel", &id), ("kind", "broadcast"), ("body", "Hallo")];
    let page = owner.post(app.url("/broadcasts/preview")).form(&form).send().await.unwrap().text().await.unwrap();
    let zone = herold::domain::zone::Zone::parse("Europe/Berlin").unwrap();
    let last = zone.day(zone.day_period(app.service.now()).1 + 86_400);
    assert!(page.contains(&format!("About 3 days at 10 parts a day: the last message goes on {last}.")), "{page}");
    assert!(page.contains("phone: 0 of 10 parts today · 0 of 250 recipients this month"), "{page}");

    let mut c = common::compose_now(ch, "Hallo", "k1");
    c.deadline = Some(app.service.now() + 86_400);
    let refused = app.service.create_broadcast(&Actor::Cli, c).await.unwrap_err();
    let herold::service::ServiceError::Invalid(p) = refused else { panic!("{refused:?}") };
    assert_eq!(p.code, "quota-after-deadline");
    let said = herold::web::i18n::problem(herold::i18n::Lang::En, &p);
    assert!(
        said.contains("at 10 parts a day") && said.contains(&last) && said.contains("after the deadline"),
        "{said}"
    );
    let mut c = common::compose_now(ch, "Hallo", "k2");
    c.deadline = Some(app.service.now() + 4 * 86_400);
    app.service.create_broadcast(&Actor::Cli, c).await.expect("a deadline the quota meets");
    for _ in 0..200 {
        if app.service.quotas_left()[0].1.parts_used == 10 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for path in ["/", "/gateways"] {
        let page = owner.get(app.url(path)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("phone: 10 of 10 parts today · 10 of 250 recipients this month"), "{path}: {page}");
    }
}
