//! The store and the services on real SQLite files: migrations, all-or-nothing imports, the ledger.

use crate::common;

use common::{channel, open_service, subscriber, test_numbers};
use herold::domain::Transport;
use herold::service::subscribers::AddSubscriber;
use herold::service::{Actor, ServiceError};
use herold::store::open::{MAIN_SCHEMA, main_migrations};

#[test]
fn migrations_apply_to_a_fresh_database_and_from_every_earlier_version() {
    let m = main_migrations();
    m.validate().expect("migrations are valid SQL in order");
    for from in 0..MAIN_SCHEMA as usize {
        let dir = tempfile::tempdir().unwrap();
        let mut c = rusqlite::Connection::open(dir.path().join("db")).unwrap();
        m.to_version(&mut c, from).unwrap();
        m.to_latest(&mut c).unwrap();
        let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, MAIN_SCHEMA, "from version {from}");
        let tables: i64 = c
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'consent_events'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(tables, 1);
    }
}

/// Reasons written as English sentences by an earlier herold read back as "recorded by an earlier
/// version" after the upgrade, instead of failing the page that shows them.
#[tokio::test]
async fn reasons_stored_as_sentences_by_an_earlier_version_read_back_after_the_upgrade() {
    use herold::domain::Reason;
    let dir = tempfile::tempdir().unwrap();
    let b = {
        let s = open_service(dir.path());
        let ch = channel(&s, "NEWS").await;
        subscriber(&s, Transport::Sandbox, &test_numbers(1)[0], ch.id).await;
        let compose = herold::service::broadcasts::Compose {
            send_at: Some(4_000_000_000),
            ..common::compose_now(ch.id, "Training fällt aus", "upgrade")
        };
        let (b, _) = s.create_broadcast(&Actor::Cli, compose).await.unwrap();
        s.pause_broadcast(&Actor::Cli, b.id, Reason::PausedByAdmin).await.unwrap();
        b.id
    };
    {
        // As version 9 left it: English sentences, and the schema one version back.
        let c = rusqlite::Connection::open(dir.path().join("data/herold.sqlite")).unwrap();
        c.execute(
            "UPDATE broadcasts SET pause_reason = 'paused by an admin', waiting_reason = 'gateway x cannot be reached'",
            [],
        )
        .unwrap();
        c.execute("INSERT INTO early_reports(transport, gateway_id, delivered, error, at) VALUES ('sms', 'x:1', 0, 'type 16', 0)", [])
            .unwrap();
        // What the migrations after 11 add, which version 9 did not have.
        c.execute_batch(
            "DROP TABLE webhook_deliveries; DROP TABLE webhook_endpoints; ALTER TABLE subscribers DROP COLUMN note_sealed; \
             ALTER TABLE broadcasts DROP COLUMN translation; ALTER TABLE channels DROP COLUMN quiet; \
             ALTER TABLE channels DROP COLUMN over_cap; DROP TABLE drafts; ALTER TABLE admins DROP COLUMN time_zone; \
             DROP TABLE keyword_answers; DROP TABLE threads; DROP TABLE thread_answers; \
             DROP TABLE team_room; DROP TABLE team_notices; DROP TABLE gateway_days; DROP TABLE gateway_recipients; \
             ALTER TABLE deliveries DROP COLUMN via;",
        )
        .unwrap();
        c.pragma_update(None, "user_version", 9).unwrap();
    }
    let s = open_service(dir.path());
    let got = s.broadcast(b).await.unwrap();
    assert_eq!((got.pause_reason, got.waiting_reason), (Some(Reason::Earlier), Some(Reason::Earlier)));
    let c = rusqlite::Connection::open(dir.path().join("data/herold.sqlite")).unwrap();
    let early: String = c.query_row("SELECT error FROM early_reports", [], |r| r.get(0)).unwrap();
    assert_eq!(early, r#"{"code":"earlier"}"#);
}

#[tokio::test]
async fn reopening_keeps_data_and_the_blind_index() {
    let dir = tempfile::tempdir().unwrap();
    let numbers = test_numbers(3);
    {
        let s = open_service(dir.path());
        let ch = channel(&s, "NEWS").await;
        for n in &numbers {
            subscriber(&s, Transport::Sandbox, n, ch.id).await;
        }
    }
    let s = open_service(dir.path());
    for n in &numbers {
        assert!(s.find_subscriber(n).await.unwrap().is_some());
    }
    // The same number on another transport is another address.
    let ch = s.channels().await.unwrap().remove(0);
    subscriber(&s, Transport::Sms, &numbers[0], ch.id).await;
    assert!(s.add_subscriber(&Actor::Cli, req(Transport::Sms, &numbers[0], ch.id)).await.is_err());
}

fn req(transport: Transport, address: &str, channel: herold::domain::ChannelId) -> AddSubscriber {
    AddSubscriber {
        transport,
        address: address.into(),
        language: "en".into(),
        channels: vec![channel],
        consent_note: "web form".into(),
    }
}

fn count(dir: &std::path::Path, file: &str, table: &str) -> i64 {
    let c = rusqlite::Connection::open(dir.join("data").join(file)).unwrap();
    c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn an_import_is_all_or_nothing_and_leaves_no_orphan_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_service(dir.path());
    let ch = channel(&s, "NEWS").await;
    let n = test_numbers(4);
    // One request names a channel that does not exist: nothing is written.
    let batch = vec![req(Transport::Sms, &n[0], ch.id), req(Transport::Sms, &n[1], herold::domain::ChannelId(999))];
    match s.add_subscribers(&Actor::Cli, batch).await {
        Err(ServiceError::Invalid(m)) => assert!(m.to_string().contains("no channel 999"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // A malformed address is refused before anything is written.
    let batch = vec![req(Transport::Sms, &n[0], ch.id), req(Transport::Sms, "12", ch.id)];
    assert!(matches!(s.add_subscribers(&Actor::Cli, batch).await, Err(ServiceError::Invalid(_))));
    // The same address twice in one list.
    let batch = vec![req(Transport::Sms, &n[2], ch.id), req(Transport::Sms, &n[2], ch.id)];
    assert!(matches!(s.add_subscribers(&Actor::Cli, batch).await, Err(ServiceError::Conflict(_))));
    s.checkpoint().await.unwrap();
    assert_eq!(count(dir.path(), "herold.sqlite", "subscribers"), 0);
    assert_eq!(count(dir.path(), "herold.sqlite", "consent_events"), 0);
    assert_eq!(count(dir.path(), "keyring.sqlite", "data_keys"), 0);

    let ok = vec![req(Transport::Sms, &n[0], ch.id), req(Transport::Matrix, "@x:example.org", ch.id)];
    let ids = s.add_subscribers(&Actor::Cli, ok).await.unwrap();
    assert_eq!(ids.len(), 2);
    s.checkpoint().await.unwrap();
    assert_eq!(count(dir.path(), "keyring.sqlite", "data_keys"), 2);
    let report = herold::service::ops::verify(s.store().paths()).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.ledger_events, 2);
}

#[tokio::test]
async fn the_ledger_refuses_updates_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_service(dir.path());
    let ch = channel(&s, "NEWS").await;
    subscriber(&s, Transport::Sms, &test_numbers(1)[0], ch.id).await;
    let c = s.store().conn().unwrap();
    let err = c.execute("UPDATE consent_events SET actor = 'x'", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = c.execute("DELETE FROM consent_events", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[tokio::test]
async fn consent_events_record_wording_and_the_exact_text() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_service(dir.path());
    let ch = channel(&s, "NEWS").await;
    let id = subscriber(&s, Transport::Sms, &test_numbers(1)[0], ch.id).await;
    let d = s.subscriber_detail(id).await.unwrap();
    let e = &d.consent[0];
    assert_eq!(e.kind, "import");
    assert_eq!(e.channel_id, Some(ch.id));
    assert_eq!(e.wording_version, Some(1));
    assert_eq!(e.wording_sha256.as_deref(), Some(hex_of(ch.draft.wording_sha256()).as_str()));
    assert_eq!(e.inbound_text.as_deref(), Some("signed the list at the club house"));
    assert_eq!(e.actor, "cli");
    assert_eq!(d.subscriptions[0].state, herold::domain::SubscriptionState::Active);
}

fn hex_of(b: [u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The dashboard's totals are kept by triggers, not counted: after opt-ins (pending and confirmed),
/// imports, STOP, a re-opt-in and an erasure they equal a recount, and `verify` says so; a total
/// changed behind herold's back is reported.
#[tokio::test]
async fn kept_subscriber_totals_match_a_recount() {
    use herold::service::conversation::Inbound;
    let dir = tempfile::tempdir().unwrap();
    let s = open_service(dir.path());
    let news = channel(&s, "NEWS").await;
    let club = channel(&s, "CLUB").await;
    let numbers = test_numbers(6);
    let say = |from: &str, text: &str| Inbound {
        transport: Transport::Sandbox,
        from: from.to_string(),
        text: text.to_string(),
        gateway_message_id: None,
        room: None,
    };
    for n in &numbers[..4] {
        s.receive(say(n, "START news")).await.unwrap();
    }
    for n in &numbers[..3] {
        s.receive(say(n, "JA")).await.unwrap();
    }
    let imported = subscriber(&s, Transport::Sms, &numbers[4], club.id).await;
    subscriber(&s, Transport::Sms, &numbers[5], club.id).await;
    s.receive(say(&numbers[0], "STOP")).await.unwrap();
    s.receive(say(&numbers[0], "START news")).await.unwrap();
    s.erase_subscriber(&Actor::Cli, imported).await.unwrap();

    let counts = s.channel_counts().await.unwrap();
    let of = |id: herold::domain::ChannelId| counts.iter().find(|c| c.channel.id == id).unwrap();
    assert_eq!(
        (of(news.id).active[&Transport::Sandbox], of(news.id).pending_total),
        (2, 2),
        "2 confirmed; 1 never, 1 again"
    );
    assert_eq!((of(club.id).active[&Transport::Sms], of(club.id).active_total), (1, 1), "2 imported, 1 erased");
    let paths = herold::store::DataPaths::new(&dir.path().join("data"), None);
    let report = herold::service::ops::verify(&paths).unwrap();
    assert!(report.totals_mismatches.is_empty(), "{:?}", report.totals_mismatches);
    assert!(report.ok());

    let conn = rusqlite::Connection::open(dir.path().join("data/herold.sqlite")).unwrap();
    conn.execute("UPDATE channel_totals SET active = active + 5 WHERE channel_id = ?1", [club.id]).unwrap();
    drop(conn);
    let report = herold::service::ops::verify(&paths).unwrap();
    assert_eq!(report.totals_mismatches.len(), 1, "{:?}", report.totals_mismatches);
    assert!(report.totals_mismatches[0].contains("kept 6 active"), "{:?}", report.totals_mismatches);
    assert!(!report.ok());
}

/// Migration 0007 rebuilds the outbox table with a cheaper state check: every row keeps its id and
/// values, the indexes are all there again, and a state outside the list is still refused.
#[test]
fn the_outbox_rebuild_keeps_every_row_and_still_checks_the_state() {
    let m = main_migrations();
    let dir = tempfile::tempdir().unwrap();
    let mut c = rusqlite::Connection::open(dir.path().join("db")).unwrap();
    c.pragma_update(None, "foreign_keys", true).unwrap();
    m.to_version(&mut c, 6).unwrap();
    c.execute_batch(
        "INSERT INTO broadcasts(id, kind, body, sms_text, state, idempotency_key, send_at, created_by, created_at) \
         VALUES (7, 'broadcast', 'x', 'x', 'sending', 'k', 0, 'cli', 0); \
         INSERT INTO deliveries(id, broadcast_id, subscriber_id, transport, state, next_attempt_at, updated_at) \
         VALUES (10, 7, 1, 'sms', 'queued', 5, 5); \
         INSERT INTO deliveries(id, broadcast_id, subscriber_id, transport, state, attempts, gateway_id, error, \
         next_attempt_at, lease_until, updated_at) VALUES (11, 7, 2, 'sms', 'sent', 2, 'kannel:11', '{\"code\":\"earlier\"}', 6, 9, 6); \
         INSERT INTO deliveries(id, subscriber_id, transport, body_sealed, priority, state, next_attempt_at, updated_at) \
         VALUES (12, 3, 'matrix', x'0102', 0, 'queued', 7, 7);",
    )
    .unwrap();
    let rows = |c: &rusqlite::Connection| -> Vec<String> {
        let mut s = c.prepare("SELECT * FROM deliveries ORDER BY id").unwrap();
        s.query_map([], |r| Ok((0..13).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect::<Vec<_>>().join("|")))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let before = rows(&c);
    m.to_latest(&mut c).unwrap();
    assert_eq!(rows(&c), before);
    assert_eq!(before.len(), 3);
    let mut indexes: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' AND sql IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    indexes.sort();
    assert_eq!(
        indexes,
        ["deliveries_gateway", "deliveries_leased", "deliveries_once", "deliveries_queue", "deliveries_replies"]
    );
    let bad = c.execute(
        "INSERT INTO deliveries(broadcast_id, subscriber_id, transport, state, next_attempt_at, updated_at) \
         VALUES (7, 4, 'sms', 'lost', 1, 1)",
        [],
    );
    assert!(bad.unwrap_err().to_string().contains("CHECK constraint failed"));
    let dup = c.execute(
        "INSERT INTO deliveries(broadcast_id, subscriber_id, transport, state, next_attempt_at, updated_at) \
         VALUES (7, 1, 'sms', 'queued', 1, 1)",
        [],
    );
    assert!(dup.unwrap_err().to_string().contains("UNIQUE"), "deliveries_once is unique again");
}
