//! The texts herold answers with, in German and English. A channel's own texts replace the welcome
//! and confirmation request; everything else is built in.

use super::Channel;
use super::keywords::Lang;

fn frequency(ch: &Channel, lang: Lang) -> String {
    match (ch.draft.frequency, lang) {
        (None, _) => String::new(),
        (Some(f), Lang::En) => format!(" (at most {} per {})", f.max, f.period.as_str()),
        (Some(f), Lang::De) => {
            let per = match f.period.as_str() {
                "day" => "Tag",
                "week" => "Woche",
                _ => "Monat",
            };
            format!(" (höchstens {} pro {per})", f.max)
        }
    }
}

/// Asks to confirm a double opt-in.
pub fn confirm_request(ch: &Channel, lang: Lang, hours: i64) -> String {
    let own = match lang {
        Lang::De => &ch.draft.texts.confirm_de,
        Lang::En => &ch.draft.texts.confirm_en,
    };
    if !own.is_empty() {
        return own.clone();
    }
    match lang {
        Lang::De => format!(
            "{}{}: Antworte JA, um Nachrichten zu bekommen. Ohne Antwort passiert nichts (gilt {hours} Std.).",
            ch.draft.name,
            frequency(ch, lang)
        ),
        Lang::En => format!(
            "{}{}: Reply YES to get messages. Without a reply nothing happens (valid {hours} h).",
            ch.draft.name,
            frequency(ch, lang)
        ),
    }
}

/// Welcomes a new subscriber and says how to leave.
pub fn welcome(ch: &Channel, lang: Lang) -> String {
    let own = match lang {
        Lang::De => &ch.draft.texts.welcome_de,
        Lang::En => &ch.draft.texts.welcome_en,
    };
    let kw = &ch.draft.keyword;
    let leave = match lang {
        Lang::De => format!("Abmelden: STOP {kw}. Hilfe: HILFE"),
        Lang::En => format!("To leave: STOP {kw}. Help: HELP"),
    };
    if !own.is_empty() {
        return format!("{own} {leave}");
    }
    match lang {
        Lang::De => format!("Willkommen bei {}{}. {leave}", ch.draft.name, frequency(ch, lang)),
        Lang::En => format!("Welcome to {}{}. {leave}", ch.draft.name, frequency(ch, lang)),
    }
}

pub fn already(ch: &Channel, lang: Lang) -> String {
    match lang {
        Lang::De => format!("Du bist schon bei {} angemeldet. Abmelden: STOP {}", ch.draft.name, ch.draft.keyword),
        Lang::En => format!("You are already subscribed to {}. To leave: STOP {}", ch.draft.name, ch.draft.keyword),
    }
}

/// The last message an address gets after STOP.
pub fn goodbye(names: &[String], lang: Lang) -> String {
    let list = names.join(", ");
    match lang {
        Lang::De => format!("Abgemeldet von {list}. Du bekommst keine Nachrichten mehr. Wieder anmelden: START"),
        Lang::En => format!("Unsubscribed from {list}. You will get no more messages. To join again: START"),
    }
}

pub fn not_subscribed(lang: Lang) -> String {
    match lang {
        Lang::De => "Du bist bei keinem Kanal angemeldet.".into(),
        Lang::En => "You are not subscribed to any channel.".into(),
    }
}

/// For an unknown or missing channel keyword: the channels one can join here.
pub fn choose_channel(keywords: &[String], lang: Lang) -> String {
    if keywords.is_empty() {
        return match lang {
            Lang::De => "Hier gibt es noch keine Kanäle.".into(),
            Lang::En => "There are no channels here yet.".into(),
        };
    }
    let list = keywords.iter().map(|k| format!("START {k}")).collect::<Vec<_>>().join(", ");
    match lang {
        Lang::De => format!("Welcher Kanal? Sende {list}"),
        Lang::En => format!("Which channel? Send {list}"),
    }
}

pub fn help(active: &[(String, String)], lang: Lang) -> String {
    let mut s = match lang {
        Lang::De => String::from(
            "herold: START <Kanal> anmelden, STOP abmelden, DATEN zeigt gespeicherte Daten, LÖSCHEN löscht sie.",
        ),
        Lang::En => {
            String::from("herold: START <channel> to join, STOP to leave, MYDATA shows stored data, DELETE erases it.")
        }
    };
    if !active.is_empty() {
        let list = active.iter().map(|(n, k)| format!("{n} ({k})")).collect::<Vec<_>>().join(", ");
        s.push_str(match lang {
            Lang::De => " Angemeldet: ",
            Lang::En => " Subscribed: ",
        });
        s.push_str(&list);
    }
    s
}

/// MYDATA: what is stored and since when, without a full dump.
pub fn my_data(since: &str, channels: &[String], inbox: usize, lang: Lang) -> String {
    let list = if channels.is_empty() { "-".to_string() } else { channels.join(", ") };
    match lang {
        Lang::De => format!(
            "Gespeichert seit {since}: deine Nummer (verschlüsselt), Kanäle: {list}, Einwilligungen mit Zeitpunkt, {inbox} Nachricht(en) an uns. Löschen: LÖSCHEN"
        ),
        Lang::En => format!(
            "Stored since {since}: your address (encrypted), channels: {list}, consents with times, {inbox} message(s) to us. To erase: DELETE"
        ),
    }
}

/// DELETE / LÖSCHEN: asks for confirmation, because erasure cannot be undone.
pub fn delete_confirm(lang: Lang, hours: i64) -> String {
    match lang {
        Lang::De => format!(
            "Alle deine Daten hier löschen (Anmeldungen, Nachrichten, Nummer)? Das kann nicht rückgängig gemacht werden. \
             Antworte JA innerhalb von {hours} Stunden."
        ),
        Lang::En => format!(
            "Erase all your data here (subscriptions, messages, number)? This cannot be undone. Reply YES within {hours} hours."
        ),
    }
}

/// The last message an erased address gets, sent before its data is destroyed.
pub fn erased(lang: Lang) -> String {
    match lang {
        Lang::De => "Deine Daten werden jetzt gelöscht. Das ist die letzte Nachricht von uns.".into(),
        Lang::En => "Your data is being erased now. This is the last message from us.".into(),
    }
}
