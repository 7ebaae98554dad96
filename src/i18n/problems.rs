//! Messages the service and domain give in English (why a form was refused, why an action cannot be
//! done), in German. As with gettext, the English text is the key; `{}` in a key stands for a part
//! copied over (a number, a name), which is itself translated when the catalogue or the words know it.

use super::{Lang, texts};

/// English pattern → German pattern, each `{}` in the same order.
const DE: &[(&str, &str)] = &[
    // Addresses and ids.
    ("transport must be sandbox, sms or matrix", "Transportweg muss sandbox, sms oder matrix sein"),
    ("the phone number is empty", "Die Telefonnummer ist leer"),
    ("the phone number is too long", "Die Telefonnummer ist zu lang"),
    (
        "not a phone number (use international form, e.g. +49 151 …)",
        "Keine Telefonnummer (internationale Form verwenden, z. B. +49 151 …)",
    ),
    (
        "this phone number does not exist in its country's numbering plan",
        "Diese Telefonnummer gibt es im Nummernplan ihres Landes nicht",
    ),
    (
        "a phone number has at most 15 digits with its country code",
        "Eine Telefonnummer hat mit Ländervorwahl höchstens 15 Ziffern",
    ),
    ("a Matrix id looks like @name:example.org", "Eine Matrix-ID sieht so aus: @name:example.org"),
    ("a subscriber id has 16 hex digits", "Eine Abonnenten-ID hat 16 Hexadezimalziffern"),
    ("enter a full phone number or Matrix id", "Gib eine vollständige Telefonnummer oder Matrix-ID ein"),
    // Channels.
    ("kind must be broadcast or newsletter", "Art muss Rundsendung oder Newsletter sein"),
    ("opt-in mode must be single or double", "Anmeldeverfahren muss einfach oder doppelt sein"),
    ("frequency period must be day, week or month", "Zeitraum muss Tag, Woche oder Monat sein"),
    ("the name must have 1 to 80 characters", "Der Name muss 1 bis 80 Zeichen haben"),
    (
        "the keyword must be 2 to 20 letters or digits, no spaces",
        "Das Stichwort muss aus 2 bis 20 Buchstaben oder Ziffern bestehen, ohne Leerzeichen",
    ),
    (
        "{} is a command word (START, STOP, HELP, …) and cannot be a channel keyword",
        "{} ist ein Befehlswort (START, STOP, HILFE, …) und kann kein Kanal-Stichwort sein",
    ),
    ("the description may have at most 2000 characters", "Die Beschreibung darf höchstens 2000 Zeichen haben"),
    ("each text may have at most 1000 characters", "Jeder Text darf höchstens 1000 Zeichen haben"),
    ("choose at least one transport", "Wähle mindestens einen Transportweg"),
    (
        "the declared frequency must be 1 to 1000 per period",
        "Die angekündigte Häufigkeit muss 1 bis 1000 pro Zeitraum sein",
    ),
    ("another channel already uses the keyword {}", "Ein anderer Kanal verwendet das Stichwort {} schon"),
    ("there is no channel {}", "Es gibt keinen Kanal {}"),
    ("one of the channels does not exist", "Einer der Kanäle existiert nicht"),
    ("no Matrix bot is configured (see the README)", "Kein Matrix-Bot eingerichtet (siehe README)"),
    ("this channel already has an announcement room", "Dieser Kanal hat schon einen Ankündigungsraum"),
    (
        "a channel reaches Matrix either by private DMs or by one announcement room: remove Matrix (DMs) from \
         its transports first",
        "Ein Kanal erreicht Matrix entweder über private Direktnachrichten oder über einen Ankündigungsraum: \
         entferne zuerst Matrix (Direktnachrichten) aus seinen Transportwegen",
    ),
    // Subscribers.
    ("language must be de or en", "Sprache muss de oder en sein"),
    (
        "say where and how consent was given (1 to 1000 characters)",
        "Gib an, wo und wie die Einwilligung erteilt wurde (1 bis 1000 Zeichen)",
    ),
    ("the same address is in the list twice", "Dieselbe Adresse steht zweimal in der Liste"),
    ("this address is already registered", "Diese Adresse ist schon eingetragen"),
    ("already subscribed to this channel", "Schon für diesen Kanal angemeldet"),
    ("unknown channel", "Unbekannter Kanal"),
    ("unknown state", "Unbekannter Zustand"),
    // Broadcasts.
    ("the message is empty", "Die Nachricht ist leer"),
    ("the message is longer than {} characters", "Die Nachricht ist länger als {} Zeichen"),
    ("choose at least one channel", "Wähle mindestens einen Kanal"),
    (
        "a broadcast needs an idempotency key of 1 to 100 characters",
        "Eine Rundsendung braucht einen Wiederholungsschlüssel mit 1 bis 100 Zeichen",
    ),
    ("the deadline must be after the send time", "Der Stichtag muss nach dem Sendezeitpunkt liegen"),
    (
        "as SMS this is {} parts; at most {} are sent. Shorten it{}.",
        "Als SMS sind das {} Teile; gesendet werden höchstens {}. Kürze den Text{}.",
    ),
    (", or turn on the channel's public archive", " oder schalte das öffentliche Archiv des Kanals ein"),
    (
        "as SMS this is {} parts, but gateway {} sends at most {} (its max_parts). Shorten it{}.",
        "Als SMS sind das {} Teile, aber Gateway {} sendet höchstens {} (sein max_parts). Kürze den Text{}.",
    ),
    (
        "as SMS this is {} parts, but gateway {} sends at most {} (its max_parts)",
        "Als SMS sind das {} Teile, aber Gateway {} sendet höchstens {} (sein max_parts)",
    ),
    ("as SMS this is {} parts; at most {} are sent", "Als SMS sind das {} Teile; höchstens {} werden gesendet"),
    (
        "{} promised {}; {} already went out or are planned. Send anyway only with an override.",
        "{} hat {} versprochen; {} sind schon verschickt oder geplant. Trotzdem senden nur mit Überschreibung.",
    ),
    ("at most {} per day", "höchstens {} pro Tag"),
    ("at most {} per week", "höchstens {} pro Woche"),
    ("at most {} per month", "höchstens {} pro Monat"),
    ("the broadcast is {}; it cannot become {}", "Die Rundsendung ist {}; sie kann nicht {} werden"),
    // Inbox.
    ("a reply needs 1 to 1600 characters", "Eine Antwort braucht 1 bis 1600 Zeichen"),
    ("the sender was erased", "Der Absender wurde gelöscht"),
    (
        "the sender has opted out since: nothing more is sent to them",
        "Der Absender hat sich inzwischen abgemeldet: Er bekommt nichts mehr",
    ),
    // Admins, tokens, accounts.
    (
        "a user name has 2 to 64 letters, digits or . _ - @",
        "Ein Benutzername hat 2 bis 64 Buchstaben, Ziffern oder . _ - @",
    ),
    ("this setup link is not valid (any more)", "Dieser Einrichtungslink ist (nicht mehr) gültig"),
    ("an owner already exists", "Es gibt schon einen Eigentümer"),
    ("an admin named {} already exists", "Ein Admin namens {} existiert schon"),
    ("the last owner cannot be removed", "Der letzte Eigentümer kann nicht entfernt werden"),
    ("role must be owner, editor or viewer", "Rolle muss Eigentümer, Redakteur oder Betrachter sein"),
    ("a token needs a name of 1 to 80 characters", "Ein Token braucht einen Namen mit 1 bis 80 Zeichen"),
    ("the password needs at least 10 characters", "Das Passwort braucht mindestens 10 Zeichen"),
    ("the password may have at most 1024 characters", "Das Passwort darf höchstens 1024 Zeichen haben"),
    // The web's own errors.
    ("not found", "Nicht gefunden"),
    ("you may not do this", "Das darfst du nicht"),
    ("too many attempts; wait a minute and try again", "Zu viele Versuche; warte eine Minute und versuche es erneut"),
    (
        "storage is unavailable right now; try again shortly",
        "Der Speicher ist gerade nicht verfügbar; versuche es gleich erneut",
    ),
    (
        "something went wrong on our side; the details are in the server log",
        "Bei uns ist etwas schiefgegangen; die Einzelheiten stehen im Server-Protokoll",
    ),
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
pub fn problem(lang: Lang, en: &str) -> String {
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
        return problem(lang, part);
    }
    texts(lang).word(part).to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_translated_with_their_parts() {
        assert_eq!(problem(Lang::De, "the message is empty"), "Die Nachricht ist leer");
        assert_eq!(problem(Lang::En, "the message is empty"), "the message is empty");
        assert_eq!(
            problem(Lang::De, "another channel already uses the keyword NEWS"),
            "Ein anderer Kanal verwendet das Stichwort NEWS schon"
        );
        assert_eq!(
            problem(
                Lang::De,
                "Verein promised at most 2 per week; 2 already went out or are planned. Send anyway only with an override."
            ),
            "Verein hat höchstens 2 pro Woche versprochen; 2 sind schon verschickt oder geplant. Trotzdem senden nur mit Überschreibung."
        );
        assert_eq!(
            problem(
                Lang::De,
                "as SMS this is 12 parts; at most 10 are sent. Shorten it, or turn on the channel's public archive."
            ),
            "Als SMS sind das 12 Teile; gesendet werden höchstens 10. Kürze den Text oder schalte das öffentliche Archiv des Kanals ein."
        );
        assert_eq!(
            problem(Lang::De, "as SMS this is 12 parts; at most 10 are sent. Shorten it."),
            "Als SMS sind das 12 Teile; gesendet werden höchstens 10. Kürze den Text."
        );
        // States are the pages' own words.
        assert_eq!(
            problem(Lang::De, "gateway kannel cannot be reached; waiting for it (until 2026-12-01 20:00 UTC)"),
            "Gateway kannel ist nicht erreichbar; es wird darauf gewartet (bis 2026-12-01 20:00 UTC)"
        );
        assert_eq!(problem(Lang::De, "the broadcast is done; it cannot become paused"), {
            let t = texts(Lang::De);
            format!("Die Rundsendung ist {}; sie kann nicht {} werden", t.word("done"), t.word("paused"))
        });
        assert_eq!(problem(Lang::De, "something new"), "something new");
        assert_eq!(problem(Lang::De, "the message is empty!"), "the message is empty!", "exact matches only");
    }

    /// Every message the service, domain, store and the password check can give an admin has its
    /// German: the sources are read for `Invalid(…)`, `Invalid::new(…)`, `Conflict(…)` and
    /// `BadRequest(…)` with a literal (format strings with their `{…}` as `{}`), so a new message
    /// without a translation fails here. Left out: configuration and backup files (read at the command
    /// line, in English like the rest of the CLI) and the JSON API (English for programs).
    #[test]
    fn every_message_an_admin_can_see_has_its_german() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let literal = regex::Regex::new(
            r#"(?:Invalid|Invalid::new|Conflict|BadRequest)\(\s*(?:format!\(\s*)?"((?:[^"\\]|\\.)*)""#,
        )
        .unwrap();
        let password = regex::Regex::new(r#"Err\("((?:[^"\\]|\\.)*)"\.into\(\)\)"#).unwrap();
        let refusal = regex::Regex::new(r#"Ok\(Some\("((?:[^"\\]|\\.)*)"\)\)"#).unwrap();
        let continuation = regex::Regex::new(r"\\\n\s*").unwrap();
        let arg = regex::Regex::new(r"\{[^}]*\}").unwrap();
        let skip = ["config.rs", "service/backup.rs", "store/maintenance.rs", "domain/ledger.rs", "web/api.rs"];
        let mut missing = Vec::new();
        let mut checked = 0;
        let mut files = vec![root.join("crypto/password.rs"), root.join("service/conversation.rs")];
        for dir in ["domain", "service", "store", "web", "web/pages"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                files.push(e.unwrap().path());
            }
        }
        files.push(root.join("service/rooms.rs"));
        for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "rs")) {
            let rel = f.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            if skip.iter().any(|s| rel == *s) {
                continue;
            }
            let src = std::fs::read_to_string(f).unwrap();
            let mut found: Vec<String> = literal.captures_iter(&src).map(|c| c[1].to_string()).collect();
            if rel == "crypto/password.rs" {
                found.extend(password.captures_iter(&src).map(|c| c[1].to_string()));
            }
            if rel == "service/conversation.rs" {
                found.extend(refusal.captures_iter(&src).map(|c| c[1].to_string()));
            }
            if rel == "service/rooms.rs" {
                found.push(crate::service::rooms::ROOM_OR_DMS.to_string());
            }
            for m in found {
                let m = arg.replace_all(&continuation.replace_all(&m, ""), "{}").to_string();
                checked += 1;
                if !DE.iter().any(|(en, _)| *en == m) {
                    missing.push(format!("{rel}: {m}"));
                }
            }
        }
        assert!(checked > 50, "the sources were read ({checked} messages)");
        assert!(missing.is_empty(), "messages without German in web/i18n/problems.rs:\n{}", missing.join("\n"));
    }
}
