//! Every text a person reads — the admin pages, the answers subscribers get, the reasons shown for a
//! broadcast — comes from the Fluent files in `locales/<language>/`, which are built into the binary.
//! Code names a text by its key and gives its arguments; adding a language is adding a folder.

mod problems;

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

pub use crate::domain::keywords::Lang;
pub use problems::problem;

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

/// A value put into a text: a number (which picks plural forms) or a piece of text.
pub enum Arg {
    Number(f64),
    Text(String),
}

macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Self {
                Arg::Number(n as f64)
            }
        }
        impl From<&$t> for Arg {
            fn from(n: &$t) -> Self {
                Arg::Number(*n as f64)
            }
        }
    )*};
}
number_arg!(i32, i64, u32, u64, usize);

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_string())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Text(s.clone())
    }
}

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
            };
            (Cow::Owned(name.to_string()), value)
        })
        .collect();
    LOCALES.lookup_with_args(id(lang), key, &args)
}

/// The texts of one language, as the pages use them: `t.get("key")`, `t.with("key", "name", value)`.
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
}
