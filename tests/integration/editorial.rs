//! The editorial week: quiet hours, the per-person cap, drafts with approval and the test send, with
//! the clock the tests move (a real SQLite file, the sandbox transport).

use std::sync::Arc;

use herold::domain::clock::ManualClock;
use herold::domain::quiet::QuietRule;
use herold::domain::{OptInMode, Reason, Transport};
use herold::service::{Actor, Service};

use crate::common;

/// Friday 15 January 2027, 21:00 UTC: 22:00 in Berlin.
const FRIDAY_22_BERLIN: i64 = 1_800_000_000 + 13 * 3600;

async fn sandbox_channel(s: &Service, keyword: &str, quiet: QuietRule) -> herold::domain::Channel {
    let mut d = common::draft(keyword, OptInMode::Single, &[Transport::Sandbox]);
    d.quiet = quiet;
    s.create_channel(&Actor::Cli, d).await.unwrap()
}

/// The states of the messages herold sent to one sandbox phone, oldest first, with their text.
async fn screen(s: &Service, phone: herold::domain::SubscriberId) -> Vec<(String, String)> {
    let lines = s.sandbox_screen(phone).await.unwrap();
    lines.into_iter().filter(|l| !l.inbound).map(|l| (l.text, l.state)).collect()
}

#[tokio::test]
async fn a_broadcast_at_ten_at_night_leaves_at_eight_local_while_replies_and_urgent_news_go_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(FRIDAY_22_BERLIN));
    let s = common::open_service_at_with(dir.path(), clock.clone(), |c| {
        c.quiet_hours.transports = vec![Transport::Sandbox];
    });
    let news = sandbox_channel(&s, "NEWS", QuietRule::Installation).await;
    let urgent = sandbox_channel(&s, "ALARM", QuietRule::Urgent).await;
    let berlin = common::subscriber(&s, Transport::Sandbox, "+4915123000001", news.id).await;
    let new_york = common::subscriber(&s, Transport::Sandbox, "+12015550123", news.id).await;
    let on_call = common::subscriber(&s, Transport::Sandbox, "+4915123000002", urgent.id).await;

    let (night, _) =
        s.create_broadcast(&Actor::Cli, common::compose_now(news.id, "Training morgen", "n")).await.unwrap();
    let (alarm, _) =
        s.create_broadcast(&Actor::Cli, common::compose_now(urgent.id, "Halle gesperrt", "a")).await.unwrap();
    // A reply asked for at 22:00 (HELP) is never held.
    s.receive(common::sandbox_message("+4915123000001", "HILFE")).await.unwrap();
    common::drain(&s).await;

    assert_eq!(s.progress(alarm.id).await.unwrap().broadcast.sent, 1, "urgent status news goes at any hour");
    assert_eq!(screen(&s, on_call).await, vec![("Halle gesperrt".to_string(), "sent".to_string())]);
    let lines = screen(&s, berlin).await;
    assert!(lines.iter().any(|(t, st)| t.contains("STOP") && st == "sent"), "the HELP answer went at once: {lines:?}");
    assert!(!lines.iter().any(|(t, st)| t == "Training morgen" && st == "sent"), "{lines:?}");

    // Per recipient's local time: in New York it is 16:00, so theirs went; the Berlin number's waits,
    // and the broadcast page says how many wait and until when (08:00 in Berlin, 07:00 UTC).
    assert!(screen(&s, new_york).await.iter().any(|(t, st)| t == "Training morgen" && st == "sent"));
    let p = s.progress(night.id).await.unwrap();
    assert_eq!(p.broadcast.sent, 1);
    assert_eq!(p.reasons.iter().find(|r| r.1 == Reason::QuietHours).map(|r| r.2), Some(1), "{:?}", p.reasons);
    let waiting = p.waiting.expect("the page says until when");
    assert_eq!((waiting.reason, waiting.until), (Reason::QuietHours, FRIDAY_22_BERLIN + 10 * 3600));

    // 07:59 in Berlin: still waiting. 08:00: sent.
    clock.advance(10 * 3600 - 60);
    common::drain(&s).await;
    assert_eq!(s.progress(night.id).await.unwrap().broadcast.sent, 1);
    clock.advance(60);
    common::drain(&s).await;
    let p = s.progress(night.id).await.unwrap();
    assert_eq!((p.broadcast.state.as_str(), p.broadcast.sent), ("done", 2));
    assert!(screen(&s, berlin).await.iter().any(|(t, st)| t == "Training morgen" && st == "sent"));
}

#[tokio::test]
async fn the_sign_up_page_and_privacy_notice_say_when_messages_come() {
    let app = common::TestApp::spawn_with(|c| c.quiet_hours.transports = vec![Transport::Sms]).await;
    sandbox_channel(&app.service, "NEWS", QuietRule::Installation).await;
    sandbox_channel(&app.service, "ALARM", QuietRule::Urgent).await;
    let own = herold::domain::quiet::QuietHours {
        from: herold::domain::quiet::ClockTime::hm(20, 0),
        until: herold::domain::quiet::ClockTime::hm(9, 30),
        sundays: true,
    };
    sandbox_channel(&app.service, "JUGEND", QuietRule::Own(own)).await;
    let get = |path: &str| {
        let url = app.url(path);
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    assert!(get("/join/news?lang=de").await.contains("Keine Nachrichten zwischen 21:00 und 08:00 Uhr (Ortszeit)."));
    assert!(get("/privacy/news?lang=en").await.contains("No messages between 21:00 and 08:00 (local time)."));
    assert!(get("/join/alarm?lang=en").await.contains("Urgent status news: messages may come at any hour"));
    assert!(get("/privacy/alarm?lang=de").await.contains("Dringende Statusmeldungen"));
    assert!(get("/join/jugend?lang=de").await.contains("zwischen 20:00 und 09:30 Uhr (Ortszeit) und sonntags"));
}

#[tokio::test]
async fn a_person_in_three_channels_with_a_cap_of_two_a_week_gets_two() {
    use herold::domain::channel::OverCap;
    use herold::domain::{Frequency, FrequencyPeriod};
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let s = common::open_service_at_with(dir.path(), clock.clone(), |c| {
        c.delivery.max_per_person = Some(Frequency { max: 2, period: FrequencyPeriod::Week });
    });
    let mut ids = vec![];
    for (kw, over) in [("TRAINING", OverCap::Wait), ("VORSTAND", OverCap::Wait), ("FEST", OverCap::Skip)] {
        let mut d = common::draft(kw, OptInMode::Single, &[Transport::Sandbox]);
        d.over_cap = over;
        ids.push(s.create_channel(&Actor::Cli, d).await.unwrap().id);
    }
    let member = s
        .add_subscriber(
            &Actor::Cli,
            herold::service::subscribers::AddSubscriber {
                transport: Transport::Sandbox,
                address: "+4915123000001".into(),
                language: "de".into(),
                channels: ids.clone(),
                consent_note: "signed the list".into(),
            },
        )
        .await
        .unwrap();
    let trainer = common::subscriber(&s, Transport::Sandbox, "+4915123000002", ids[1]).await;
    let send = |ch: herold::domain::ChannelId, text: &'static str| {
        let s = s.clone();
        async move { s.create_broadcast(&Actor::Cli, common::compose_now(ch, text, text)).await.unwrap().0 }
    };

    // Monday, Tuesday: one from each of the first two channels; both arrive.
    let first = send(ids[0], "Training fällt aus").await;
    common::drain(&s).await;
    clock.advance(86_400);
    let second = send(ids[1], "Vorstandssitzung").await;
    common::drain(&s).await;
    // Wednesday: the third channel skips people over the cap; the fourth broadcast waits.
    clock.advance(86_400);
    let third = send(ids[2], "Sommerfest").await;
    let fourth = send(ids[1], "Protokoll").await;
    common::drain(&s).await;
    let got = |p: herold::domain::SubscriberId| {
        let s = s.clone();
        async move {
            let lines = s.sandbox_screen(p).await.unwrap();
            lines.into_iter().filter(|l| !l.inbound && l.state == "sent" && !l.text.starts_with("herold")).count()
        }
    };
    assert_eq!(got(member).await, 2, "a person in three channels gets 2 a week");
    assert_eq!(got(trainer).await, 2, "someone in one channel is not held back by others' counts");
    assert_eq!(s.progress(first.id).await.unwrap().broadcast.sent, 1);
    assert_eq!(s.progress(second.id).await.unwrap().broadcast.sent, 2);
    let p = s.progress(third.id).await.unwrap();
    assert_eq!((p.broadcast.state.as_str(), p.broadcast.cancelled), ("done", 1), "skipped, counted");
    assert!(p.reasons.iter().any(|r| r.1 == Reason::CapReached && r.0.as_str() == "cancelled"), "{:?}", p.reasons);
    let p = s.progress(fourth.id).await.unwrap();
    assert_eq!(p.broadcast.sent, 1, "the trainer got it");
    assert!(p.reasons.iter().any(|r| r.1 == Reason::CapReached && r.0.as_str() == "queued" && r.2 == 1));
    // It waits until the first of the week's two leaves the window: Monday + 7 days.
    let waiting = p.waiting.expect("the page says until when");
    assert_eq!(waiting.until, 1_800_000_000 + 7 * 86_400);

    clock.advance(5 * 86_400 - 1);
    common::drain(&s).await;
    assert_eq!(got(member).await, 2);
    clock.advance(1);
    common::drain(&s).await;
    assert_eq!(got(member).await, 3);
    assert_eq!(s.progress(fourth.id).await.unwrap().broadcast.state.as_str(), "done");
}

#[tokio::test]
async fn two_editors_sending_into_the_last_slot_at_the_same_moment_one_is_refused() {
    use herold::domain::{Frequency, FrequencyPeriod};
    let dir = tempfile::tempdir().unwrap();
    let s = common::open_service(dir.path());
    let mut d = common::draft("NEWS", OptInMode::Single, &[Transport::Sandbox]);
    d.frequency = Some(Frequency { max: 2, period: FrequencyPeriod::Week });
    let news = s.create_channel(&Actor::Cli, d).await.unwrap();
    s.create_broadcast(&Actor::Cli, common::compose_now(news.id, "Eins", "one")).await.unwrap();
    for round in 0..5 {
        let (a, b) = tokio::join!(
            s.create_broadcast(&Actor::Cli, common::compose_now(news.id, "Anna", &format!("anna-{round}"))),
            s.create_broadcast(&Actor::Cli, common::compose_now(news.id, "Ben", &format!("ben-{round}"))),
        );
        if round > 0 {
            assert!(a.is_err() && b.is_err(), "the week is full");
            continue;
        }
        assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "exactly one passes");
        let refused = if let Err(e) = a { e } else { b.unwrap_err() };
        assert!(
            matches!(&refused, herold::service::ServiceError::Invalid(p) if p.code == "frequency-promise-reached"),
            "{refused:?}"
        );
    }
}

/// The compose form's fields for a broadcast to `channel` (a draft's id when it edits one).
fn form<'a>(csrf: &'a str, channel: &'a str, body: &'a str, draft: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("csrf", csrf),
        ("kind", "broadcast"),
        ("channel", channel),
        ("body", body),
        ("idempotency_key", body),
        ("tr_lang", "en"),
        ("tr_body", "Training is off tomorrow"),
    ];
    f.extend(draft.map(|d| ("draft", d)));
    f
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").expect("a redirect").to_str().unwrap().to_string()
}

#[tokio::test]
async fn an_editors_broadcast_waits_for_an_owners_approval_and_the_audit_log_has_both_steps() {
    use herold::domain::Role;
    let app = common::TestApp::spawn_with(|c| c.admin.editors_need_approval = true).await;
    let news = sandbox_channel(&app.service, "NEWS", QuietRule::Installation).await;
    let phone = common::subscriber(&app.service, Transport::Sandbox, "+4915123000001", news.id).await;
    let (editor, e_csrf) = app.admin_client("erika", Role::Editor).await;
    let (owner, o_csrf) = app.admin_client("otto", Role::Owner).await;
    let ch = news.id.to_string();

    // The editor cannot send; the page offers "submit for approval" instead.
    let page = editor.get(app.url("/broadcasts/new")).header("accept-language", "de").send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("Zur Freigabe einreichen") && !html.contains(">Senden<"), "no send button for editors");
    let r = editor.post(app.url("/broadcasts")).form(&form(&e_csrf, &ch, "Training fällt aus", None)).send().await;
    assert_eq!(r.unwrap().status(), 400, "refused: approval needed");
    assert_eq!(app.service.broadcasts(10).await.unwrap().len(), 0);

    // Submitted: a draft waiting for approval, on the owner's dashboard; nothing is sent.
    let r = editor.post(app.url("/broadcasts/submit")).form(&form(&e_csrf, &ch, "Training fällt aus", None));
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 303);
    let draft_url = location(&r);
    let draft = draft_url.trim_start_matches("/broadcasts/drafts/").to_string();
    let dash = owner.get(app.url("/")).header("accept-language", "de").send().await.unwrap().text().await.unwrap();
    assert!(dash.contains("Ein Entwurf wartet auf deine Freigabe."), "the owner sees it waiting");
    assert_eq!(app.service.drafts_waiting().await.unwrap(), 1);
    assert_eq!(app.service.outbox_pending().await.unwrap(), 0);

    // The owner sends it back with a comment; the editor sees the comment, changes it, submits again.
    let r = owner.post(app.url(&format!("{draft_url}/return")));
    let r = r.form(&[("csrf", o_csrf.as_str()), ("comment", "Bitte die Uhrzeit nennen")]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let page = editor.get(app.url(&draft_url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Bitte die Uhrzeit nennen"), "the comment is on the draft");
    let body = "Training fällt aus, 18 Uhr";
    let r = editor.post(app.url("/broadcasts/submit")).form(&form(&e_csrf, &ch, body, Some(&draft))).send().await;
    assert_eq!(location(&r.unwrap()), draft_url, "the same draft, submitted again");

    // An editor cannot approve; the owner can: it is sent, once, with the editor as its author.
    let r = editor.post(app.url("/broadcasts")).form(&form(&e_csrf, &ch, body, Some(&draft))).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = editor.post(app.url(&format!("{draft_url}/return"))).form(&[("csrf", e_csrf.as_str()), ("comment", "x")]);
    assert_eq!(r.send().await.unwrap().status(), 403);
    let r = owner.post(app.url("/broadcasts")).form(&form(&o_csrf, &ch, body, Some(&draft))).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let sent = location(&r);
    // Approving twice (a double click) sends it once and shows the same broadcast.
    let again = owner.post(app.url("/broadcasts")).form(&form(&o_csrf, &ch, body, Some(&draft))).send().await.unwrap();
    assert_eq!((again.status().as_u16(), location(&again)), (303, sent.clone()));
    common::wait_until_sent(&app.service).await;
    let b = app.service.broadcasts(10).await.unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(sent, format!("/broadcasts/{}", b[0].id));
    assert_eq!((b[0].sent, b[0].body.as_str()), (1, body));
    let erika = app.service.list_admins().await.unwrap().into_iter().find(|a| a.username == "erika").unwrap();
    assert_eq!(b[0].created_by, format!("admin:{}", erika.id));
    assert!(screen(&app.service, phone).await.iter().any(|(t, st)| t == body && st == "sent"));
    assert!(app.service.drafts().await.unwrap().is_empty());

    // The audit log: saved, submitted, sent back, submitted again, approved — by whom.
    let (log, _) = app.service.audit_log(50, 0).await.unwrap();
    let steps: Vec<(&str, &str)> = log
        .iter()
        .rev()
        .filter(|e| e.action.starts_with("draft_"))
        .map(|e| (e.action.as_str(), e.actor_name.as_str()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("draft_saved", "erika"),
            ("draft_submitted", "erika"),
            ("draft_returned", "otto"),
            ("draft_saved", "erika"),
            ("draft_submitted", "erika"),
            ("draft_approved", "otto"),
        ]
    );
    let approved = log.iter().find(|e| e.action == "draft_approved").unwrap();
    assert_eq!(approved.target, format!("broadcast {}", b[0].id));
    assert!(approved.detail.contains("erika"), "{}", approved.detail);
}

#[tokio::test]
async fn a_test_sends_the_exact_message_in_both_languages_to_a_sandbox_phone_and_keeps_no_broadcast() {
    use herold::domain::Role;
    let app = common::TestApp::spawn().await;
    let news = sandbox_channel(&app.service, "NEWS", QuietRule::Installation).await;
    let member = common::subscriber(&app.service, Transport::Sandbox, "+4915123000001", news.id).await;
    let mine = common::subscriber(&app.service, Transport::Sandbox, "+4915123000099", news.id).await;
    let (editor, csrf) = app.admin_client("erika", Role::Editor).await;
    let ch = news.id.to_string();
    let to = format!("sandbox:{mine}");
    let mut f = form(&csrf, &ch, "Training fällt aus", None);
    f.push(("test_to", to.as_str()));
    let page = editor.post(app.url("/broadcasts/test")).form(&f).header("accept-language", "de").send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Probe:") && html.matches("angenommen").count() == 2, "two test messages taken");
    common::wait_until_sent(&app.service).await;
    let got: Vec<String> = screen(&app.service, mine).await.into_iter().map(|(t, _)| t).collect();
    assert!(got.contains(&"Training fällt aus".to_string()) && got.contains(&"Training is off tomorrow".to_string()));
    assert!(screen(&app.service, member).await.iter().all(|(t, _)| !t.starts_with("Training")), "only the test phone");
    assert!(app.service.broadcasts(10).await.unwrap().is_empty(), "a test is not a broadcast");
    let (log, _) = app.service.audit_log(10, 0).await.unwrap();
    let tested = log.iter().find(|e| e.action == "broadcast_tested").expect("audited");
    assert_eq!(tested.target, "sandbox");
    assert!(!tested.detail.contains("4915123000099"), "no address in the audit log");
    // A route that does not exist is a clear error, not a panic.
    let mut f = form(&csrf, &ch, "Training fällt aus", None);
    f.extend([("test_to", "nowhere"), ("test_address", "+4915123000077")]);
    assert_eq!(editor.post(app.url("/broadcasts/test")).form(&f).send().await.unwrap().status(), 400);
}

#[tokio::test]
async fn a_scheduled_broadcast_goes_back_to_the_drafts_to_be_edited_and_is_sent_at_its_new_time() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let s = common::open_service_at(dir.path(), clock.clone());
    let news = sandbox_channel(&s, "NEWS", QuietRule::Installation).await;
    common::subscriber(&s, Transport::Sandbox, "+4915123000001", news.id).await;
    let mut c = common::compose_now(news.id, "Sommerfest am Samstag", "fest");
    c.send_at = Some(1_800_000_000 + 86_400);
    let (b, _) = s.create_broadcast(&Actor::Cli, c).await.unwrap();
    let draft = s.unschedule(&Actor::Cli, b.id).await.unwrap();
    assert!(matches!(s.broadcast(b.id).await, Err(herold::service::ServiceError::NotFound)), "off the schedule");
    let d = s.draft(draft).await.unwrap();
    assert_eq!((d.written.body.as_str(), d.written.send_at), ("Sommerfest am Samstag", Some(1_800_000_000 + 86_400)));
    let mut w = d.written.clone();
    w.body = "Sommerfest am Sonntag".into();
    w.send_at = Some(1_800_000_000 + 2 * 86_400);
    s.save_draft(&Actor::Cli, Some(draft), w).await.unwrap();
    let b = s.send_draft(&Actor::Cli, draft).await.unwrap();
    assert_eq!(b.state.as_str(), "scheduled");
    clock.advance(86_400);
    s.chores().await.unwrap();
    common::drain(&s).await;
    assert_eq!(s.progress(b.id).await.unwrap().broadcast.sent, 0, "not at the old time");
    clock.advance(86_400);
    s.chores().await.unwrap();
    common::drain(&s).await;
    let p = s.progress(b.id).await.unwrap();
    assert_eq!((p.broadcast.sent, p.broadcast.body.as_str()), (1, "Sommerfest am Sonntag"));
    // Once it has started it cannot be taken back.
    assert!(matches!(s.unschedule(&Actor::Cli, b.id).await, Err(herold::service::ServiceError::Conflict(_))));
}

#[tokio::test]
async fn an_admin_in_another_time_zone_types_and_reads_times_in_theirs() {
    use herold::domain::Role;
    let app = common::TestApp::spawn().await;
    let news = sandbox_channel(&app.service, "NEWS", QuietRule::Installation).await;
    let (owner, csrf) = app.admin_client("nora", Role::Owner).await;
    let r = owner.post(app.url("/account/zone")).form(&[("csrf", csrf.as_str()), ("time_zone", "Mars/Olympus")]);
    assert_eq!(r.send().await.unwrap().status(), 400, "an unknown zone is refused");
    let r = owner.post(app.url("/account/zone")).form(&[("csrf", csrf.as_str()), ("time_zone", "America/New_York")]);
    assert_eq!(r.send().await.unwrap().status(), 303);
    let ch = news.id.to_string();
    let mut f = form(&csrf, &ch, "Jahresversammlung", None);
    f.push(("send_at", "2027-06-20T18:00"));
    let r = owner.post(app.url("/broadcasts")).form(&f).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let b = &app.service.broadcasts(1).await.unwrap()[0];
    // 18:00 in New York in June (EDT, UTC−4) is 22:00 UTC.
    assert_eq!(b.send_at, "2027-06-20T22:00:00Z".parse::<jiff::Timestamp>().unwrap().as_second());
    let page = owner.get(app.url(&location(&r))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("2027-06-20 18:00 EDT"), "shown in their zone");
    // Someone else still reads the installation's time: 00:00 the next day in Berlin.
    let (other, _) = app.admin_client("otto", Role::Viewer).await;
    let page = other.get(app.url(&location(&r))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("2027-06-21 00:00 CEST"), "the installation's zone for everyone else");
}
