//! Importing an existing member list (CSV) with its consent, on real SQLite files: the preview with
//! line numbers, the commit of exactly the good rows, known addresses, and all-or-nothing.

use crate::common;

use common::{channel, open_service, subscriber, test_numbers};
use herold::domain::{SubscriptionState, Transport};
use herold::service::Actor;
use herold::service::import::ImportRequest;

fn count(s: &herold::service::Service, sql: &str) -> i64 {
    s.store().conn().unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn a_member_list_is_previewed_with_line_numbers_and_only_its_good_rows_are_added() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_service(dir.path());
    let (news, club) = (channel(&s, "NEWS").await, channel(&s, "VEREIN").await);
    let n = test_numbers(6);
    // Known already: one in VEREIN (gets NEWS added), one in VEREIN who left it (not added back).
    let known = subscriber(&s, Transport::Sms, &n[3], news.id).await;
    let left = subscriber(&s, Transport::Sms, &n[4], club.id).await;
    let stop =
        herold::service::conversation::Inbound { transport: Transport::Sms, ..common::sandbox_message(&n[4], "STOP") };
    s.receive(stop).await.unwrap();
    let csv = format!(
        "\u{feff}Nummer;Sprache;Name\n{};de;Anna\nkeine Nummer;de;Bert\n{};en;Cem\n{};;Anna again\n@dora:example.org;en;Dora\n{};de;known\n{};de;left\n;de;empty\n",
        n[0], n[1], n[0], n[3], n[4]
    );
    let req = ImportRequest {
        channels: vec![club.id],
        csv,
        consent_source: "Mitgliederversammlung 3.5.2026, Formular v2".into(),
        mode: Default::default(),
    };
    let before = count(&s, "SELECT count(*) FROM subscribers");
    let preview = s.import_preview(req.clone()).await.unwrap();
    assert_eq!(count(&s, "SELECT count(*) FROM subscribers"), before, "a preview writes nothing");
    assert_eq!(
        (preview.rows, preview.new, preview.known, preview.already, preview.left_before),
        (8, 3, 1, 0, 1),
        "{preview:?}"
    );
    assert_eq!(preview.duplicates, vec![5], "the repeat of line 2 counts once");
    let lines: Vec<(usize, &str)> = preview.errors.iter().map(|e| (e.line, e.problem.code)).collect();
    assert_eq!(lines, vec![(3, "phone-not-a-number"), (9, "address-needed")]);
    assert!(!preview.committed);

    let done = s.import_commit(&Actor::Cli, req).await.unwrap();
    assert!(done.committed);
    assert_eq!((done.new, done.known, done.subscriptions), (3, 1, 4));
    assert_eq!(count(&s, "SELECT count(*) FROM subscribers"), before + 3);
    // The known subscriber now has both channels; their import event names the import's source as
    // what they agreed to: a wording version of the channel after its own (which stays current).
    let detail = s.subscriber_detail(known).await.unwrap();
    let channels: Vec<_> = detail.subscriptions.iter().map(|x| (x.channel_id, x.state)).collect();
    assert!(channels.contains(&(club.id, SubscriptionState::Active)), "{channels:?}");
    let export = s.export_subscriber(&Actor::Cli, known, "test").await.unwrap();
    let import = export.consent.iter().rfind(|e| e.kind == "import").unwrap();
    assert_eq!(import.wording_version, Some(club.wording_version + 1));
    let wording = import.wording.as_ref().unwrap();
    assert_eq!(wording["consent_source"], "Mitgliederversammlung 3.5.2026, Formular v2", "{wording}");
    assert_eq!(wording["channel_wording_version"], club.wording_version);
    // All four events of this import name that version: the source is stored once per channel.
    let sql = format!(
        "SELECT count(*) FROM consent_events WHERE kind = 'import' AND channel_id = {} AND wording_version = {}",
        club.id,
        club.wording_version + 1
    );
    assert_eq!(count(&s, &sql), 4);
    // The channel's next change of wording takes the version after the import's.
    let mut draft = club.draft.clone();
    draft.description = "Neu: mit Terminen".into();
    let changed = s.update_channel(&Actor::Cli, club.id, draft).await.unwrap();
    assert_eq!(changed.wording_version, club.wording_version + 2);
    // The one who left VEREIN is still out of it.
    let detail = s.subscriber_detail(left).await.unwrap();
    assert!(detail.subscriptions.iter().all(|x| x.state != SubscriptionState::Active), "{:?}", detail.subscriptions);
    // The Matrix id was recognised as one.
    let dora = s.find_subscriber("@dora:example.org").await.unwrap().unwrap();
    // The name column is kept with each new subscriber, sealed: readable on their page and in their
    // export, nowhere in the files as text; a subscriber herold knew keeps what they had.
    assert_eq!(s.subscriber_detail(dora).await.unwrap().note.as_deref(), Some("Dora"));
    let anna = s.find_subscriber(&n[0]).await.unwrap().unwrap();
    assert_eq!(s.export_subscriber(&Actor::Cli, anna, "test").await.unwrap().note.as_deref(), Some("Anna"));
    assert_eq!(s.subscriber_detail(known).await.unwrap().note, None);
    s.checkpoint().await.unwrap();
    assert!(!common::files_contain(&common::data_files(&dir.path().join("data")), b"Dora"));
    let report = herold::service::ops::verify(s.store().paths()).unwrap();
    assert!(report.ok(), "{report:?}");
}

#[tokio::test]
async fn an_import_that_fails_while_writing_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_service(dir.path());
    let ch = channel(&s, "NEWS").await;
    let n = test_numbers(5);
    let csv = std::iter::once("number".to_string()).chain(n.iter().cloned()).collect::<Vec<_>>().join("\n");
    // The disk gives out after the third consent event.
    s.store()
        .conn()
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER fail_import BEFORE INSERT ON consent_events WHEN (SELECT count(*) FROM consent_events) >= 3 \
             BEGIN SELECT RAISE(ABORT, 'disk trouble'); END;",
        )
        .unwrap();
    let req = ImportRequest {
        channels: vec![ch.id],
        csv,
        consent_source: "Liste vom Sommerfest".into(),
        mode: Default::default(),
    };
    assert!(s.import_commit(&Actor::Cli, req).await.is_err());
    assert_eq!(count(&s, "SELECT count(*) FROM subscribers"), 0);
    assert_eq!(count(&s, "SELECT count(*) FROM subscriptions"), 0);
    assert_eq!(count(&s, "SELECT count(*) FROM consent_events"), 0);
    assert_eq!(count(&s, "SELECT count(*) FROM keyring.data_keys"), 0, "no key left behind");
    assert_eq!(count(&s, "SELECT count(*) FROM audit_events"), 1, "only the channel's creation is audited");
}

/// "Ask them": each person on the list gets the channel's confirmation request; only those who answer
/// JA are subscribed, the others wait and lapse.
#[tokio::test]
async fn ask_them_sends_the_confirmation_request_and_subscribes_only_who_answers() {
    use herold::service::import::ImportMode;
    let dir = tempfile::tempdir().unwrap();
    let s = open_service(dir.path());
    let mut draft = common::draft("NEWS", herold::domain::OptInMode::Double, &[Transport::Sandbox]);
    draft.name = "Vereinsnews".into();
    let ch = s.create_channel(&Actor::Cli, draft).await.unwrap();
    let n = test_numbers(2);
    // The channel reaches phones through the sandbox only: the numbers become sandbox phones.
    let csv = format!("number;language\n{};de\n{};en\n", n[0], n[1]);
    let req = ImportRequest {
        channels: vec![ch.id],
        csv,
        consent_source: "Liste der Jugendabteilung".into(),
        mode: ImportMode::Ask,
    };
    let done = s.import_commit(&Actor::Cli, req).await.unwrap();
    assert!(done.committed && done.asked, "{done:?}");
    assert_eq!(count(&s, "SELECT count(*) FROM subscriptions WHERE state = 'pending'"), 2);
    assert_eq!(count(&s, "SELECT count(*) FROM subscriptions WHERE state = 'active'"), 0, "nobody is subscribed yet");
    common::drain(&s).await;
    let first = s.find_subscriber(&n[0]).await.unwrap().unwrap();
    let screen = s.sandbox_screen(first).await.unwrap();
    assert!(screen.iter().any(|l| !l.inbound && l.text.contains("Vereinsnews") && l.text.contains("JA")), "{screen:?}");
    let second = s.find_subscriber(&n[1]).await.unwrap().unwrap();
    let screen = s.sandbox_screen(second).await.unwrap();
    assert!(screen.iter().any(|l| !l.inbound && l.text.contains("Reply YES")), "in their language: {screen:?}");
    // The first answers JA: subscribed, with a confirmation in the ledger; the second is still asked.
    s.receive(common::sandbox_message(&n[0], "JA")).await.unwrap();
    let d = s.subscriber_detail(first).await.unwrap();
    assert_eq!(d.subscriptions[0].state, SubscriptionState::Active);
    let kinds: Vec<&str> = d.consent.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["optin_requested", "optin_confirmed"]);
    assert_eq!(d.consent[0].inbound_text.as_deref(), Some("Liste der Jugendabteilung"));
    assert_eq!(s.subscriber_detail(second).await.unwrap().subscriptions[0].state, SubscriptionState::Pending);
}
