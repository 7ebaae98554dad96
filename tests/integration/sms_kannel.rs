//! SMS through a real Kannel 1.4.5 (bearerbox + smsbox from Debian's `kannel`) with its fake SMSC
//! (`fakesmsc` from `kannel-extras`) as the phone: opt-in, double opt-in, GSM-7 and multipart UCS-2
//! broadcasts exactly as written, delivery reports, STOP and nothing after it.
//! `scripts/setup-peers` installs Kannel.

use crate::common;

use std::time::{Duration, Instant};

use common::TestApp;
use common::kannel::{Kannel, free_port};
use herold::config::GatewayKind;
use herold::domain::{OptInMode, Transport};
use herold::service::Actor;

const PHONE: &str = "+4915112345678";
const HOOK_SECRET: &str = "kannelHookSecret0123456789";

async fn wait_until<F: Fn(&herold::service::Broadcast) -> bool>(
    app: &TestApp,
    id: herold::domain::BroadcastId,
    what: &str,
    f: F,
) {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let b = app.service.broadcast(id).await.unwrap();
        if f(&b) {
            return;
        }
        assert!(Instant::now() < until, "broadcast {id}: {what} did not happen: {b:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// herold with one Kannel gateway on `sendsms`, sending with Kannel's global sender.
async fn with_kannel(sendsms: u16) -> TestApp {
    TestApp::spawn_with(|c| {
        let mut g = common::gateway("kannel", GatewayKind::Kannel, &format!("http://127.0.0.1:{sendsms}"), HOOK_SECRET);
        g.sender = String::new();
        c.sms.gateways.push(g);
    })
    .await
}

/// Kannel on `sendsms`, connected by herold's own kannel.conf snippet (its sms-service).
fn start_kannel(app: &TestApp, sendsms: u16) -> Kannel {
    let setup = app.service.gateway_setup();
    let config = setup[0].1.config();
    Kannel::start(sendsms, &config[config.find("group = sms-service").unwrap()..])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_opts_in_gets_gsm7_and_ucs2_broadcasts_as_written_and_nothing_after_stop() {
    let sendsms = free_port();
    let app = with_kannel(sendsms).await;
    let kannel = start_kannel(&app, sendsms);
    let ch = app
        .service
        .create_channel(&herold::service::Actor::Cli, common::draft("NEWS", OptInMode::Double, &[Transport::Sms]))
        .await
        .unwrap();

    // START → confirmation request; JA → welcome.
    let phone = kannel.phone(PHONE, Some("START news"));
    let got = phone.wait_for(1);
    assert!(got[0].contains("JA"), "a confirmation request: {got:?}");
    drop(phone);
    let phone = kannel.phone(PHONE, Some("JA"));
    let got = phone.wait_for(1);
    assert!(got[0].contains("NEWS") || got[0].to_lowercase().contains("willkommen"), "{got:?}");
    let (subs, _) = app.service.list_subscribers(Default::default(), 10, 0).await.unwrap();
    assert_eq!(subs.len(), 1);

    // A GSM-7 broadcast (umlauts and € are in GSM-7) and a multipart UCS-2 one (the emoji forces it).
    let gsm = "Probe: Grüße aus Köln, Eintritt 12 € [Saal 2]";
    let ucs2 = "Konzert am Freitag 🎉 – Grüße aus Köln! Eintritt 12 €, Kinder frei. Bitte pünktlich: \
                Einlass 18:30, Beginn 19:00. Wir freuen uns auf euch 🎶";
    assert_eq!(herold::domain::segments::count(ucs2).parts, 3, "the test text needs three UCS-2 parts");
    let (b1, _) = app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, gsm, "k1")).await.unwrap();
    let got = phone.wait_for(2);
    assert_eq!(got[1], gsm);
    let (b2, _) = app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, ucs2, "k2")).await.unwrap();
    let got = phone.wait_for(3);
    assert_eq!(got[2], ucs2);
    // The fake SMSC reports both as delivered through the dlr-url.
    for b in [b1.id, b2.id] {
        wait_until(&app, b, "a delivery report", |b| b.sent == 1 && b.delivered == 1).await;
    }
    drop(phone);

    // STOP → the goodbye, then nothing: a broadcast afterwards reaches no one.
    let phone = kannel.phone(PHONE, Some("STOP"));
    let got = phone.wait_for(1);
    assert!(got[0].contains("NEWS"), "the goodbye names the channel: {got:?}");
    let (b3, _) =
        app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, "Noch da?", "k3")).await.unwrap();
    assert_eq!((b3.total, b3.state.as_str()), (0, "done"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(phone.received().len(), 1, "nothing after the goodbye");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kannel_callbacks_without_the_secret_are_refused_and_store_nothing() {
    let app = TestApp::spawn_with(|c| {
        c.sms.gateways.push(common::gateway("kannel", GatewayKind::Kannel, "http://127.0.0.1:9", HOOK_SECRET));
    })
    .await;
    // Owners see the ready kannel.conf snippet.
    let (owner, _) = app.admin_client("owner", herold::domain::Role::Owner).await;
    let page = owner.get(app.url("/gateways")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("group = sms-service") && page.contains("/hooks/sms/kannel/inbound?id=%I"), "{page}");
    let http = reqwest::Client::new();
    let url = app.url("/hooks/sms/kannel/inbound?id=abc");
    let send = |auth: Option<(&str, &str)>| {
        let mut r = http.post(&url).header("X-Kannel-From", PHONE).body("Hallo zusammen");
        if let Some((u, p)) = auth {
            r = r.basic_auth(u, Some(p));
        }
        r.send()
    };
    assert_eq!(send(None).await.unwrap().status(), 401);
    assert_eq!(send(Some(("kannel", "wrong-secret-0123456789"))).await.unwrap().status(), 401);
    let big = http
        .post(&url)
        .basic_auth("kannel", Some(HOOK_SECRET))
        .header("X-Kannel-From", PHONE)
        .body(vec![b'a'; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    let unknown = http.post(app.url("/hooks/sms/nope/inbound")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(app.service.inbox(10, 0).await.unwrap().1, 0);
    let (subs, _) = app.service.list_subscribers(Default::default(), 10, 0).await.unwrap();
    assert!(subs.is_empty(), "nothing stored for refused webhooks");
    // The right secret is taken, once per Kannel message id.
    for _ in 0..2 {
        let ok = send(Some(("kannel", HOOK_SECRET))).await.unwrap();
        assert_eq!(ok.status(), 200);
    }
    assert_eq!(app.service.list_subscribers(Default::default(), 10, 0).await.unwrap().0.len(), 1);
    assert_eq!(app.service.inbox(10, 0).await.unwrap().1, 1, "the retry is not stored twice");

    // A sender that is no phone number: 422 with a reason that repeats no digits.
    let r = http
        .post(app.url("/hooks/sms/kannel/inbound?id=n1"))
        .basic_auth("kannel", Some(HOOK_SECRET))
        .header("X-Kannel-From", "99887766554433221100")
        .body("Hallo")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(!r.text().await.unwrap().contains("9988"));

    // Storage that cannot take the message (another process holds the write lock longer than the
    // busy timeout): 503, so that Kannel tries again; the retry is stored once the lock is gone.
    let blocker = rusqlite::Connection::open(app.data_dir().join("herold.sqlite")).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let retry = || {
        http.post(app.url("/hooks/sms/kannel/inbound?id=later"))
            .basic_auth("kannel", Some(HOOK_SECRET))
            .header("X-Kannel-From", PHONE)
            .body("Noch eine Frage")
            .send()
    };
    assert_eq!(retry().await.unwrap().status(), 503);
    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(retry().await.unwrap().status(), 200);
    assert_eq!(app.service.inbox(10, 0).await.unwrap().1, 2, "stored once, after the retry");
}

/// The gateways page's test send goes through Kannel to the phone; a gateway that is down says so; a
/// number that is not one is refused with the reason; the audit log names the gateway and the outcome,
/// never the number, and nothing is stored about it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_send_from_the_gateways_page_reaches_the_phone_through_kannel() {
    let sendsms = free_port();
    let app = TestApp::spawn_with(|c| {
        let mut g = common::gateway("kannel", GatewayKind::Kannel, &format!("http://127.0.0.1:{sendsms}"), HOOK_SECRET);
        g.sender = String::new();
        c.sms.gateways.push(g);
        c.sms.gateways.push(common::gateway("down", GatewayKind::Kannel, "http://127.0.0.1:9", HOOK_SECRET));
    })
    .await;
    let setup = app.service.gateway_setup();
    let hint = setup.iter().find(|(n, _)| n == "kannel").unwrap().1.config();
    let kannel = Kannel::start(sendsms, &hint[hint.find("group = sms-service").unwrap()..]);
    let phone = kannel.phone(PHONE, None);
    let (owner, csrf) = app.admin_client("owner", herold::domain::Role::Owner).await;
    let page = owner.get(app.url("/gateways")).send().await.unwrap().text().await.unwrap();
    for form in ["action=\"/gateways/kannel/test\"", "action=\"/gateways/down/test\""] {
        assert!(page.contains(form), "{form} on the page");
    }
    let test = |name: &str, to: &str| {
        owner.post(app.url(&format!("/gateways/{name}/test"))).form(&[("csrf", csrf.as_str()), ("to", to)]).send()
    };
    let digits = &PHONE[1..];

    let r = test("kannel", "0151 12345678").await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("kannel: the gateway took the test message"), "{body}");
    for n in [digits, "0151 1234"] {
        if let Some(i) = body.find(n) {
            panic!("the page repeats the number: {}", &body[i.saturating_sub(200)..i + 20]);
        }
    }
    let got = phone.wait_for(1);
    assert!(got[0].contains("herold reaches you") && got[0].contains("via kannel"), "{got:?}");

    let r = test("down", PHONE).await.unwrap();
    assert_eq!(r.status(), 502);
    let body = r.text().await.unwrap();
    assert!(body.contains("down: the test message was not sent:"), "{body}");
    let r = test("kannel", "12ab").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("not a phone number"));
    assert_eq!(test("nope", PHONE).await.unwrap().status(), 404);

    let (log, _) = app.service.audit_log(50, 0).await.unwrap();
    let tests: Vec<_> = log.iter().filter(|e| e.action == "gateway_tested").collect();
    assert_eq!(tests.len(), 2, "the sent and the failed test, not the refused number: {tests:?}");
    let en = herold::i18n::texts(herold::i18n::Lang::En);
    assert!(tests.iter().any(|e| e.target == "kannel" && en.audit_detail(&e.detail).starts_with("test message taken")));
    assert!(tests.iter().any(|e| e.target == "down" && en.audit_detail(&e.detail).contains("cannot be reached")));
    for e in &tests {
        assert!(!e.detail.contains(digits) && !e.detail.contains("0151"), "{e:?}");
    }
    assert!(app.service.list_subscribers(Default::default(), 10, 0).await.unwrap().0.is_empty());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(phone.received().len(), 1, "only the one test message");
}

/// The documented Kannel setup loses nothing across a restart of herold: a STOP sent while herold is
/// down is kept by smsbox, posted again once herold is back, stored and answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_sent_while_herold_restarts_is_stored_and_confirmed_once_it_is_back() {
    let (sendsms, port) = (free_port(), free_port());
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.listen = format!("127.0.0.1:{port}");
    let mut g = common::gateway("kannel", GatewayKind::Kannel, &format!("http://127.0.0.1:{sendsms}"), HOOK_SECRET);
    g.sender = String::new();
    cfg.sms.gateways.push(g);
    let start = |cfg: herold::config::Config| async move {
        let app = herold::app::Application::build(&cfg).await.expect("herold starts");
        let (service, stop) = (app.service().clone(), app.stop_handle());
        (service, stop, tokio::spawn(app.run_until_stopped()))
    };
    let (service, stop, task) = start(cfg.clone()).await;
    let setup = service.gateway_setup();
    let config = setup[0].1.config();
    assert!(config.contains(herold::transport::sms::kannel::SMSBOX_LINES), "the page gives the smsbox lines");
    let kannel = Kannel::start(sendsms, &config[config.find("group = sms-service").unwrap()..]);
    service.create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sms])).await.unwrap();
    let phone = kannel.phone(PHONE, Some("START news"));
    assert!(!phone.wait_for(1).is_empty());
    drop(phone);
    assert_eq!(service.list_subscribers(Default::default(), 10, 0).await.unwrap().0.len(), 1);

    // herold stops (SIGTERM-like: the server drains and the worker stops); the phone sends STOP now.
    stop.stop(true).await;
    task.await.unwrap().unwrap();
    drop(service);
    let phone = kannel.phone(PHONE, Some("STOP"));
    tokio::time::sleep(Duration::from_secs(3)).await; // smsbox has tried and failed at least once
    let (service, stop, task) = start(cfg).await;
    let got = phone.wait_for(1);
    assert!(got[0].contains("NEWS"), "the goodbye arrives after the restart: {got:?}");
    let id = service.find_subscriber(PHONE).await.unwrap().unwrap();
    let detail = service.subscriber_detail(id).await.unwrap();
    assert_eq!(detail.consent.iter().filter(|e| e.kind == "optout").count(), 1, "the STOP is in the ledger once");
    stop.stop(true).await;
    task.await.unwrap().unwrap();
}

/// The dashboard and the Gateways page say whether Kannel answers: unknown or down before it runs,
/// reachable once a message went through it, and down (with since when, and that messages wait)
/// after it stopped, found by the next send. The waiting broadcast goes out once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_says_when_kannel_stops_answering() {
    let sendsms = free_port();
    let app = with_kannel(sendsms).await;
    let (owner, _) = app.admin_client("owner", herold::domain::Role::Owner).await;
    let health = || async {
        let page = owner.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        let at = page.find("<dt>SMS kannel</dt>").unwrap_or_else(|| panic!("the gateway on the dashboard: {page}"));
        let dd = &page[at..];
        dd[..dd.find("</dd>").unwrap()].to_string()
    };
    // Kannel is not running: the check at start finds nothing listening.
    let until = Instant::now() + Duration::from_secs(10);
    while !health().await.contains("not reachable since") {
        assert!(Instant::now() < until, "the dashboard never said kannel is down: {}", health().await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let kannel = start_kannel(&app, sendsms);
    let ch = app
        .service
        .create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sms]))
        .await
        .unwrap();
    let phone = kannel.phone(PHONE, Some("START news"));
    phone.wait_for(1);
    let h = health().await;
    assert!(h.contains("class=\"health-up\"") && h.contains("reachable (last answer"), "{h}");

    // Kannel stops; the next broadcast finds it gone and waits.
    drop(phone);
    drop(kannel);
    let (b, _) = app
        .service
        .create_broadcast(&Actor::Cli, common::compose_now(ch.id, "Training fällt aus", "k1"))
        .await
        .unwrap();
    let until = Instant::now() + Duration::from_secs(15);
    while !health().await.contains("class=\"health-down\"") {
        assert!(Instant::now() < until, "the dashboard never said kannel stopped: {}", health().await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let h = health().await;
    assert!(h.contains("not reachable since") && h.contains("Messages wait"), "{h}");
    let gateways = owner.get(app.url("/gateways")).send().await.unwrap().text().await.unwrap();
    assert!(gateways.contains("class=\"health-down\""), "the Gateways page says it too");
    assert_eq!(app.service.broadcast(b.id).await.unwrap().sent, 0);

    // Back: the waiting message goes out, and the dashboard says so.
    let kannel = start_kannel(&app, sendsms);
    let phone = kannel.phone(PHONE, None);
    let got = phone.wait_for(1);
    assert_eq!(got[0], "Training fällt aus");
    wait_until(&app, b.id, "the send", |b| b.sent == 1).await;
    assert!(health().await.contains("class=\"health-up\""));
}
