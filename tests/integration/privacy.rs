//! GDPR: erasure by crypto-shredding (admin, API, by message), the export, and the retention sweep,
//! on the real application and real SQLite files.

use crate::common;

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

async fn sandbox_channel(s: &Service, keyword: &str) -> herold::domain::ChannelId {
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
    let export = app.url(&format!("/api/v1/subscribers/{id}/export"));
    let json: serde_json::Value = api.get(&export).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(json["addresses"][0]["address"], number.as_str(), "the API export before the erasure");
    let url = app.url(&format!("/api/v1/subscribers/{id}"));
    assert_eq!(api.delete(&url).bearer_auth(&token).send().await.unwrap().status(), 204);
    assert_eq!(api.delete(&url).bearer_auth(&token).send().await.unwrap().status(), 404, "already gone");
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
    assert_eq!(
        deliveries.len(),
        4,
        "confirmation request, welcome, first answer to its message, broadcast: {deliveries:?}"
    );
    for other in spellings(&b).iter().map(String::as_str).chain(["Geheimnis von B"]) {
        assert!(!text.contains(other), "the export holds {other:?} of another subscriber");
    }
    // The readable page shows the same, and both exports are in the audit log.
    let page = c.get(app.url(&format!("/subscribers/{id}/export"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Grüße von A, bis Samstag") && page.contains(a.as_str()));
    let (audit, _) = s.audit_log(10, 0).await.unwrap();
    let exports: Vec<_> = audit.iter().filter(|e| e.action == "export").map(|e| e.detail.as_str()).collect();
    assert_eq!(exports, [r#"{"args":{},"code":"audit-export-page"}"#, r#"{"args":{},"code":"audit-export-json"}"#]);
    let de = herold::i18n::texts(herold::i18n::Lang::De);
    assert_eq!(exports.iter().map(|d| de.audit_detail(d)).collect::<Vec<_>>(), ["als Seite", "als JSON"]);
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
    assert_eq!(s.broadcast(b.id).await.unwrap().state, herold::domain::BroadcastState::Done);
    let ids = |n: &String| {
        let s = s.clone();
        let n = n.clone();
        async move { s.find_subscriber(&n).await.unwrap() }
    };
    let count = |sql: &'static str| {
        let c = rusqlite::Connection::open(data.join("herold.sqlite")).unwrap();
        c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap()
    };
    // Eight replies (two confirmation requests and welcomes, one more request, one goodbye, the first
    // answers to the two messages for the team) and one broadcast; the first answers are in the
    // conversations too.
    assert_eq!(count("SELECT count(*) FROM deliveries"), 9);
    assert_eq!(count("SELECT count(*) FROM thread_answers"), 2);

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
    assert_eq!(count("SELECT count(*) FROM thread_answers"), 0, "the answers went with the messages");
    assert_eq!(s.retention_sweep().await.unwrap(), Default::default(), "nothing is left to do");
    let c = rusqlite::Connection::open(data.join("herold.sqlite")).unwrap();
    let by_retention: i64 = c
        .query_row("SELECT count(*) FROM consent_events WHERE kind = 'erased' AND actor = 'retention'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(by_retention, 3);
}

fn herold_bin(data: &std::path::Path) -> std::process::Command {
    let mut c = common::herold_command(data.parent().unwrap_or(data));
    c.arg("--data-dir").arg(data).env("HEROLD_LOG", "warn").stdin(std::process::Stdio::null());
    c
}

#[tokio::test]
async fn a_backup_from_before_an_erasure_never_brings_the_subscriber_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = common::open_service(dir.path());
    let ch = sandbox_channel(&s, "NEWS").await;
    let [a, b]: [String; 2] = test_numbers(2).try_into().unwrap();
    let id_a = common::subscriber(&s, Transport::Sandbox, &a, ch).await;
    let id_b = common::subscriber(&s, Transport::Sandbox, &b, ch).await;
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    let before = backups.join("before.sqlite");
    s.backup(&before, false).await.unwrap();
    let key_a = wrapped_key(&data, id_a.0);
    s.erase_subscriber(&Actor::Cli, id_a).await.unwrap();
    s.checkpoint().await.unwrap();

    // The old data backup, read with today's keyring and master key: A's row is there, sealed, and
    // nothing can open it; B reads as before.
    let probe = dir.path().join("probe");
    std::fs::create_dir_all(&probe).unwrap();
    std::fs::copy(&before, probe.join("herold.sqlite")).unwrap();
    std::fs::copy(data.join("keyring.sqlite"), probe.join("keyring.sqlite")).unwrap();
    let cfg = herold::config::Config {
        data_dir: probe.clone(),
        key_file: Some(data.join("master.key")),
        ..common::config(dir.path())
    };
    let old = herold::app::open_service(&cfg, false).unwrap();
    assert_eq!(old.find_subscriber(&a).await.unwrap(), Some(id_a), "the old backup still holds the sealed row");
    assert!(matches!(
        old.export_subscriber(&Actor::Cli, id_a, "test").await,
        Err(herold::service::ServiceError::NotFound)
    ));
    assert_eq!(old.subscriber_detail(id_a).await.unwrap().summary.addresses[0].masked, "(unreadable)");
    assert_eq!(old.export_subscriber(&Actor::Cli, id_b, "test").await.unwrap().addresses[0].address, b);
    assert!(!files_contain(&data_files(&probe)[2..], &key_a));
    drop(old);
    drop(s);

    // herold restore: the backup comes back, and the erasure with it.
    let o = herold_bin(&data).arg("restore").arg(&before).output().unwrap();
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{out}");
    assert!(out.contains("erasures applied again: 1"), "{out}");
    let s = common::open_service(dir.path());
    assert_eq!(s.find_subscriber(&a).await.unwrap(), None);
    assert_eq!(s.export_subscriber(&Actor::Cli, id_b, "test").await.unwrap().addresses[0].address, b);
    let kinds = ledger_kinds(&data, id_a.0);
    assert_eq!(kinds.last().unwrap(), &("erased".to_string(), "restore".to_string()));
    let (audit, _) = s.audit_log(5, 0).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "restore"), "{audit:?}");
    drop(s);
    let o = herold_bin(&data).arg("verify").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(!files_contain(&data_files(&data), &key_a));

    // A damaged backup is refused and the current data stays as it is.
    let broken = backups.join("broken.sqlite");
    std::fs::write(&broken, b"this is not a database").unwrap();
    let o = herold_bin(&data).arg("restore").arg(&broken).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a readable herold backup"));
    let s = common::open_service(dir.path());
    assert!(s.find_subscriber(&b).await.unwrap().is_some());
}

#[tokio::test]
async fn scheduled_backups_keep_keyring_backups_shorter_than_data_backups() {
    const DAY: i64 = 86_400;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let s = open_service_at(dir.path(), clock.clone());
    let plan = herold::service::backup::BackupPlan {
        dir: dir.path().join("backups"),
        every_hours: 24,
        keep_days: 90,
        keyring_keep_days: 30,
    };
    let list = |p: &std::path::Path| {
        let mut v: Vec<String> =
            std::fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
        v.sort();
        v
    };
    assert!(s.backup_if_due(&plan).await.unwrap().is_some(), "the first one is due at once");
    clock.advance(3600);
    assert!(s.backup_if_due(&plan).await.unwrap().is_none(), "one a day");
    clock.advance(DAY);
    assert!(s.backup_if_due(&plan).await.unwrap().is_some());
    assert_eq!(list(&plan.dir).len(), 4);
    // 31 days after the first: its keyring backup is deleted, its data backup is kept.
    clock.advance(30 * DAY);
    let r = s.backup_if_due(&plan).await.unwrap().unwrap();
    assert_eq!(r.pruned, 1);
    let files = list(&plan.dir);
    assert_eq!(files.iter().filter(|f| f.starts_with("herold-data-")).count(), 3, "{files:?}");
    assert_eq!(files.iter().filter(|f| f.starts_with("herold-keyring-")).count(), 2, "{files:?}");
    assert!(!files.contains(&"herold-keyring-20270115T080000Z.sqlite".to_string()), "{files:?}");
    assert!(files.contains(&"herold-data-20270115T080000Z.sqlite".to_string()), "{files:?}");
    // Each backup is a complete database.
    let c = rusqlite::Connection::open(plan.dir.join("herold-data-20270115T080000Z.sqlite")).unwrap();
    let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
}

#[tokio::test]
async fn each_channel_has_a_privacy_notice_from_the_configuration() {
    let app = TestApp::spawn_with(|c| {
        c.privacy.controller = "Sportverein Musterstadt e.V.".into();
        c.privacy.contact = "datenschutz@example.org".into();
        c.retention.left_days = 14;
        c.backup.every_hours = 24;
        c.backup.keep_days = 60;
        c.backup.keyring_keep_days = 21;
    })
    .await;
    sandbox_channel(&app.service, "NEWS").await;
    let c = reqwest::Client::new();
    let de = c.get(app.url("/privacy/news")).send().await.unwrap();
    assert_eq!(de.status(), 200);
    let de = de.text().await.unwrap();
    for expected in [
        "Sportverein Musterstadt e.V.",
        "datenschutz@example.org",
        "gelöscht nach 14 Tagen",
        "Sicherungskopien: 60 Tage",
        "höchstens 21 Tage",
        "STOP NEWS",
        "LÖSCHEN",
    ] {
        assert!(de.contains(expected), "the German notice lacks {expected:?}");
    }
    let en = c.get(app.url("/privacy/news")).header("accept-language", "en-GB,en;q=0.9").send().await.unwrap();
    let en = en.text().await.unwrap();
    for expected in ["erased after 14 days", "Backups: 60 days", "at most 21 days", "90 days", "DELETE"] {
        assert!(en.contains(expected), "the English notice lacks {expected:?}");
    }
    assert!(c.get(app.url("/privacy/news?lang=de")).send().await.unwrap().text().await.unwrap().contains("Wer ist"));
    assert_eq!(c.get(app.url("/privacy/nothing")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn owners_read_the_audit_log_of_logins_and_changes() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.admin_client("olga", Role::Owner).await;
    let stranger = app.client();
    for (user, pw) in [("olga", "not-her-password"), ("nobody", "my-password-in-the-name-field")] {
        let csrf = app.form_csrf(&stranger, "/login").await;
        let form = [("csrf", csrf.as_str()), ("username", user), ("password", pw)];
        assert_eq!(stranger.post(app.url("/login")).form(&form).send().await.unwrap().status(), 401);
    }
    sandbox_channel(&app.service, "NEWS").await;
    let page = owner.get(app.url("/audit")).send().await.unwrap().text().await.unwrap();
    for expected in ["admin added", "logged in", "login failed", "unknown user", "channel created", "NEWS"] {
        assert!(page.contains(expected), "the audit page lacks {expected:?}");
    }
    assert!(!page.contains("my-password-in-the-name-field") && !page.contains("not-her-password"));
    let (editor, _) = app.admin_client("erik", Role::Editor).await;
    assert_eq!(editor.get(app.url("/audit")).send().await.unwrap().status(), 403);
}

/// Backups stay private: `herold backup` writes files only their owner can read (whatever the umask)
/// with the erasure list beside a data backup; restoring data with a keyring older than it erases the
/// people whose keys that keyring does not have, instead of bringing them back unreadable; reading a
/// backup leaves no `-wal`/`-shm` beside it.
#[tokio::test]
async fn backups_are_private_and_a_restore_erases_whom_no_key_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = common::open_service(dir.path());
    let ch = sandbox_channel(&s, "NEWS").await;
    let [a, b, c]: [String; 3] = test_numbers(3).try_into().unwrap();
    common::subscriber(&s, Transport::Sandbox, &a, ch).await;
    let id_b = common::subscriber(&s, Transport::Sandbox, &b, ch).await;
    s.erase_subscriber(&Actor::Cli, id_b).await.unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    let old_keys = backups.join("keyring-monday.sqlite");
    s.backup(&old_keys, true).await.unwrap();
    // C joins after the keyring backup: the old keyring has no key for C.
    common::subscriber(&s, Transport::Sandbox, &c, ch).await;
    let data_backup = backups.join("data-tuesday.sqlite");
    s.backup(&data_backup, false).await.unwrap();
    for f in [&old_keys, &data_backup, &backups.join("erased.list")] {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is mode {mode:o}", f.display());
    }
    assert!(
        std::fs::read_to_string(backups.join("erased.list")).unwrap().lines().count() >= 1,
        "B's erasure is beside"
    );
    drop(s);

    let o = herold_bin(&data).arg("restore").arg(&data_backup).arg("--keyring").arg(&old_keys).output().unwrap();
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{out}");
    assert!(out.contains("erased 1 subscribers who have no data key"), "{out}");
    let left: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with("-wal") || n.ends_with("-shm"))
        .collect();
    assert!(left.is_empty(), "reading the backups left {left:?}");
    let s = common::open_service(dir.path());
    assert!(s.find_subscriber(&a).await.unwrap().is_some(), "A is readable as before");
    assert_eq!(s.find_subscriber(&c).await.unwrap(), None, "C is erased, not back as unreadable");
    let ch_counts = s.channels().await.unwrap();
    assert_eq!(ch_counts.len(), 1);
    drop(s);
    let o = herold_bin(&data).arg("verify").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}
