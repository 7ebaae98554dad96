//! A [`Problem`] (a code with arguments) in a reader's language.

use super::{Lang, Problem, text};

/// `p` in `lang`.
pub fn problem(lang: Lang, p: &Problem) -> String {
    text(lang, p.code, &p.args)
}
