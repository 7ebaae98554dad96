//! Keyword answers: a word a subscriber may send ("TRAINING") and what herold answers, in each
//! language. Read with the command grammar's normalisation; a command word can never be one.

use serde::{Deserialize, Serialize};

use super::keywords::{self, Command, Lang};
use super::{ChannelId, Invalid, Problem};

/// Longest keyword, after normalisation.
const MAX_KEYWORD: usize = 40;
/// Longest answer in one language.
pub const MAX_ANSWER: usize = 1000;

/// A keyword answer as an editor writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewAnswer {
    /// For one channel's subscribers; none: for everyone who writes.
    pub channel: Option<ChannelId>,
    pub keyword: String,
    #[serde(default)]
    pub answer_de: String,
    #[serde(default)]
    pub answer_en: String,
}

impl NewAnswer {
    /// Normalises the keyword as the grammar reads messages, and refuses one the grammar reads as a
    /// command (commands always win), an empty one, and answers that are missing or too long.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let keyword = keywords::normalise(&self.keyword).unwrap_or_default();
        if keyword.is_empty() || keyword.chars().count() > MAX_KEYWORD {
            return Err(Problem::new("answer-keyword-form").with("max", MAX_KEYWORD).into());
        }
        if keywords::parse(&keyword) != Command::Other {
            return Err(Problem::new("answer-keyword-is-command").with("keyword", &keyword).into());
        }
        self.keyword = keyword;
        self.answer_de = self.answer_de.trim().to_string();
        self.answer_en = self.answer_en.trim().to_string();
        if self.answer_de.is_empty() && self.answer_en.is_empty() {
            return Err(Invalid::new("answer-text-needed"));
        }
        if self.answer_de.chars().count() > MAX_ANSWER || self.answer_en.chars().count() > MAX_ANSWER {
            return Err(Problem::new("answer-too-long").with("max", MAX_ANSWER).into());
        }
        Ok(self)
    }
}

/// A stored keyword answer with how often it was asked for.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub id: i64,
    #[serde(flatten)]
    pub answer: NewAnswer,
    pub hits: i64,
}

impl Answer {
    /// The answer in `lang`, else in the other language.
    pub fn text(&self, lang: Lang) -> &str {
        let (de, en) = (self.answer.answer_de.as_str(), self.answer.answer_en.as_str());
        match lang {
            Lang::De if !de.is_empty() => de,
            Lang::En if !en.is_empty() => en,
            Lang::De => en,
            Lang::En => de,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(keyword: &str) -> NewAnswer {
        NewAnswer {
            channel: None,
            keyword: keyword.into(),
            answer_de: "Dienstags 18 Uhr".into(),
            answer_en: String::new(),
        }
    }

    #[test]
    fn keywords_are_normalised_and_commands_refused() {
        assert_eq!(new(" training! ").validate().unwrap().keyword, "TRAINING");
        assert_eq!(new("Öffnungszeiten").validate().unwrap().keyword, "ÖFFNUNGSZEITEN");
        assert_eq!(new("nächstes spiel").validate().unwrap().keyword, "NÄCHSTES SPIEL");
        for command in ["STOP", "hilfe", "Löschen", "start news", "JA"] {
            let e = new(command).validate().unwrap_err();
            assert_eq!(e.0.code, "answer-keyword-is-command", "{command}");
        }
        assert!(new("   ").validate().is_err());
        let mut none = new("TRAINING");
        none.answer_de.clear();
        assert!(none.validate().is_err());
    }

    #[test]
    fn the_answer_falls_back_to_the_other_language() {
        let a = Answer { id: 1, answer: new("TRAINING").validate().unwrap(), hits: 0 };
        assert_eq!(a.text(Lang::En), "Dienstags 18 Uhr");
        assert_eq!(a.text(Lang::De), "Dienstags 18 Uhr");
    }
}
