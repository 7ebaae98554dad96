//! Problems (codes with arguments) in a reader's language; and, until they are codes too, the
//! reasons a delivery waits or failed, translated from their English.

use super::{Lang, Problem, text, texts};

/// `p` in `lang`.
pub fn problem(lang: Lang, p: &Problem) -> String {
    text(lang, p.code, &p.args)
}

/// English pattern → German pattern, each `{}` in the same order.
const DE: &[(&str, &str)] = &[
    // Why deliveries wait or a broadcast paused itself (the broadcast's page).
    ("{} (until {})", "{} (bis {})"),
    ("rate-limited by the gateway; waiting as it asked", "Vom Gateway gebremst; es wird gewartet, wie es verlangt"),
    (
        "rate-limited by the homeserver; waiting as it asked",
        "Vom Homeserver gebremst; es wird gewartet, wie er verlangt",
    ),
    ("gateway {} cannot be reached; waiting for it", "Gateway {} ist nicht erreichbar; es wird darauf gewartet"),
    (
        "the Matrix bot is not connected yet; waiting for it",
        "Der Matrix-Bot ist noch nicht verbunden; es wird auf ihn gewartet",
    ),
    (
        "the homeserver cannot be reached; waiting for it",
        "Der Homeserver ist nicht erreichbar; es wird auf ihn gewartet",
    ),
    // Why deliveries failed (grouped on the broadcast's page).
    ("gave up after {} attempts: {}", "Nach {} Versuchen aufgegeben: {}"),
    (
        "{} SMS parts, but gateway {} sends at most {} (max_parts); the text would be cut",
        "{} SMS-Teile, aber Gateway {} sendet höchstens {} (max_parts); der Text würde abgeschnitten",
    ),
    ("gateway {} refused the message ({})", "Gateway {} hat die Nachricht abgelehnt ({})"),
    ("gateway {} refused the credentials ({})", "Gateway {} hat die Zugangsdaten abgelehnt ({})"),
    ("gateway {} answered {}", "Gateway {} antwortete {}"),
    ("gateway {} timed out", "Gateway {} antwortete nicht rechtzeitig"),
    ("gateway {} failed", "Gateway {} ist fehlgeschlagen"),
    ("transport misconfigured: {}", "Transportweg falsch eingerichtet: {}"),
    ("opted out with the provider: {}", "Beim Anbieter abgemeldet: {}"),
    ("the recipient left: {}", "Der Empfänger ist gegangen: {}"),
    ("the bot is no longer in the subscriber's DM", "Der Bot ist nicht mehr im Direktchat des Abonnenten"),
    ("the homeserver refused the message ({})", "Der Homeserver hat die Nachricht abgelehnt ({})"),
    ("homeserver error {}", "Fehler des Homeservers {}"),
    ("opted out", "Abgemeldet"),
    ("broadcast cancelled", "Rundsendung abgebrochen"),
    ("deadline passed", "Frist abgelaufen"),
    ("address no longer stored", "Adresse nicht mehr gespeichert"),
    (
        "paused by herold: {} of the last {} attempts failed ({})",
        "Von herold angehalten: {} der letzten {} Versuche sind fehlgeschlagen ({})",
    ),
];

/// `en` (a message from the service, domain or web) in `lang`. A message the catalogue does not know
/// stays as it is.
pub fn reason(lang: Lang, en: &str) -> String {
    if lang == Lang::En {
        return en.to_string();
    }
    for (from, to) in DE {
        if let Some(parts) = captures(from, en) {
            let mut out = String::new();
            let mut rest = *to;
            for part in parts {
                let (head, tail) = rest.split_once("{}").unwrap_or((rest, ""));
                out.push_str(head);
                out.push_str(&piece(lang, part));
                rest = tail;
            }
            out.push_str(rest);
            return out;
        }
    }
    en.to_string()
}

/// A copied part: a known message or word in `lang`, else as it is.
fn piece(lang: Lang, part: &str) -> String {
    if DE.iter().any(|(from, _)| captures(from, part).is_some()) {
        return reason(lang, part);
    }
    texts(lang).word(part)
}

/// The parts of `text` that stand where `pattern` has `{}`, if the rest matches exactly.
fn captures<'a>(pattern: &str, text: &'a str) -> Option<Vec<&'a str>> {
    let mut literals = pattern.split("{}");
    let rest = text.strip_prefix(literals.next().unwrap_or(""))?;
    fill(&literals.collect::<Vec<_>>(), rest)
}

fn fill<'a>(literals: &[&str], text: &'a str) -> Option<Vec<&'a str>> {
    match literals {
        [] => text.is_empty().then(Vec::new),
        [last] => text.strip_suffix(last).map(|c| vec![c]),
        [next, more @ ..] => text.match_indices(next).find_map(|(i, _)| {
            let mut caps = fill(more, &text[i + next.len()..])?;
            caps.insert(0, &text[..i]);
            Some(caps)
        }),
    }
}
