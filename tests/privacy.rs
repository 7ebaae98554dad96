//! GDPR: erasure by crypto-shredding (admin, API, by message), the export, and the retention sweep,
//! on the real application and real SQLite files.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, data_files, files_contain, open_service_at, sandbox_message, spellings, test_numbers};
use herold::domain::clock::ManualClock;
use herold::domain::{OptInMode, Role, Transport};
use herold::service::Actor;
use herold::service::conversation::Outcome;
use herold::service::{Scope, Service};

fn wrapped_key(data: &std::path::Path, id: i64) -> Vec<u8> {
    let c = rusqlite::Connection::open(data.join("keyring.sqlite")).unwrap();
    c.query_row("SELECT wrapped FROM data_keys WHERE subscriber_id = ?1", [id], |r| r.get(0)).unwrap()
}

fn ledger_kinds(data: &std::path::Path, id: i64) -> Vec<(String, String)> {
    let c = rusqlite::Connection::open(data.join("herold.sqlite")).unwrap();
    let mut st = c.prepare("SELECT kind, actor FROM consent_events WHERE subscriber_id = ?1 ORDER BY id").unwrap();
    st.query_map([id], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

async fn sandbox_channel(s: &Service, keyword: &str) -> i64 {
    let d = common::draft(keyword, OptInMode::Double, &[Transport::Sandbox]);
    s.create_channel(&Actor::Cli, d).await.unwrap().id
}

#[tokio::test]
async fn an_erased_subscriber_is_unreadable_and_unfindable() {
    let app = TestApp::spawn().await;
    let s = &app.service;
    let ch = sandbox_channel(s, "NEWS").await;
    let number = &test_numbers(1)[0];
    s.receive(sandbox_message(number, "START news")).await.unwrap();
    s.receive(sandbox_message(number, "JA")).await.unwrap();
    s.receive(sandbox_message(number, "Wann ist das Sommerfest?")).await.unwrap();
    s.create_broadcast(&Actor::Cli, common::compose_now(ch, "Training fällt aus", "b1")).await.unwrap();
    common::wait_until_sent(s).await;
    let id = s.find_subscriber(number).await.unwrap().expect("subscribed");
    let key = wrapped_key(&app.data_dir(), id.0);

    // Erase through the API with a write token.
    let owner = s.add_admin(&Actor::Cli, "olga", "olga-password-1".into(), Role::Owner).await.unwrap();
    let (_, token) = s.create_token(&Actor::Cli, owner.id, "gdpr", Scope::Write).await.unwrap();
    let api = reqwest::Client::new();
    let url = app.url(&format!("/api/v1/subscribers/{id}"));
    assert_eq!(api.delete(&url).bearer_auth(&token).send().await.unwrap().status(), 204);
    assert_eq!(api.delete(&url).bearer_auth(&token).send().await.unwrap().status(), 404, "already gone");
    let export = app.url(&format!("/api/v1/subscribers/{id}/export"));
    assert_eq!(api.get(&export).bearer_auth(&token).send().await.unwrap().status(), 404);

    // Nothing finds the address; the wrapped key is gone from the keyring file and its WAL.
    assert_eq!(s.find_subscriber(number).await.unwrap(), None);
    let files = data_files(&app.data_dir());
    assert!(!files_contain(&files[2..], &key), "the wrapped data key is still in the keyring files");
    s.checkpoint().await.unwrap();
    assert!(!files_contain(&files[2..], &key), "the wrapped data key is still in the keyring files");
    for spelling in spellings(number) {
        assert!(!files_contain(&files, spelling.as_bytes()), "{spelling} is in a data file");
    }
    for text in ["Wann ist das Sommerfest", "START news"] {
        assert!(!files_contain(&files, text.as_bytes()), "{text:?} is in a data file");
    }
    // The ledger keeps the pseudonymous history, closed by an erasure, and its chain holds.
    let kinds = ledger_kinds(&app.data_dir(), id.0);
    assert_eq!(kinds.last().unwrap(), &("erased".to_string(), "token:1".to_string()));
    assert!(kinds.iter().any(|(k, _)| k == "optin_confirmed"));
    let report = herold::service::ops::verify(&herold::store::DataPaths::new(&app.data_dir(), None)).unwrap();
    assert!(report.ok(), "{report:?}");
    assert!(std::fs::read_to_string(app.data_dir().join("erased.list")).unwrap().contains(&id.to_string()));
    let (audit, _) = s.audit_log(10, 0).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "erasure" && e.target == format!("subscriber {id}")));

    // The same number starts from zero: a new pseudonym, no subscription until it opts in again.
    let again = s.receive(sandbox_message(number, "HILFE")).await.unwrap();
    assert_eq!(again.outcome, Outcome::Help);
    let new_id = s.find_subscriber(number).await.unwrap().unwrap();
    assert_ne!(new_id, id);
    assert!(s.subscriber_detail(new_id).await.unwrap().subscriptions.is_empty());
}

#[tokio::test]
async fn delete_by_message_asks_then_erases_after_the_last_reply() {
    let app = TestApp::spawn().await;
    let s = &app.service;
    sandbox_channel(s, "NEWS").await;
    let [a, b]: [String; 2] = test_numbers(2).try_into().unwrap();
    for n in [&a, &b] {
        s.receive(sandbox_message(n, "START news")).await.unwrap();
        s.receive(sandbox_message(n, "JA")).await.unwrap();
    }
    // B asks, then says something else: the request is withdrawn, a later YES erases nothing.
    assert_eq!(s.receive(sandbox_message(&b, "DELETE")).await.unwrap().outcome, Outcome::DeleteRequested);
    assert_eq!(s.receive(sandbox_message(&b, "HELP")).await.unwrap().outcome, Outcome::Help);
    assert_ne!(s.receive(sandbox_message(&b, "YES")).await.unwrap().outcome, Outcome::Erasing);

    let id = s.find_subscriber(&a).await.unwrap().unwrap();
    assert_eq!(s.receive(sandbox_message(&a, "LÖSCHEN")).await.unwrap().outcome, Outcome::DeleteRequested);
    common::wait_until_sent(s).await;
    let screen = s.sandbox_screen(id).await.unwrap();
    assert!(screen.iter().any(|l| l.text.contains("Antworte JA")), "asked to confirm: {screen:?}");
    assert_eq!(s.receive(sandbox_message(&a, "Ja")).await.unwrap().outcome, Outcome::Erasing);

    // The worker sends the last reply; its chores then erase (they run every 5 s).
    let mut gone = false;
    for _ in 0..150 {
        if s.find_subscriber(&a).await.unwrap().is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the subscriber was not erased");
    let kinds = ledger_kinds(&app.data_dir(), id.0);
    assert_eq!(kinds.last().unwrap(), &("erased".to_string(), "subscriber".to_string()));
    assert!(s.find_subscriber(&b).await.unwrap().is_some(), "the other subscriber stays");
    let sent: i64 = rusqlite::Connection::open(app.data_dir().join("herold.sqlite"))
        .unwrap()
        .query_row("SELECT count(*) FROM deliveries WHERE subscriber_id = ?1", [id.0], |r| r.get(0))
        .unwrap();
    assert_eq!(sent, 0, "the replies to an erased subscriber are deleted");
}

#[tokio::test]
async fn the_export_holds_everything_of_one_subscriber_and_nothing_of_another() {
    let app = TestApp::spawn().await;
    let s = &app.service;
    let ch = sandbox_channel(s, "NEWS").await;
    let [a, b]: [String; 2] = test_numbers(2).try_into().unwrap();
    s.receive(sandbox_message(&a, "START news")).await.unwrap();
    s.receive(sandbox_message(&a, "JA")).await.unwrap();
    s.receive(sandbox_message(&a, "Grüße von A, bis Samstag")).await.unwrap();
    s.receive(sandbox_message(&b, "START news")).await.unwrap();
    s.receive(sandbox_message(&b, "JA")).await.unwrap();
    s.receive(sandbox_message(&b, "Geheimnis von B")).await.unwrap();
    s.create_broadcast(&Actor::Cli, common::compose_now(ch, "Sommerfest am Samstag", "e1")).await.unwrap();
    common::wait_until_sent(s).await;
    let id = s.find_subscriber(&a).await.unwrap().unwrap();

    let (c, _) = app.admin_client("erik", Role::Editor).await;
    let r = c.get(app.url(&format!("/subscribers/{id}/export.json"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let json: serde_json::Value = r.json().await.unwrap();
    let text = json.to_string();
    assert_eq!(json["subscriber"], id.to_string());
    assert_eq!(json["addresses"][0]["address"], a.as_str());
    assert_eq!(json["subscriptions"][0]["channel"], "NEWS channel");
    assert_eq!(json["subscriptions"][0]["state"], "active");
    let kinds: Vec<&str> = json["consent"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["optin_requested", "optin_confirmed"]);
    assert_eq!(json["consent"][0]["message"], "START news");
    assert_eq!(json["consent"][1]["message"], "JA");
    assert_eq!(json["consent"][0]["wording"]["name"], "NEWS channel", "the wording shown: {}", json["consent"][0]);
    assert_eq!(json["inbox"][0]["text"], "Grüße von A, bis Samstag");
    assert_eq!(json["inbox"].as_array().unwrap().len(), 1);
    assert!(text.contains("Sommerfest am Samstag"), "the broadcast it got");
    assert!(text.contains("Antworte JA"), "the replies it got");
    let deliveries = json["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 3, "confirmation request, welcome, broadcast: {deliveries:?}");
    for other in spellings(&b).iter().map(String::as_str).chain(["Geheimnis von B"]) {
        assert!(!text.contains(other), "the export holds {other:?} of another subscriber");
    }
    // The readable page shows the same, and both exports are in the audit log.
    let page = c.get(app.url(&format!("/subscribers/{id}/export"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Grüße von A, bis Samstag") && page.contains(a.as_str()));
    let (audit, _) = s.audit_log(10, 0).await.unwrap();
    let exports: Vec<_> = audit.iter().filter(|e| e.action == "export").map(|e| e.detail.as_str()).collect();
    assert_eq!(exports, ["page", "json"]);
}

#[tokio::test]
async fn the_retention_sweep_removes_exactly_what_is_due() {
    const DAY: i64 = 86_400;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let s = open_service_at(dir.path(), clock.clone());
    let data = dir.path().join("data");
    let ch = sandbox_channel(&s, "NEWS").await;
    let [active, left, unconfirmed, writer]: [String; 4] = test_numbers(4).try_into().unwrap();
    for n in [&active, &left] {
        s.receive(sandbox_message(n, "START news")).await.unwrap();
        s.receive(sandbox_message(n, "JA")).await.unwrap();
    }
    s.receive(sandbox_message(&active, "Eine Frage an den Vorstand")).await.unwrap();
    s.receive(sandbox_message(&unconfirmed, "START news")).await.unwrap();
    s.receive(sandbox_message(&writer, "Nur eine Nachricht")).await.unwrap();
    s.receive(sandbox_message(&left, "STOP")).await.unwrap();
    let (b, _) = s.create_broadcast(&Actor::Cli, common::compose_now(ch, "Hallo", "r1")).await.unwrap();
    common::drain(&s).await;
    assert_eq!(s.broadcast(b.id).await.unwrap().state, "done");
    let ids = |n: &String| {
        let s = s.clone();
        let n = n.clone();
        async move { s.find_subscriber(&n).await.unwrap() }
    };
    let count = |sql: &'static str| {
        let c = rusqlite::Connection::open(data.join("herold.sqlite")).unwrap();
        c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap()
    };
    // Six replies (two confirmation requests and welcomes, one more request, one goodbye) and one broadcast.
    assert_eq!(count("SELECT count(*) FROM deliveries"), 7);

    // Day 3: the double opt-in has expired (48 h); nothing is due yet.
    clock.advance(3 * DAY);
    s.expire_pending().await.unwrap();
    assert_eq!(s.retention_sweep().await.unwrap(), Default::default());

    // Day 11: the contact that never confirmed is erased, 7 days after its opt-in expired. The one
    // that only wrote a message stays while the message is kept (90 days).
    clock.advance(8 * DAY);
    let r = s.retention_sweep().await.unwrap();
    assert_eq!((r.erased, r.inbox, r.deliveries), (1, 0, 0), "{r:?}");
    assert!(ids(&unconfirmed).await.is_none());
    for n in [&active, &left, &writer] {
        assert!(ids(n).await.is_some());
    }

    // Day 31: the one who left 31 days ago is erased, and the broadcast's delivery rows go (30 days
    // after it finished); the broadcast keeps its counts. The replies went too.
    clock.advance(20 * DAY);
    let r = s.retention_sweep().await.unwrap();
    assert_eq!(r.erased, 1, "{r:?}");
    assert_eq!(r.inbox, 0);
    assert!(ids(&left).await.is_none());
    assert_eq!(count("SELECT count(*) FROM deliveries"), 0);
    assert_eq!(s.broadcast(b.id).await.unwrap().sent, 1);

    // Day 91: the inbox messages are gone, and with them the contact that only wrote; the active
    // subscriber stays.
    clock.advance(60 * DAY);
    let r = s.retention_sweep().await.unwrap();
    assert_eq!((r.erased, r.inbox), (1, 2), "{r:?}");
    assert!(ids(&writer).await.is_none());
    assert!(ids(&active).await.is_some());
    assert_eq!(count("SELECT count(*) FROM inbox"), 0);
    assert_eq!(s.retention_sweep().await.unwrap(), Default::default(), "nothing is left to do");
    let c = rusqlite::Connection::open(data.join("herold.sqlite")).unwrap();
    let by_retention: i64 = c
        .query_row("SELECT count(*) FROM consent_events WHERE kind = 'erased' AND actor = 'retention'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(by_retention, 3);
}
