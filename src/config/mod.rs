//! Configuration: built-in defaults → `herold.toml` → `HEROLD_*` environment (`__` nests) → command-line flags.
//! Unknown keys are refused by name; every secret can also come from a `*_file`.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::crypto::MasterKeySource;

mod gateways;
mod metrics;
pub use gateways::{GatewayConfig, GatewayKind, MatrixConfig, Routing, SmsConfig};
pub use metrics::MetricsConfig;

/// A secret value: deserialises like a string, prints as `<redacted>`.
#[derive(Clone, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the database, keyring and key file live.
    pub data_dir: PathBuf,
    /// Address and port the web server listens on.
    pub listen: String,
    /// The URL people use to reach herold (for links, and the Origin check); defaults to `http://<listen>`.
    pub public_url: Option<String>,
    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` from a reverse proxy on the same machine.
    pub trust_proxy: bool,
    /// Log filter, e.g. `info` or `herold=debug,info`.
    pub log: String,
    /// The master key file; created (mode 0600) on first start. Default: `<data_dir>/master.key`.
    pub key_file: Option<PathBuf>,
    /// The master key as 64 hex digits, instead of a key file.
    pub master_key: Option<Secret>,
    pub master_key_file: Option<PathBuf>,
    /// A passphrase the master key is derived from (argon2id), instead of a key file.
    pub passphrase: Option<Secret>,
    pub passphrase_file: Option<PathBuf>,
    /// Connections in the database pool.
    pub pool_size: u32,
    /// The IANA time zone every time is typed and shown in (admin pages, messages to subscribers).
    pub time_zone: String,
    pub admin: AdminConfig,
    pub sms: SmsConfig,
    pub conversation: ConversationConfig,
    pub delivery: DeliveryConfig,
    /// When broadcasts wait out the night, in the recipient's local time (`[quiet_hours]`).
    pub quiet_hours: QuietHoursConfig,
    /// How long data is kept (`[retention]`, in days; 0 keeps it until erased by hand).
    pub retention: crate::service::privacy::Retention,
    pub backup: BackupConfig,
    pub privacy: PrivacyConfig,
    pub metrics: MetricsConfig,
    /// The Matrix bot account; none: Matrix is off.
    pub matrix: Option<MatrixConfig>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    /// Where scheduled backups go. Default: `<data_dir>/backups`.
    pub dir: Option<PathBuf>,
    /// Hours between scheduled backups (0: no scheduled backups; `herold backup` still works).
    pub every_hours: u32,
    /// Days a data backup is kept.
    pub keep_days: u32,
    /// Days a keyring backup is kept. Keep it short: once the keyring backups from before an erasure
    /// are gone, that subscriber is unreadable in every older data backup.
    pub keyring_keep_days: u32,
}

/// Who runs this herold, for the privacy notice on each channel's public pages.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// The controller: the association, shop or person responsible, e.g. `Sportverein Musterstadt e.V.`.
    pub controller: String,
    /// How to reach them about data: a postal address, an e-mail address or a web page.
    pub contact: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationConfig {
    /// Language of a new subscriber whose first word does not tell (de or en).
    pub default_language: String,
    /// How long a double opt-in waits for YES/JA.
    pub confirm_hours: u32,
    /// Acknowledge every message that is neither a command nor a keyword (it reaches the team's
    /// conversations either way).
    pub auto_reply: bool,
    /// Answer once when a conversation opens for the team ("Danke, wir melden uns bis morgen"), with
    /// the other text outside `office_hours`.
    pub first_answer: bool,
    /// When the team answers: `{ from = "09:00", until = "17:00", weekdays_only = true }`.
    pub office_hours: Option<crate::domain::quiet::OfficeHours>,
    /// Messages that are neither commands nor keywords open the conversation for the team (listed as
    /// open, counted, announced in the team room). Off: they are only kept in the conversation.
    pub open_for_team: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// Deliveries leased per worker round.
    pub batch: u32,
    /// Seconds a leased delivery stays with a worker before it returns to the queue.
    pub lease_seconds: u32,
    /// Attempts before a delivery counts as failed.
    pub max_attempts: u32,
    /// Sandbox sends per second (0: unlimited).
    pub sandbox_per_second: u32,
    /// Append every sandbox delivery id to this file (for load and crash tests).
    pub sandbox_log: Option<PathBuf>,
    /// A person gets at most this many broadcasts per period from this installation, across all
    /// channels (`{ max = 3, period = "week" }`); none: only each channel's promise counts.
    pub max_per_person: Option<crate::domain::Frequency>,
}

/// The installation's quiet hours: broadcasts over these transports wait while it is night (and, with
/// `sundays`, Sunday) where the recipient is. Channels may keep their own hours or be urgent.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursConfig {
    pub from: crate::domain::quiet::ClockTime,
    pub until: crate::domain::quiet::ClockTime,
    pub sundays: bool,
    /// The transports they hold; empty switches quiet hours off.
    pub transports: Vec<crate::domain::Transport>,
}

impl Default for QuietHoursConfig {
    fn default() -> Self {
        let q = crate::domain::quiet::QuietHours::default();
        Self {
            from: q.from,
            until: q.until,
            sundays: q.sundays,
            transports: vec![crate::domain::Transport::Sms, crate::domain::Transport::Matrix],
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// How long an admin stays logged in.
    pub session_hours: u32,
    /// Login attempts allowed per client IP and minute.
    pub login_per_ip_per_minute: u32,
    /// Login attempts allowed per user name and hour.
    pub login_per_account_per_hour: u32,
    /// Editors submit broadcasts for an owner's approval instead of sending them.
    pub editors_need_approval: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./herold-data"),
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            trust_proxy: false,
            log: "info".into(),
            key_file: None,
            master_key: None,
            master_key_file: None,
            passphrase: None,
            passphrase_file: None,
            pool_size: 8,
            time_zone: crate::domain::zone::DEFAULT.into(),
            admin: AdminConfig {
                session_hours: 12,
                login_per_ip_per_minute: 10,
                login_per_account_per_hour: 20,
                editors_need_approval: false,
            },
            sms: SmsConfig {
                default_country: "DE".into(),
                routing: Routing::Priority,
                gateways: vec![],
                public_number: String::new(),
            },
            conversation: ConversationConfig {
                default_language: "de".into(),
                confirm_hours: 48,
                auto_reply: false,
                first_answer: true,
                office_hours: None,
                open_for_team: true,
            },
            delivery: DeliveryConfig {
                batch: 500,
                lease_seconds: 60,
                max_attempts: 8,
                sandbox_per_second: 0,
                sandbox_log: None,
                max_per_person: None,
            },
            quiet_hours: QuietHoursConfig::default(),
            retention: Default::default(),
            backup: BackupConfig { dir: None, every_hours: 0, keep_days: 90, keyring_keep_days: 30 },
            privacy: PrivacyConfig::default(),
            metrics: MetricsConfig::default(),
            matrix: None,
        }
    }
}

/// Flags given on the command line; they override everything else.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Figment(String),
    #[error("the config file {0} does not exist")]
    MissingFile(String),
    #[error("reading {path}: {msg}")]
    SecretFile { path: String, msg: String },
    #[error("configuration: {0}")]
    Invalid(String),
}

/// Environment variables that configure herold start with this.
const ENV_PREFIX: &str = "HEROLD_";

/// The configuration's top-level keys. `HEROLD_<KEY>` and `HEROLD_<KEY>__<SUB>` are read from the
/// environment; any other `HEROLD_*` variable was set by something else — Kubernetes sets
/// `HEROLD_PORT=tcp://…` and `HEROLD_SERVICE_HOST` for a Service named `herold` — and is ignored with a
/// warning. Unknown keys in the file, and under a known section in the environment, stay refused.
fn top_level_keys() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => vec![],
    }
}

impl Config {
    /// Loads the layers. `file` is `--config` or `HEROLD_CONFIG`; without it `./herold.toml` is read if present.
    pub fn load(file: Option<&Path>, flags: &Overrides) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(p) if !p.exists() => {
                return Err(ConfigError::MissingFile(p.display().to_string()));
            }
            Some(p) => fig = fig.merge(Toml::file_exact(p)),
            None => fig = fig.merge(Toml::file("herold.toml")),
        }
        let keys = top_level_keys();
        let known = move |key: &str| {
            let first = key.split("__").next().unwrap_or(key).to_ascii_lowercase();
            keys.contains(&first)
        };
        for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with(ENV_PREFIX)) {
            let key = &name[ENV_PREFIX.len()..];
            if !known(key) && !key.eq_ignore_ascii_case("config") {
                // Logging is not set up yet; the name is no secret (its value is not shown).
                eprintln!("herold: ignoring {name}: not a configuration key (set by the platform?)");
            }
        }
        let env = Env::prefixed(ENV_PREFIX).filter(move |k| known(k.as_str())).split("__");
        fig = fig.merge(env).merge(Serialized::defaults(flags));
        let cfg: Config = fig
            .extract()
            .map_err(|e| ConfigError::Figment(e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")))?;
        cfg.check()?;
        Ok(cfg)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "listen = {:?} is not an address like 127.0.0.1:8080",
                self.listen
            )));
        }
        if let Some(u) = &self.public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(ConfigError::Invalid("public_url must start with http:// or https://".into()));
        }
        if crate::domain::zone::Zone::parse(&self.time_zone).is_err() {
            return Err(ConfigError::Invalid(format!(
                "time_zone = {:?} is not an IANA time zone like Europe/Berlin or Europe/Vienna",
                self.time_zone
            )));
        }
        if self.sms.default_country.parse::<phonenumber::country::Id>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "sms.default_country = {:?} is not an ISO country code like DE",
                self.sms.default_country
            )));
        }
        if let Some(m) = &self.matrix {
            m.check()?;
        }
        self.metrics.check()?;
        for (i, g) in self.sms.gateways.iter().enumerate() {
            g.check()?;
            if self.sms.gateways[..i].iter().any(|o| o.name == g.name) {
                return Err(ConfigError::Invalid(format!("sms gateway name {:?} is used twice", g.name)));
            }
        }
        if !["de", "en"].contains(&self.conversation.default_language.as_str()) {
            return Err(ConfigError::Invalid("conversation.default_language must be de or en".into()));
        }
        if self.conversation.confirm_hours == 0 || self.delivery.batch == 0 || self.delivery.lease_seconds < 5 {
            return Err(ConfigError::Invalid(
                "conversation.confirm_hours and delivery.batch must be at least 1, delivery.lease_seconds at least 5"
                    .into(),
            ));
        }
        if self.delivery.max_attempts == 0 {
            return Err(ConfigError::Invalid("delivery.max_attempts must be at least 1".into()));
        }
        if self.pool_size == 0 || self.admin.session_hours == 0 {
            return Err(ConfigError::Invalid("pool_size and admin.session_hours must be at least 1".into()));
        }
        if self.admin.login_per_ip_per_minute == 0 || self.admin.login_per_account_per_hour == 0 {
            return Err(ConfigError::Invalid("login limits must be at least 1".into()));
        }
        Ok(())
    }

    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen)).trim_end_matches('/').to_string()
    }

    /// Where the master key comes from: `master_key(_file)` > `passphrase(_file)` > the key file.
    pub fn key_source(&self) -> Result<MasterKeySource, ConfigError> {
        if let Some(v) = secret(&self.master_key, &self.master_key_file)? {
            return Ok(MasterKeySource::Hex(v));
        }
        if let Some(v) = secret(&self.passphrase, &self.passphrase_file)? {
            return Ok(MasterKeySource::Passphrase(v));
        }
        Ok(MasterKeySource::File { path: self.key_file_path(), create: true })
    }

    pub fn key_file_path(&self) -> PathBuf {
        self.key_file.clone().unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot print: {e}"))
    }
}

fn secret(value: &Option<Secret>, file: &Option<PathBuf>) -> Result<Option<Zeroizing<String>>, ConfigError> {
    if let Some(v) = value {
        return Ok(Some(Zeroizing::new(v.expose().trim().to_string())));
    }
    if let Some(p) = file {
        let text = std::fs::read_to_string(p)
            .map_err(|e| ConfigError::SecretFile { path: p.display().to_string(), msg: e.to_string() })?;
        return Ok(Some(Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_string())));
    }
    Ok(None)
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn precedence_is_file_then_env_then_flags() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "h.toml",
                "listen = \"127.0.0.1:9001\"\nlog = \"debug\"\n[sms]\ndefault_country = \"AT\"\n",
            )?;
            let p = jail.directory().join("h.toml");
            let c = Config::load(Some(&p), &Overrides::default()).unwrap();
            assert_eq!(
                (c.listen.as_str(), c.log.as_str(), c.sms.default_country.as_str()),
                ("127.0.0.1:9001", "debug", "AT")
            );
            jail.set_env("HEROLD_LISTEN", "127.0.0.1:9002");
            jail.set_env("HEROLD_SMS__DEFAULT_COUNTRY", "CH");
            let c = Config::load(Some(&p), &Overrides::default()).unwrap();
            assert_eq!((c.listen.as_str(), c.sms.default_country.as_str()), ("127.0.0.1:9002", "CH"));
            let flags = Overrides { listen: Some("127.0.0.1:9003".into()), ..Default::default() };
            let c = Config::load(Some(&p), &flags).unwrap();
            assert_eq!(c.listen, "127.0.0.1:9003");
            assert_eq!(c.log, "debug", "untouched keys keep the file's value");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        Jail::expect_with(|jail| {
            jail.create_file("h.toml", "lisen = \"127.0.0.1:9001\"\n")?;
            let err = Config::load(Some(&jail.directory().join("h.toml")), &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("lisen"), "{err}");
            jail.clear_env();
            jail.create_file("ok.toml", "")?;
            jail.set_env("HEROLD_ADMIN__SESION_HOURS", "3");
            let err = Config::load(Some(&jail.directory().join("ok.toml")), &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("sesion_hours"), "{err}");
            Ok(())
        });
    }

    /// The annotated example in the repository loads, with its secret files where it names them
    /// (here in a scratch directory instead of /etc/herold), and sets what it says.
    #[test]
    fn the_example_configuration_loads() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("herold.example.toml");
            let dir = jail.directory().to_path_buf();
            let mut text =
                std::fs::read_to_string(example).unwrap().replace("/etc/herold/", &format!("{}/", dir.display()));
            if cfg!(not(feature = "matrix")) {
                // A build without Matrix refuses [matrix]: the example's last section.
                text.truncate(text.find("# The Matrix bot").expect("the example ends with [matrix]"));
            }
            for secret in
                ["kannel.password", "kannel.webhook", "phone.password", "phone.signing-key", "matrix.password"]
            {
                jail.create_file(secret, "aSecretOfTwentyChars42")?;
            }
            jail.create_file("herold.toml", &text)?;
            let c = Config::load(Some(&dir.join("herold.toml")), &Overrides::default()).unwrap();
            assert_eq!((c.time_zone.as_str(), c.sms.gateways.len()), ("Europe/Berlin", 2));
            assert_eq!(c.sms.gateways[1].limits().broadcast_parts(), Some(450));
            assert_eq!(c.delivery.max_per_person.map(|f| f.max), Some(3));
            assert!(c.conversation.office_hours.is_some());
            assert_eq!(c.matrix.is_some(), cfg!(feature = "matrix"));
            Ok(())
        });
    }

    /// Kubernetes sets `HEROLD_PORT`, `HEROLD_SERVICE_HOST`, … for a Service named `herold`: they are
    /// not herold's keys and do not stop it; its own keys still apply beside them.
    #[test]
    fn variables_a_platform_sets_are_ignored() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("ok.toml", "")?;
            jail.set_env("HEROLD_PORT", "tcp://10.96.0.12:8080");
            jail.set_env("HEROLD_PORT_8080_TCP_ADDR", "10.96.0.12");
            jail.set_env("HEROLD_SERVICE_HOST", "10.96.0.12");
            jail.set_env("HEROLD_SERVICE_PORT", "8080");
            jail.set_env("HEROLD_LISTEN", "127.0.0.1:9009");
            let c = Config::load(Some(&jail.directory().join("ok.toml")), &Overrides::default()).unwrap();
            assert_eq!(c.listen, "127.0.0.1:9009");
            Ok(())
        });
    }

    #[test]
    fn secrets_come_from_files_and_never_print() {
        Jail::expect_with(|jail| {
            jail.create_file("key", &format!("{}\n", "ab".repeat(32)))?;
            jail.create_file("h.toml", "master_key_file = \"key\"\n")?;
            let c = Config::load(Some(&jail.directory().join("h.toml")), &Overrides::default()).unwrap();
            match c.key_source().unwrap() {
                MasterKeySource::Hex(h) => assert_eq!(h.as_str(), "ab".repeat(32)),
                other => panic!("wrong source {other:?}"),
            }
            jail.set_env("HEROLD_PASSPHRASE", "a very secret passphrase");
            let c = Config::load(Some(&jail.directory().join("h.toml")), &Overrides::default()).unwrap();
            assert!(!c.to_toml().contains("very secret"));
            assert!(!format!("{c:?}").contains("very secret"));
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_explained() {
        Jail::expect_with(|jail| {
            jail.set_env("HEROLD_LISTEN", "localhost");
            assert!(Config::load(None, &Overrides::default()).unwrap_err().to_string().contains("listen"));
            jail.set_env("HEROLD_LISTEN", "127.0.0.1:1");
            jail.set_env("HEROLD_SMS__DEFAULT_COUNTRY", "XX");
            assert!(Config::load(None, &Overrides::default()).unwrap_err().to_string().contains("default_country"));
            jail.set_env("HEROLD_SMS__DEFAULT_COUNTRY", "DE");
            jail.set_env("HEROLD_TIME_ZONE", "Europe/Atlantis");
            let e = Config::load(None, &Overrides::default()).unwrap_err().to_string();
            assert!(e.contains("time_zone") && e.contains("Europe/Atlantis"), "{e}");
            Ok(())
        });
    }
}
