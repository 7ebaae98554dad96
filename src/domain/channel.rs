//! Channels: what subscribers opt in to, with the wording they are shown and the promised frequency.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keywords::Lang;
use super::quiet::QuietRule;
use super::{Invalid, Problem, Transport};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Broadcast,
    Newsletter,
}

impl ChannelKind {
    pub const ALL: &'static [Self] = &[Self::Broadcast, Self::Newsletter];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Broadcast => "broadcast",
            ChannelKind::Newsletter => "newsletter",
        }
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "broadcast" => Ok(Self::Broadcast),
            "newsletter" => Ok(Self::Newsletter),
            _ => Err(Invalid::new("kind-unknown")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OptInMode {
    /// The first message subscribes.
    Single,
    /// The first message asks for a YES/JA; only that subscribes.
    Double,
}

impl OptInMode {
    pub const ALL: &'static [Self] = &[Self::Single, Self::Double];

    pub fn as_str(self) -> &'static str {
        match self {
            OptInMode::Single => "single",
            OptInMode::Double => "double",
        }
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "single" => Ok(Self::Single),
            "double" => Ok(Self::Double),
            _ => Err(Invalid::new("opt-in-unknown")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FrequencyPeriod {
    Day,
    Week,
    Month,
}

impl FrequencyPeriod {
    pub const ALL: &'static [Self] = &[Self::Day, Self::Week, Self::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            _ => Err(Invalid::new("period-unknown")),
        }
    }
    pub fn seconds(self) -> i64 {
        match self {
            Self::Day => 86_400,
            Self::Week => 7 * 86_400,
            Self::Month => 30 * 86_400,
        }
    }
}

/// The declared frequency: at most `max` broadcasts per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Frequency {
    pub max: u32,
    pub period: FrequencyPeriod,
}

impl Frequency {
    pub fn describe_en(&self) -> String {
        format!("at most {} per {}", self.max, self.period.as_str())
    }
}

/// A channel's own texts in one language. An empty text means "use the built-in one".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnTexts {
    pub welcome: String,
    pub confirm: String,
}

/// The texts a subscriber is shown, by language. Stored (and hashed as the wording) as one flat object
/// `{"welcome_de": …, "welcome_en": …, "confirm_de": …, "confirm_en": …}`, the shape it always had,
/// so wording hashes of unchanged channels stay the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Texts(pub std::collections::BTreeMap<Lang, OwnTexts>);

impl Texts {
    pub fn welcome(&self, lang: Lang) -> &str {
        self.0.get(&lang).map_or("", |t| t.welcome.as_str())
    }
    pub fn confirm(&self, lang: Lang) -> &str {
        self.0.get(&lang).map_or("", |t| t.confirm.as_str())
    }
    pub fn set(&mut self, lang: Lang, texts: OwnTexts) {
        self.0.insert(lang, texts);
    }
    fn all(&self) -> impl Iterator<Item = &String> {
        self.0.values().flat_map(|t| [&t.welcome, &t.confirm])
    }
}

impl Serialize for Texts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        for (which, get) in [("welcome", Texts::welcome as fn(&Texts, Lang) -> &str), ("confirm", Texts::confirm)] {
            for lang in Lang::ALL {
                m.serialize_entry(&format!("{which}_{}", lang.code()), get(self, *lang))?;
            }
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Texts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let flat = std::collections::BTreeMap::<String, String>::deserialize(d)?;
        let mut texts = Texts::default();
        for (key, value) in flat {
            let unknown = || serde::de::Error::custom(format!("unknown channel text {key:?}"));
            let (which, code) = key.rsplit_once('_').ok_or_else(unknown)?;
            let lang = Lang::parse(code).ok_or_else(unknown)?;
            let own = texts.0.entry(lang).or_default();
            match which {
                "welcome" => own.welcome = value,
                "confirm" => own.confirm = value,
                _ => return Err(unknown()),
            }
        }
        Ok(texts)
    }
}

/// What an admin submits to create or change a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelDraft {
    pub name: String,
    pub keyword: String,
    #[serde(default)]
    pub description: String,
    pub kind: ChannelKind,
    pub opt_in: OptInMode,
    /// The channel's own welcome and confirmation texts, `welcome_de`, `confirm_en`, …
    #[serde(default)]
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub texts: Texts,
    pub transports: Vec<Transport>,
    pub frequency: Option<Frequency>,
    /// Newsletters only: past issues on a public page (`/n/<keyword>`), without tracking.
    #[serde(default)]
    pub public_archive: bool,
    /// Whether its broadcasts wait out the night (the installation's quiet hours, its own, or none:
    /// urgent status news).
    #[serde(default)]
    pub quiet: QuietRule,
    /// What happens to a broadcast for someone who already had as many as the promised frequency (or
    /// the installation's cap) allows: it waits for the next window, or they do not get it.
    #[serde(default)]
    pub over_cap: OverCap,
}

/// What a delivery over a person's cap does.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum OverCap {
    /// It waits until the person's count allows it.
    #[default]
    Wait,
    /// The person does not get it (counted on the broadcast page as skipped).
    Skip,
}

impl OverCap {
    pub const ALL: &'static [Self] = &[Self::Wait, Self::Skip];

    pub fn as_str(self) -> &'static str {
        self.into()
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        s.parse().map_err(|_| Invalid::new("over-cap-unknown"))
    }
}

impl ChannelDraft {
    /// Checks and normalises: trims, upper-cases the keyword, sorts transports.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        self.name = self.name.trim().to_string();
        self.keyword = self.keyword.trim().to_uppercase();
        self.description = self.description.trim().to_string();
        if self.name.is_empty() || self.name.chars().count() > 80 {
            return Err(Invalid::new("channel-name-length"));
        }
        let kw_len = self.keyword.chars().count();
        if !(2..=20).contains(&kw_len) || !self.keyword.chars().all(|c| c.is_alphanumeric()) {
            return Err(Invalid::new("keyword-form"));
        }
        if RESERVED_KEYWORDS.contains(&self.keyword.as_str()) {
            return Err(Problem::new("keyword-is-command").with("keyword", &self.keyword).into());
        }
        if self.description.chars().count() > 2000 {
            return Err(Invalid::new("description-too-long"));
        }
        for t in self.texts.all() {
            if t.chars().count() > 1000 {
                return Err(Invalid::new("text-too-long"));
            }
        }
        self.transports.sort_by_key(|t| t.as_str());
        self.transports.dedup();
        if self.transports.is_empty() {
            return Err(Invalid::new("transport-needed"));
        }
        if let Some(f) = self.frequency
            && (f.max == 0 || f.max > 1000)
        {
            return Err(Invalid::new("frequency-range"));
        }
        Ok(self)
    }

    /// Everything a subscriber is shown when opting in, as canonical JSON. A change is a new wording version.
    pub fn wording(&self) -> String {
        let w = Wording {
            name: &self.name,
            description: &self.description,
            frequency: self.frequency.map(|f| f.describe_en()).unwrap_or_default(),
            texts: &self.texts,
            quiet: (self.quiet != QuietRule::Installation).then_some(&self.quiet),
        };
        serde_json::to_string(&w).expect("a wording serialises")
    }

    /// SHA-256 of [`Self::wording`].
    pub fn wording_sha256(&self) -> [u8; 32] {
        wording_sha256(&self.wording())
    }
}

#[derive(Serialize)]
struct Wording<'a> {
    name: &'a str,
    description: &'a str,
    frequency: String,
    texts: &'a Texts,
    /// Only when the channel has its own hours or none, so that the wording of other channels is
    /// what it was before channels had quiet hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    quiet: Option<&'a QuietRule>,
}

/// What the people on an imported list agreed to, kept as a wording version of the channel: the
/// import's consent source and the channel's own wording version at the time (canonical JSON).
pub fn import_wording(consent_source: &str, channel_wording_version: i64) -> String {
    #[derive(Serialize)]
    struct ImportWording<'a> {
        consent_source: &'a str,
        channel_wording_version: i64,
    }
    serde_json::to_string(&ImportWording { consent_source, channel_wording_version }).expect("a wording serialises")
}

/// SHA-256 over a stored wording's exact bytes.
pub fn wording_sha256(content: &str) -> [u8; 32] {
    Sha256::digest(content.as_bytes()).into()
}

/// Words of the keyword grammar that cannot name a channel.
pub const RESERVED_KEYWORDS: &[&str] = &[
    "START",
    "JOIN",
    "SUBSCRIBE",
    "YES",
    "UNSTOP",
    "ANMELDEN",
    "JA",
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "STOPP",
    "ABMELDEN",
    "ENDE",
    "HELP",
    "INFO",
    "HILFE",
    "MYDATA",
    "DATEN",
    "DELETE",
    "LÖSCHEN",
    "LOESCHEN",
];

/// A stored channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Channel {
    pub id: super::ChannelId,
    #[serde(flatten)]
    pub draft: ChannelDraft,
    pub wording_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Announcement-room mode: the Matrix room the bot posts each broadcast to (members see each other).
    pub matrix_room: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ChannelDraft {
        ChannelDraft {
            name: " News ".into(),
            keyword: "news".into(),
            description: String::new(),
            kind: ChannelKind::Broadcast,
            opt_in: OptInMode::Double,
            texts: Texts::default(),
            transports: vec![Transport::Sms, Transport::Sandbox, Transport::Sms],
            frequency: Some(Frequency { max: 2, period: FrequencyPeriod::Week }),
            public_archive: false,
            quiet: QuietRule::Installation,
            over_cap: OverCap::Wait,
        }
    }

    #[test]
    fn validation_normalises() {
        let d = draft().validate().unwrap();
        assert_eq!(d.name, "News");
        assert_eq!(d.keyword, "NEWS");
        assert_eq!(d.transports, vec![Transport::Sandbox, Transport::Sms]);
    }

    #[test]
    fn validation_refuses_bad_input() {
        let mut d = draft();
        d.keyword = "stop".into();
        assert!(d.validate().unwrap_err().to_string().contains("STOP"));
        let mut d = draft();
        d.keyword = "two words".into();
        assert!(d.validate().is_err());
        let mut d = draft();
        d.transports.clear();
        assert!(d.validate().is_err());
        let mut d = draft();
        d.frequency = Some(Frequency { max: 0, period: FrequencyPeriod::Day });
        assert!(d.validate().is_err());
    }

    #[test]
    fn wording_hash_changes_with_texts() {
        let a = draft().validate().unwrap();
        let mut b = a.clone();
        b.texts.set(Lang::En, OwnTexts { welcome: "Welcome!".into(), confirm: String::new() });
        assert_ne!(a.wording_sha256(), b.wording_sha256());
        assert_eq!(a.wording_sha256(), a.clone().wording_sha256());
    }

    #[test]
    fn texts_by_language_keep_their_stored_shape() {
        let mut t = Texts::default();
        t.set(Lang::De, OwnTexts { welcome: "Hallo".into(), confirm: String::new() });
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"welcome_de":"Hallo","welcome_en":"","confirm_de":"","confirm_en":""}"#);
        let back: Texts = serde_json::from_str(&json).unwrap();
        assert_eq!((back.welcome(Lang::De), back.welcome(Lang::En)), ("Hallo", ""));
        assert!(serde_json::from_str::<Texts>(r#"{"welcome_fr":"Salut"}"#).is_err());
        assert!(serde_json::from_str::<Texts>(r#"{"greeting_de":"Hallo"}"#).is_err());
    }
}
