//! The keyword grammar shared by every transport: normalise an inbound text, then read a command
//! word and an optional channel keyword. Anything else is not a command.

use unicode_normalization::UnicodeNormalization;

/// Longer texts are never commands (and are not normalised at all).
const MAX_COMMAND_LEN: usize = 200;

/// The language a command word belongs to, when it tells.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    De,
    En,
}

impl Lang {
    /// Every language herold speaks, in the order pages list them.
    pub const ALL: &'static [Lang] = &[Lang::De, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// START, JOIN, SUBSCRIBE, UNSTOP, ANMELDEN.
    OptIn,
    /// YES, JA: confirms a pending opt-in; without one, it opts in like START.
    Yes,
    /// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, STOPP, ABMELDEN, ENDE.
    OptOut,
    Help,
    MyData,
    Delete,
}

/// What an inbound text asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A command word, maybe with a channel keyword (upper-cased). `all` is set for STOPALL.
    Keyword { verb: Verb, channel: Option<String>, lang: Option<Lang>, all: bool },
    /// Not a command: goes to the admin inbox.
    Other,
}

const WORDS: &[(&str, Verb, Option<Lang>)] = &[
    ("START", Verb::OptIn, None),
    ("JOIN", Verb::OptIn, Some(Lang::En)),
    ("SUBSCRIBE", Verb::OptIn, Some(Lang::En)),
    ("UNSTOP", Verb::OptIn, Some(Lang::En)),
    ("ANMELDEN", Verb::OptIn, Some(Lang::De)),
    ("YES", Verb::Yes, Some(Lang::En)),
    ("JA", Verb::Yes, Some(Lang::De)),
    ("STOP", Verb::OptOut, None),
    ("STOPALL", Verb::OptOut, None),
    ("UNSUBSCRIBE", Verb::OptOut, Some(Lang::En)),
    ("CANCEL", Verb::OptOut, Some(Lang::En)),
    ("END", Verb::OptOut, Some(Lang::En)),
    ("QUIT", Verb::OptOut, Some(Lang::En)),
    ("REVOKE", Verb::OptOut, Some(Lang::En)),
    ("OPTOUT", Verb::OptOut, Some(Lang::En)),
    ("STOPP", Verb::OptOut, Some(Lang::De)),
    ("ABMELDEN", Verb::OptOut, Some(Lang::De)),
    ("ENDE", Verb::OptOut, Some(Lang::De)),
    ("HELP", Verb::Help, Some(Lang::En)),
    ("INFO", Verb::Help, None),
    ("HILFE", Verb::Help, Some(Lang::De)),
    ("MYDATA", Verb::MyData, Some(Lang::En)),
    ("DATEN", Verb::MyData, Some(Lang::De)),
    ("DELETE", Verb::Delete, Some(Lang::En)),
    ("LÖSCHEN", Verb::Delete, Some(Lang::De)),
    ("LOESCHEN", Verb::Delete, Some(Lang::De)),
];

/// Unicode-normalises (NFKC), trims, upper-cases, and turns punctuation into spaces; words are then
/// separated by single spaces. `None` for texts too long to be a command.
pub fn normalise(text: &str) -> Option<String> {
    if text.len() > MAX_COMMAND_LEN {
        return None;
    }
    let cleaned: String =
        text.nfkc().flat_map(char::to_uppercase).map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    Some(cleaned.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Whether a text already tells how to leave: it names STOP (or STOPP, STOPALL) in capitals, as a
/// command is written. Other opt-out words are ordinary words in prose ("am Ende") and do not count.
pub fn tells_how_to_leave(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric()).any(|w| matches!(w, "STOP" | "STOPP" | "STOPALL"))
}

/// Reads a command: one command word, optionally followed by one channel keyword.
pub fn parse(text: &str) -> Command {
    let Some(norm) = normalise(text) else {
        return Command::Other;
    };
    let mut words = norm.split(' ');
    let (Some(first), second, None) = (words.next(), words.next(), words.next()) else {
        return Command::Other;
    };
    let Some((word, verb, lang)) = WORDS.iter().find(|(w, ..)| *w == first) else {
        return Command::Other;
    };
    Command::Keyword { verb: *verb, channel: second.map(str::to_string), lang: *lang, all: *word == "STOPALL" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(verb: Verb, channel: Option<&str>, lang: Option<Lang>) -> Command {
        Command::Keyword { verb, channel: channel.map(str::to_string), lang, all: false }
    }

    #[test]
    fn the_grammar_reads_commands_and_nothing_else() {
        let big = "x".repeat(10_000);
        let cases: Vec<(&str, Command)> = vec![
            ("STOP", kw(Verb::OptOut, None, None)),
            ("Stop.", kw(Verb::OptOut, None, None)),
            (" stop ", kw(Verb::OptOut, None, None)),
            ("stop!!!", kw(Verb::OptOut, None, None)),
            ("STOPP", kw(Verb::OptOut, None, Some(Lang::De))),
            ("Abmelden", kw(Verb::OptOut, None, Some(Lang::De))),
            ("ende", kw(Verb::OptOut, None, Some(Lang::De))),
            ("unsubscribe news", kw(Verb::OptOut, Some("NEWS"), Some(Lang::En))),
            ("STOPALL", Command::Keyword { verb: Verb::OptOut, channel: None, lang: None, all: true }),
            ("Ja", kw(Verb::Yes, None, Some(Lang::De))),
            ("ja!", kw(Verb::Yes, None, Some(Lang::De))),
            ("YES", kw(Verb::Yes, None, Some(Lang::En))),
            ("start NEWS", kw(Verb::OptIn, Some("NEWS"), None)),
            ("Start news.", kw(Verb::OptIn, Some("NEWS"), None)),
            ("START unknownchannel", kw(Verb::OptIn, Some("UNKNOWNCHANNEL"), None)),
            // A letter with no capital form stays as it is (found by fuzzing); it names no channel.
            ("STOPP \u{236}", kw(Verb::OptOut, Some("\u{236}"), Some(Lang::De))),
            ("anmelden  Verein", kw(Verb::OptIn, Some("VEREIN"), Some(Lang::De))),
            ("JOIN", kw(Verb::OptIn, None, Some(Lang::En))),
            ("unstop", kw(Verb::OptIn, None, Some(Lang::En))),
            ("HELP", kw(Verb::Help, None, Some(Lang::En))),
            ("hilfe", kw(Verb::Help, None, Some(Lang::De))),
            ("Info?", kw(Verb::Help, None, None)),
            ("mydata", kw(Verb::MyData, None, Some(Lang::En))),
            ("Daten", kw(Verb::MyData, None, Some(Lang::De))),
            ("löschen", kw(Verb::Delete, None, Some(Lang::De))),
            ("LÖSCHEN", kw(Verb::Delete, None, Some(Lang::De))),
            ("Loeschen", kw(Verb::Delete, None, Some(Lang::De))),
            ("delete", kw(Verb::Delete, None, Some(Lang::En))),
            // Full-width letters normalise (NFKC).
            ("ＳＴＯＰ", kw(Verb::OptOut, None, None)),
            ("", Command::Other),
            ("   ", Command::Other),
            ("Hello, when is the next meeting?", Command::Other),
            ("stop sending me this please", Command::Other),
            ("stopping", Command::Other),
            ("Startseite", Command::Other),
            ("<script>alert(1)</script>", Command::Other),
            (big.as_str(), Command::Other),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), want, "{:?}", &text[..text.len().min(40)]);
        }
    }

    #[test]
    fn normalising_folds_case_punctuation_and_width() {
        assert_eq!(normalise("  start,  NEWS! ").unwrap(), "START NEWS");
        assert_eq!(normalise("ﬁ").unwrap(), "FI");
        assert_eq!(normalise(&"a".repeat(201)), None);
    }
}
