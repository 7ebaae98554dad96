//! Every text a person reads — the admin pages, the answers subscribers get, the reasons shown for a
//! broadcast — comes from the Fluent files in `locales/<language>/`, which are built into the binary.
//! Code names a text by its key and gives its arguments; adding a language is adding a folder.

mod problems;
mod reasons;
pub mod replies;

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

pub use crate::domain::keywords::Lang;
pub use problems::problem;
pub use reasons::reason;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: texts go out as SMS, where each costs a part.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static DE: LanguageIdentifier = langid!("de");
static EN: LanguageIdentifier = langid!("en");

fn id(lang: Lang) -> &'static LanguageIdentifier {
    match lang {
        Lang::De => &DE,
        Lang::En => &EN,
    }
}

pub use crate::domain::message::{Arg, Message, Problem};

/// The text `key` in `lang`, with `args` filled in. A key no file has shows as the key (the
/// completeness test keeps that from shipping).
pub fn text(lang: Lang, key: &str, args: &[(&str, Arg)]) -> String {
    if args.is_empty() {
        return LOCALES.lookup(id(lang), key);
    }
    let args: HashMap<Cow<'static, str>, FluentValue> = args
        .iter()
        .map(|(name, arg)| {
            let value = match arg {
                Arg::Number(n) => FluentValue::from(*n),
                Arg::Text(s) => FluentValue::from(s.clone()),
                Arg::Word(w) => FluentValue::from(texts(lang).word(w)),
            };
            (Cow::Owned(name.to_string()), value)
        })
        .collect();
    LOCALES.lookup_with_args(id(lang), key, &args)
}

/// The actors the ledger and the audit log name by a word (`Texts::actor`).
pub const ACTOR_WORDS: &[&str] = &["subscriber", "provider", "cli", "system", "anonymous"];

/// A message kept as [`Message::stored`] wrote it, in `lang`; `None` when `stored` is not one.
fn stored_message(lang: Lang, stored: &str) -> Option<String> {
    if let Ok(r) = serde_json::from_str::<crate::domain::Reason>(stored) {
        return Some(reason(lang, &r));
    }
    let v: serde_json::Value = serde_json::from_str(stored).ok()?;
    let code = v.get("code")?.as_str()?;
    let mut args = Vec::new();
    for (name, value) in v.get("args").and_then(|a| a.as_object()).into_iter().flatten() {
        let arg = match value {
            serde_json::Value::Number(n) => Arg::Number(n.as_i64()?),
            serde_json::Value::String(s) => Arg::Text(s.clone()),
            other => Arg::Text(texts(lang).word(other.get("word")?.as_str()?)),
        };
        args.push((name.as_str(), arg));
    }
    Some(text(lang, code, &args))
}

/// The texts of one language, as the pages use them: `t.get(key)`, `t.with(key, name, value)`.
pub struct Texts {
    pub lang: Lang,
}

static TEXTS_DE: Texts = Texts { lang: Lang::De };
static TEXTS_EN: Texts = Texts { lang: Lang::En };

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::De => &TEXTS_DE,
        Lang::En => &TEXTS_EN,
    }
}

impl Texts {
    pub fn get(&self, key: &str) -> String {
        text(self.lang, key, &[])
    }

    /// `key` with one argument.
    pub fn with(&self, key: &str, name: &str, value: impl Into<Arg>) -> String {
        text(self.lang, key, &[(name, value.into())])
    }

    /// `key` with two arguments.
    pub fn with2(&self, key: &str, a: &str, av: impl Into<Arg>, b: &str, bv: impl Into<Arg>) -> String {
        text(self.lang, key, &[(a, av.into()), (b, bv.into())])
    }

    /// A [`Message`] (a problem, a setup hint) in this language.
    pub fn message(&self, m: &Message) -> String {
        text(self.lang, m.code, &m.args)
    }

    /// Who did something, as the ledger and the audit log store it (`admin:3`, `token:2`, `cli`, …).
    pub fn actor(&self, stored: &str) -> String {
        if let Some(id) = stored.strip_prefix("admin:") {
            return self.with("actor-admin", "id", id);
        }
        if let Some(id) = stored.strip_prefix("token:") {
            return self.with("actor-token", "id", id);
        }
        self.word(stored)
    }

    /// What an audit entry is about (`subscriber 0cb8…`, `broadcast 3`, a name as it is).
    pub fn audit_target(&self, stored: &str) -> String {
        if let Some(m) = stored_message(self.lang, stored) {
            return m;
        }
        for (prefix, key) in [
            ("subscriber ", "target-subscriber"),
            ("broadcast ", "target-broadcast"),
            ("channel ", "target-channel"),
            ("token ", "target-token"),
            ("webhook ", "target-webhook"),
            ("inbox message ", "target-inbox"),
        ] {
            if let Some(id) = stored.strip_prefix(prefix) {
                return text(self.lang, key, &[("id", Arg::from(id))]);
            }
        }
        stored.to_string()
    }

    /// An audit entry's detail: a stored message (`{"code":…}`) in this language, a machine word
    /// (a role, a scope) in this language, or anything older as it was written.
    pub fn audit_detail(&self, stored: &str) -> String {
        stored_message(self.lang, stored).unwrap_or_else(|| self.word(stored))
    }

    /// What a channel's page, sign-up page and privacy notice say about the night: the hours with no
    /// broadcasts (`hours`, as [`crate::service::QuietSettings::shown`] gives them), or that it is
    /// urgent status news that may come at any hour; nothing when neither applies.
    pub fn quiet(
        &self,
        rule: &crate::domain::quiet::QuietRule,
        hours: &Option<crate::domain::quiet::QuietHours>,
    ) -> String {
        match (rule, hours) {
            (crate::domain::quiet::QuietRule::Urgent, _) => self.get("quiet-urgent"),
            (_, Some(q)) => {
                let key = if q.sundays { "quiet-hours-sundays" } else { "quiet-hours" };
                self.with2(key, "from", q.from.to_string(), "until", q.until.to_string())
            }
            (_, None) => String::new(),
        }
    }

    /// A machine word (a state, a kind) in this language (`word-<word>` in the files); an unknown
    /// word as it is.
    pub fn word(&self, w: &str) -> String {
        LOCALES.try_lookup(id(self.lang), &format!("word-{w}")).unwrap_or_else(|| w.to_string())
    }
}

/// The language a browser prefers (`Accept-Language`): German or English, whichever it ranks higher;
/// `None` when it names neither.
pub fn from_accept_language(header: Option<&str>) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for (i, item) in header.unwrap_or("").split(',').enumerate() {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q =
            parts.find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse::<f32>().ok())).unwrap_or(1.0);
        let lang = match tag.split('-').next() {
            Some("de") => Lang::De,
            Some("en") => Lang::En,
            _ => continue,
        };
        // Equal weights: the earlier entry wins.
        let q = q - i as f32 * 1e-4;
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_language_decides() {
        for (header, lang) in [
            (None, Lang::En),
            (Some(""), Lang::En),
            (Some("de-DE,de;q=0.9,en;q=0.8"), Lang::De),
            (Some("en-GB,en;q=0.9,de;q=0.8"), Lang::En),
            (Some("fr-FR,fr;q=0.9,de;q=0.7,en;q=0.5"), Lang::De),
            (Some("fr, en;q=0.2, de;q=0.3"), Lang::De),
            (Some("de;q=0, en"), Lang::En),
            (Some("de;q=0"), Lang::En),
            (Some("DE-AT"), Lang::De),
            (Some("garbage;;;q=x,,"), Lang::En),
        ] {
            assert_eq!(from_accept_language(header).unwrap_or(Lang::En), lang, "{header:?}");
        }
    }

    #[test]
    fn texts_come_from_the_files_with_their_arguments() {
        assert_eq!(texts(Lang::De).word("paused"), "angehalten");
        assert_eq!(texts(Lang::De).word("unknown-word"), "unknown-word");
        assert_eq!(texts(Lang::De).with2("bc-figures", "sent", 3, "total", 7), "3 von 7 gesendet");
        assert_eq!(texts(Lang::En).get("nav-main"), "Main");
    }

    /// The keys of one language: every `key =` line of every file in `locales/<lang>/`.
    fn keys_of(lang: &str) -> std::collections::BTreeSet<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang);
        let key = regex::Regex::new(r"(?m)^([a-z][a-z0-9_-]*) =").unwrap();
        let mut keys = std::collections::BTreeSet::new();
        for f in std::fs::read_dir(dir).unwrap() {
            let src = std::fs::read_to_string(f.unwrap().path()).unwrap();
            for c in key.captures_iter(&src) {
                assert!(keys.insert(c[1].to_string()), "{lang}: {} twice", &c[1]);
            }
        }
        keys
    }

    fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs" || x == "html") {
                out.push(std::fs::read_to_string(path).unwrap());
            }
        }
    }

    /// Adding a text is adding it to every language; a key the code names exists in every file; a
    /// key no code names is an error too, so the files never fill with dead texts. The machine words
    /// (`word-…`) are exactly the states, kinds and periods the code has.
    #[test]
    fn every_language_has_every_key_the_code_uses_and_no_other() {
        use crate::domain::channel::{ChannelKind, FrequencyPeriod, OptInMode};
        use crate::domain::{BroadcastState, DeliveryState, SubscriptionState};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let en = keys_of("en");
        for lang in std::fs::read_dir(root.join("locales")).unwrap() {
            let lang = lang.unwrap().file_name().into_string().unwrap();
            let keys = keys_of(&lang);
            let missing: Vec<_> = en.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&en).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{lang}: missing {missing:?}, not in English {extra:?}");
        }
        let mut files = Vec::new();
        sources(&root.join("src"), &mut files);
        sources(&root.join("templates"), &mut files);
        let call = regex::Regex::new(
            r#"(?:(?:\bt|\bself|texts\(\w*\))\.(?:get|with2?)|Problem::new|Invalid::new|Message::new|\btext\(\s*\w+,)\(?\s*"([a-z][a-z0-9-]*)""#,
        )
        .unwrap();
        let used: std::collections::BTreeSet<String> =
            files.iter().flat_map(|f| call.captures_iter(f).map(|c| c[1].to_string())).collect();
        assert!(used.len() > 300, "the sources were read ({} keys)", used.len());
        let unknown: Vec<_> = used.difference(&en).collect();
        assert!(unknown.is_empty(), "keys the code uses but no file has: {unknown:?}");
        let words: std::collections::BTreeSet<String> = (SubscriptionState::ALL.iter().map(|s| s.as_str()))
            .chain(BroadcastState::ALL.iter().map(|s| s.as_str()))
            .chain(DeliveryState::ALL.iter().map(|s| s.as_str()))
            .chain(ChannelKind::ALL.iter().map(|s| s.as_str()))
            .chain(OptInMode::ALL.iter().map(|s| s.as_str()))
            .chain(FrequencyPeriod::ALL.iter().map(|s| s.as_str()))
            .chain(crate::domain::channel::OverCap::ALL.iter().map(|s| s.as_str()))
            .chain(crate::domain::DraftState::ALL.iter().map(|s| s.as_str()))
            .chain(crate::domain::ThreadState::ALL.iter().map(|s| s.as_str()))
            .chain(Lang::ALL.iter().map(|l| l.code()))
            .chain(crate::domain::audit::Action::ALL.iter().map(|a| a.as_str()))
            .chain(crate::domain::ConsentKind::ALL.iter().map(|k| k.as_str()))
            .chain(["viewer", "editor", "owner"])
            .chain(crate::service::Scope::ALL.iter().map(|s| s.as_str()))
            .chain(ACTOR_WORDS.iter().copied())
            .map(|w| format!("word-{w}"))
            .collect();
        // A key named as a literal anywhere in the code (a table of keys) counts as used.
        let literal = regex::Regex::new(r#""([a-z]+(?:-[a-z0-9]+)+)""#).unwrap();
        let named: std::collections::BTreeSet<String> =
            files.iter().flat_map(|f| literal.captures_iter(f).map(|c| c[1].to_string())).collect();
        let unused: Vec<_> =
            en.iter().filter(|k| !used.contains(*k) && !named.contains(*k) && !words.contains(*k)).collect();
        assert!(unused.is_empty(), "keys no code uses: {unused:?}");
        let no_word: Vec<_> = words.difference(&en).collect();
        assert!(no_word.is_empty(), "machine words without a wording: {no_word:?}");
    }
}
