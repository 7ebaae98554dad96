//! A text for a person as a code with arguments: the code is a key in `locales/<language>/*.ftl`,
//! worded at the edge in the reader's language. A [`Problem`] says why something was refused or
//! cannot be done (the API gives its code beside the English `message`); other messages are setup
//! hints and audit details.

use std::fmt;

/// A value in a message: a number (which picks plural forms), a piece of text copied as it is (a
/// name, a keyword), or a machine word (a state, a period) shown in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Number(i64),
    Text(String),
    Word(&'static str),
}

macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Self {
                Arg::Number(n as i64)
            }
        }
        impl From<&$t> for Arg {
            fn from(n: &$t) -> Self {
                Arg::Number(*n as i64)
            }
        }
    )*};
}
number_arg!(u8, u16, i32, i64, u32, u64, usize);

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

/// A message code and its named arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub code: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

impl Message {
    pub fn new(code: &'static str) -> Self {
        Self { code, args: Vec::new() }
    }

    /// The same message with one more argument.
    pub fn with(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    /// The same message with a machine word as an argument (translated when shown).
    pub fn word(mut self, name: &'static str, word: &'static str) -> Self {
        self.args.push((name, Arg::Word(word)));
        self
    }
}

/// Why something was refused or cannot be done (a key in `problems.ftl`).
pub type Problem = Message;

impl Message {
    /// As stored where a text is kept for later (an audit detail): `{"code":…,"args":{…}}`.
    pub fn stored(&self) -> String {
        let args: serde_json::Map<String, serde_json::Value> = self
            .args
            .iter()
            .map(|(name, arg)| {
                let v = match arg {
                    Arg::Number(n) => serde_json::Value::from(*n),
                    Arg::Text(s) => serde_json::Value::from(s.as_str()),
                    Arg::Word(w) => serde_json::json!({ "word": w }),
                };
                (name.to_string(), v)
            })
            .collect();
        serde_json::json!({ "code": self.code, "args": args }).to_string()
    }
}

/// English, for logs and the API's `message`.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::i18n::problem(crate::i18n::Lang::En, self))
    }
}

/// A message as the API shows it (the shape its OpenAPI schema describes).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct MessageJson {
    /// The message's code, for programs (a key of `locales/en/problems.ftl`).
    code: String,
    /// In English, for people reading logs.
    message: String,
}

impl utoipa::PartialSchema for Message {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <MessageJson as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for Message {
    fn name() -> std::borrow::Cow<'static, str> {
        "Problem".into()
    }
}

/// In JSON (the API): the code, for programs, and the English message, for people reading logs.
impl serde::Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Problem", 2)?;
        st.serialize_field("code", self.code)?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}
