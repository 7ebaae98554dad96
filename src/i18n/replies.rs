//! The texts herold answers with, in the subscriber's language (`locales/*/replies.ftl`). A channel's
//! own texts replace the welcome and the confirmation request; everything else is built in.

use super::{Arg, Lang, text};
use crate::domain::Channel;

fn frequency(ch: &Channel, lang: Lang) -> String {
    match ch.draft.frequency {
        None => String::new(),
        Some(f) => text(lang, "reply-frequency", &[("max", f.max.into()), ("period", Arg::Word(f.period.as_str()))]),
    }
}

fn named(ch: &Channel) -> (&'static str, Arg) {
    ("channel", Arg::from(&ch.draft.name))
}

/// Asks to confirm a double opt-in.
pub fn confirm_request(ch: &Channel, lang: Lang, hours: i64) -> String {
    let own = ch.draft.texts.confirm(lang);
    if !own.is_empty() {
        return own.to_string();
    }
    text(
        lang,
        "reply-confirm-request",
        &[named(ch), ("frequency", frequency(ch, lang).into()), ("hours", hours.into())],
    )
}

/// Welcomes a new subscriber and says how to leave.
pub fn welcome(ch: &Channel, lang: Lang) -> String {
    let leave = text(lang, "reply-leave-hint", &[("keyword", Arg::from(&ch.draft.keyword))]);
    let own = ch.draft.texts.welcome(lang);
    if !own.is_empty() {
        // A welcome that says how to leave already gets no second STOP line.
        if crate::domain::keywords::tells_how_to_leave(own) {
            return own.to_string();
        }
        return text(lang, "reply-own-welcome", &[("text", own.into()), ("leave", leave.into())]);
    }
    text(lang, "reply-welcome", &[named(ch), ("frequency", frequency(ch, lang).into()), ("leave", leave.into())])
}

pub fn already(ch: &Channel, lang: Lang) -> String {
    text(lang, "reply-already", &[named(ch), ("keyword", Arg::from(&ch.draft.keyword))])
}

/// The last message an address gets after STOP.
pub fn goodbye(names: &[String], lang: Lang) -> String {
    text(lang, "reply-goodbye", &[("channels", names.join(", ").into())])
}

pub fn not_subscribed(lang: Lang) -> String {
    text(lang, "reply-not-subscribed", &[])
}

/// For an unknown or missing channel keyword: the channels one can join here.
pub fn choose_channel(keywords: &[String], lang: Lang) -> String {
    if keywords.is_empty() {
        return text(lang, "reply-no-channels", &[]);
    }
    let list = keywords.iter().map(|k| format!("START {k}")).collect::<Vec<_>>().join(", ");
    text(lang, "reply-choose-channel", &[("list", list.into())])
}

/// HELP: the commands, the channels one is in, and the keywords one can ask about; signed by
/// `sender` (the organisation, `privacy.controller`, else herold).
pub fn help(sender: &str, active: &[(String, String)], keywords: &[String], lang: Lang) -> String {
    let sender = if sender.trim().is_empty() { "herold" } else { sender.trim() };
    let mut s = text(lang, "reply-help", &[("sender", sender.into())]);
    if !active.is_empty() {
        let list = active.iter().map(|(n, k)| format!("{n} ({k})")).collect::<Vec<_>>().join(", ");
        s.push_str(&text(lang, "reply-help-subscribed", &[("list", list.into())]));
    }
    if !keywords.is_empty() {
        s.push_str(&text(lang, "reply-help-keywords", &[("list", keywords.join(", ").into())]));
    }
    s
}

/// The team room's notice of a new message: the conversation's number and the person's channels.
pub fn team_notice(lang: Lang, thread: i64, channels: &[String]) -> String {
    if channels.is_empty() {
        return text(lang, "team-notice-no-channel", &[("thread", thread.into())]);
    }
    text(lang, "team-notice", &[("thread", thread.into()), ("channels", channels.join(", ").into())])
}

/// The first answer when a conversation opens for the team.
pub fn handoff(lang: Lang) -> String {
    text(lang, "reply-handoff", &[])
}

/// The first answer outside office hours: when the team is back.
pub fn handoff_closed(lang: Lang, from: &str) -> String {
    text(lang, "reply-handoff-closed", &[("from", from.into())])
}

/// MYDATA: what is stored and since when, without a full dump.
pub fn my_data(since: &str, channels: &[String], inbox: usize, lang: Lang) -> String {
    let list = if channels.is_empty() { "-".to_string() } else { channels.join(", ") };
    text(lang, "reply-my-data", &[("since", since.into()), ("channels", list.into()), ("inbox", inbox.into())])
}

/// DELETE / LÖSCHEN: asks for confirmation, because erasure cannot be undone.
pub fn delete_confirm(lang: Lang, hours: i64) -> String {
    text(lang, "reply-delete-confirm", &[("hours", hours.into())])
}

/// The last message an erased address gets, sent before its data is destroyed.
pub fn erased(lang: Lang) -> String {
    text(lang, "reply-erased", &[])
}

/// The acknowledgement for a message that is not a command (with `auto_reply`).
pub fn received(lang: Lang) -> String {
    text(lang, "reply-received", &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::channel::OwnTexts;
    use crate::domain::{ChannelDraft, ChannelId, ChannelKind, OptInMode, Texts, Transport};

    fn channel(welcome_de: &str) -> Channel {
        let own = OwnTexts { welcome: welcome_de.into(), confirm: String::new() };
        Channel {
            id: ChannelId(1),
            draft: ChannelDraft {
                name: "News".into(),
                keyword: "NEWS".into(),
                description: String::new(),
                kind: ChannelKind::Broadcast,
                opt_in: OptInMode::Single,
                texts: Texts([(Lang::De, own)].into_iter().collect()),
                transports: vec![Transport::Sms],
                frequency: None,
                public_archive: false,
                quiet: Default::default(),
                over_cap: Default::default(),
            },
            wording_version: 1,
            created_at: 0,
            updated_at: 0,
            matrix_room: None,
        }
    }

    #[test]
    fn an_own_welcome_gets_the_stop_line_once() {
        let plain = welcome(&channel("Schön, dass du dabei bist!"), Lang::De);
        assert_eq!(plain.matches("STOP").count(), 1, "{plain}");
        let own = "Schön, dass du dabei bist! Abmelden jederzeit mit STOP NEWS.";
        assert_eq!(welcome(&channel(own), Lang::De), own, "no second STOP line");
        // "Ende" in prose is not a command: the STOP line is still added.
        let prose = welcome(&channel("Bis zum Ende der Saison gibt es Neuigkeiten."), Lang::De);
        assert!(prose.contains("STOP NEWS"), "{prose}");
    }
}
