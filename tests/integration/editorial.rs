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
