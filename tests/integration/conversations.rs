//! Conversations: keyword answers, one thread per person with every answer and its author, the hand-off
//! to the team (first answer, office hours), STOP in the middle (a real SQLite file, the sandbox).

use std::sync::Arc;

use herold::domain::answer::NewAnswer;
use herold::domain::clock::ManualClock;
use herold::domain::{OptInMode, Role, ThreadState, Transport};
use herold::service::threads::Filter;
use herold::service::{Actor, Service, ServiceError};

use crate::common;

/// Friday 15 January 2027, 09:00 UTC: 10:00 in Berlin.
const FRIDAY_10_BERLIN: i64 = 1_800_000_000 + 3600;

async fn club(s: &Service) -> herold::domain::ChannelId {
    let ch =
        s.create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sandbox])).await.unwrap();
    let training = NewAnswer {
        channel: Some(ch.id),
        keyword: "Training".into(),
        answer_de: "Dienstags 18 Uhr, Halle 2".into(),
        answer_en: "Tuesdays 6 pm, hall 2".into(),
    };
    s.add_keyword_answer(&Actor::Cli, training).await.unwrap();
    ch.id
}

/// What the phone got from herold, oldest first.
async fn got(s: &Service, number: &str) -> Vec<String> {
    common::drain(s).await;
    let id = s.find_subscriber(number).await.unwrap().expect("known");
    s.sandbox_screen(id).await.unwrap().into_iter().filter(|l| !l.inbound).map(|l| l.text).collect()
}

async fn say(s: &Service, number: &str, text: &str) {
    s.receive(common::sandbox_message(number, text)).await.unwrap();
}

#[tokio::test]
async fn a_keyword_is_answered_in_each_language_help_lists_it_and_a_command_cannot_be_one() {
    let dir = tempfile::tempdir().unwrap();
    let s = common::open_service(dir.path());
    let ch = club(&s).await;
    let (de, en) = ("+4915123000001", "+4915123000002");
    say(&s, de, "START NEWS").await;
    say(&s, en, "JOIN NEWS").await;
    say(&s, de, "training?").await;
    say(&s, en, "Training").await;
    assert_eq!(got(&s, de).await.last().unwrap(), "Dienstags 18 Uhr, Halle 2");
    assert_eq!(got(&s, en).await.last().unwrap(), "Tuesdays 6 pm, hall 2");
    say(&s, de, "HILFE").await;
    assert!(got(&s, de).await.last().unwrap().contains("Stichwörter: TRAINING"), "HELP lists the keywords");
    // Counted, twice; nobody's conversation opened for the team.
    let answers = s.keyword_answers().await.unwrap();
    assert_eq!((answers[0].answer.keyword.as_str(), answers[0].hits), ("TRAINING", 2));
    assert_eq!(s.open_threads().await.unwrap(), 0);
    // A command word can never be a keyword; a keyword twice in one scope neither.
    for word in ["STOP", "Hilfe", "löschen", "start news"] {
        let a = NewAnswer { channel: None, keyword: word.into(), answer_de: "x".into(), answer_en: String::new() };
        let e = s.add_keyword_answer(&Actor::Cli, a).await.unwrap_err();
        assert!(matches!(&e, ServiceError::Invalid(p) if p.code == "answer-keyword-is-command"), "{word}: {e:?}");
    }
    let again =
        NewAnswer { channel: Some(ch), keyword: "TRAINING".into(), answer_de: "x".into(), answer_en: String::new() };
    assert!(matches!(s.add_keyword_answer(&Actor::Cli, again).await, Err(ServiceError::Conflict(_))));
    // Someone who is not in the channel gets no channel keyword's answer: their message goes to the team.
    say(&s, "+4915123000003", "TRAINING").await;
    assert_eq!(s.open_threads().await.unwrap(), 1);
}

#[tokio::test]
async fn a_thread_shows_message_keyword_answer_and_reply_in_order_and_taking_closing_reopening_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(FRIDAY_10_BERLIN));
    let s = common::open_service_at(dir.path(), clock.clone());
    club(&s).await;
    let anna = s.add_admin(&Actor::Cli, "anna", "anna-password-123".into(), Role::Editor).await.unwrap();
    let as_anna = Actor::Admin { id: anna.id, username: "anna".into() };
    let number = "+4915123000001";
    say(&s, number, "START NEWS").await;
    clock.advance(60);
    say(&s, number, "Training").await;
    clock.advance(60);
    say(&s, number, "Darf mein Sohn mitkommen?").await;
    assert_eq!(s.open_threads().await.unwrap(), 1, "a question opens the conversation for the team");
    let (open, _) = s.threads(Filter::Open, 10, 0).await.unwrap();
    let id = open[0].id;
    clock.advance(60);
    s.reply_in_thread(&as_anna, id, "Ja, gern!").await.unwrap();
    let v = s.thread(id).await.unwrap();
    let lines: Vec<(Option<&str>, &str)> =
        v.messages.iter().rev().map(|m| (m.author.as_deref(), m.text.as_str())).collect();
    let keyword = format!("keyword:{}", s.keyword_answers().await.unwrap()[0].id);
    let admin = format!("admin:{}", anna.id);
    assert_eq!(
        lines,
        vec![
            (None, "START NEWS"),
            (None, "Training"),
            (Some(keyword.as_str()), "Dienstags 18 Uhr, Halle 2"),
            (None, "Darf mein Sohn mitkommen?"),
            (Some("herold"), "Danke für deine Nachricht! Wir melden uns bis morgen. Abmelden: STOP"),
            (Some(admin.as_str()), "Ja, gern!"),
        ]
        .into_iter()
        .filter(|(_, t)| *t != "START NEWS")
        .collect::<Vec<_>>(),
        "oldest first here; the page shows them newest first"
    );
    assert_eq!(got(&s, number).await.last().unwrap(), "Ja, gern!", "the reply went out on the same transport");

    s.assign_thread(&as_anna, id, Some(anna.id)).await.unwrap();
    assert_eq!(s.threads(Filter::Mine(anna.id), 10, 0).await.unwrap().1, 1);
    s.set_thread_state(&as_anna, id, ThreadState::Done).await.unwrap();
    assert_eq!(s.open_threads().await.unwrap(), 0);
    assert_eq!(s.threads(Filter::Done, 10, 0).await.unwrap().1, 1);
    s.set_thread_state(&as_anna, id, ThreadState::Open).await.unwrap();
    assert_eq!(s.open_threads().await.unwrap(), 1);
    let (log, _) = s.audit_log(20, 0).await.unwrap();
    let steps: Vec<&str> =
        log.iter().rev().filter(|e| e.action.starts_with("thread_")).map(|e| e.action.as_str()).collect();
    assert_eq!(steps, ["thread_assigned", "thread_closed", "thread_reopened"]);
    assert!(log.iter().filter(|e| e.action.starts_with("thread_")).all(|e| e.actor_name == "anna"));
}

#[tokio::test]
async fn outside_office_hours_the_other_first_answer_and_stop_in_an_open_thread_closes_it() {
    use herold::domain::quiet::{ClockTime, OfficeHours};
    let dir = tempfile::tempdir().unwrap();
    // Saturday 16 January 2027, 10:00 in Berlin: outside office hours on weekdays only.
    let clock = Arc::new(ManualClock::new(FRIDAY_10_BERLIN + 86_400));
    let s = common::open_service_at_with(dir.path(), clock.clone(), |c| {
        c.conversation.office_hours =
            Some(OfficeHours { from: ClockTime::hm(9, 0), until: ClockTime::hm(17, 0), weekdays_only: true });
    });
    club(&s).await;
    let number = "+4915123000001";
    say(&s, number, "START NEWS").await;
    say(&s, number, "Wann ist das Sommerfest?").await;
    assert_eq!(
        got(&s, number).await.last().unwrap(),
        "Danke für deine Nachricht! Wir sind gerade nicht da und melden uns ab 09:00 Uhr. Abmelden: STOP"
    );
    // A second message in the open conversation gets no second first answer.
    say(&s, number, "Und wo?").await;
    assert_eq!(got(&s, number).await.len(), 2, "welcome and one first answer");
    // Monday 10:00: a new conversation (the first was done) gets the office-hours answer.
    let (open, _) = s.threads(Filter::Open, 10, 0).await.unwrap();
    s.set_thread_state(&Actor::Cli, open[0].id, ThreadState::Done).await.unwrap();
    clock.advance(2 * 86_400);
    say(&s, number, "Noch eine Frage").await;
    assert!(got(&s, number).await.last().unwrap().contains("bis morgen"));
    // STOP in the middle of the open conversation: unsubscribed, and the conversation is done.
    say(&s, number, "STOP").await;
    assert!(got(&s, number).await.last().unwrap().starts_with("Abgemeldet"));
    assert_eq!(s.open_threads().await.unwrap(), 0);
    let id = s.find_subscriber(number).await.unwrap().unwrap();
    let detail = s.subscriber_detail(id).await.unwrap();
    assert!(detail.subscriptions.iter().all(|x| x.state != herold::domain::SubscriptionState::Active));
}

#[tokio::test]
async fn help_is_signed_by_the_organisation_once_it_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let s = common::open_service_at_with(dir.path(), Arc::new(ManualClock::new(FRIDAY_10_BERLIN)), |c| {
        c.privacy.controller = "SV Musterstadt".into();
    });
    club(&s).await;
    say(&s, "+4915123000001", "HILFE").await;
    assert!(got(&s, "+4915123000001").await.last().unwrap().starts_with("SV Musterstadt: START"));
}

/// An installation whose team does not take conversations (`open_for_team = false`): messages are
/// kept, nothing opens or is counted for the team, and the first answer comes once per exchange
/// (again after a day of quiet).
#[tokio::test]
async fn without_a_team_messages_are_kept_and_answered_once_per_exchange() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(FRIDAY_10_BERLIN));
    let s = common::open_service_at_with(dir.path(), clock.clone(), |c| c.conversation.open_for_team = false);
    club(&s).await;
    let number = "+4915123000001";
    say(&s, number, "START NEWS").await;
    say(&s, number, "Gibt es Trikots?").await;
    say(&s, number, "In Größe M?").await;
    let answers: Vec<String> = got(&s, number).await.into_iter().filter(|t| t.starts_with("Danke")).collect();
    assert_eq!(answers.len(), 1, "one first answer for the exchange: {answers:?}");
    assert_eq!(s.open_threads().await.unwrap(), 0, "nothing opens for the team");
    let (done, _) = s.threads(Filter::Done, 10, 0).await.unwrap();
    let kept = s.thread(done[0].id).await.unwrap();
    assert!(kept.messages.iter().any(|m| m.text == "In Größe M?"), "the messages are kept");
    clock.advance(25 * 3600);
    say(&s, number, "Noch da?").await;
    let answers = got(&s, number).await.into_iter().filter(|t| t.starts_with("Danke")).count();
    assert_eq!(answers, 2, "a new exchange after a day of quiet");
}
