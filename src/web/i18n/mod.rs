//! The admin pages' two languages: which one a request gets, and its strings (`en.rs`, `de.rs`).

mod de;
mod en;
mod problems;
mod texts;

use std::fmt::Display;

pub use crate::domain::keywords::Lang;
pub use problems::problem;
pub use texts::Texts;

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::De => &de::DE,
        Lang::En => &en::EN,
    }
}

impl Texts {
    /// A machine word (a state, a kind) in this language; an unknown word as it is.
    pub fn word<'a>(&self, w: &'a str) -> &'a str {
        self.words.iter().find(|(k, _)| *k == w).map(|(_, v)| *v).unwrap_or(w)
    }

    /// `text` with its `{}` replaced by `a`.
    pub fn fill(&self, text: &str, a: impl Display) -> String {
        text.replacen("{}", &a.to_string(), 1)
    }

    /// `text` with its two `{}` replaced by `a` and `b`.
    pub fn fill2(&self, text: &str, a: impl Display, b: impl Display) -> String {
        self.fill(text, a).replacen("{}", &b.to_string(), 1)
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
    fn every_word_has_a_wording_in_both_languages() {
        let en: Vec<_> = texts(Lang::En).words.iter().map(|(k, _)| *k).collect();
        let de: Vec<_> = texts(Lang::De).words.iter().map(|(k, _)| *k).collect();
        assert_eq!(en, de);
        assert_eq!(texts(Lang::De).word("paused"), "angehalten");
        assert_eq!(texts(Lang::De).word("unknown-word"), "unknown-word");
        assert_eq!(texts(Lang::En).fill2(texts(Lang::De).bc_figures, 3, 7), "3 von 7 gesendet");
    }
}
