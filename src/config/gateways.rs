//! The gateways' part of the configuration: `[sms]` with its `[[sms.gateways]]` (Kannel, SMS Gateway
//! for Android, Twilio-style) and `[matrix]`, each checked for what its transport needs.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use zeroize::Zeroizing;

use super::{ConfigError, Secret, secret};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// Country for phone numbers written without +country code (ISO 3166, e.g. DE, AT, CH).
    pub default_country: String,
    /// How messages are spread over several gateways: `priority` (the first with room in its rate)
    /// or `round_robin`.
    pub routing: Routing,
    /// SMS gateways (`[[sms.gateways]]`); none: SMS is off and only the sandbox phone delivers.
    pub gateways: Vec<GatewayConfig>,
    /// The number subscribers text, as shown on sign-up pages and in their QR codes (empty: the
    /// sign-up pages offer no SMS).
    #[serde(default)]
    pub public_number: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    Priority,
    RoundRobin,
    /// By the share of today's quota each gateway has left.
    Capacity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayKind {
    /// Kannel's smsbox (also GSM modems and SMPP behind it).
    Kannel,
    /// SMS Gateway for Android (capcom6), local server or cloud.
    Android,
    /// Twilio or a provider with Twilio's Messages API.
    Twilio,
}

/// One SMS gateway. Webhooks from it arrive at `<public_url>/hooks/sms/<name>/<endpoint>`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// A short name (letters, digits, `-`): in webhook URLs, gateway ids and the status page.
    pub name: String,
    pub kind: GatewayKind,
    /// Base URL of the gateway's API: Kannel's sendsms port (`http://127.0.0.1:13013`), the phone
    /// (`http://192.168.1.20:8080`) or `https://api.sms-gate.app/3rdparty/v1`, `https://api.twilio.com`.
    pub url: String,
    /// Kannel: the sendsms-user; Android: the user the app shows; Twilio: the Account SID.
    pub username: String,
    /// Kannel: its password; Android: the app's password; Twilio: the Auth Token.
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    /// Authenticates the gateway's webhooks. Kannel: the password in its callback URLs (letters and
    /// digits); Android: the webhook signing key from the app. Twilio signs with the Auth Token.
    pub webhook_secret: Option<Secret>,
    pub webhook_secret_file: Option<PathBuf>,
    /// The sender number or name (Kannel: empty uses its global-sender; Twilio: required).
    #[serde(default)]
    pub sender: String,
    /// Segments this gateway may send, as `N/s`, `N/min` or `N/h` (e.g. `30/min` for a phone).
    #[serde(default = "default_rate")]
    pub rate: String,
    /// Lower goes first (routing = priority).
    #[serde(default)]
    pub priority: u32,
    /// The most parts one message may have (Kannel: the sendsms-user's `max-messages`, which
    /// otherwise cuts longer texts silently).
    #[serde(default = "default_max_parts")]
    pub max_parts: u32,
    /// Seconds to wait for the gateway's answer.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u32,
    /// SMS parts this gateway may send a local day (a phone's contract: a few hundred).
    #[serde(default)]
    pub parts_per_day: Option<u32>,
    /// Distinct recipients this gateway may reach a calendar month ("unlimited" plans: 99–250).
    #[serde(default)]
    pub recipients_per_month: Option<u32>,
    /// Percent of the day's parts broadcasts leave for replies.
    #[serde(default = "default_reply_reserve")]
    pub reply_reserve_percent: u32,
    /// Android: the SIM card to send from on a dual-SIM phone (1 or 2; empty: the phone's default).
    #[serde(default)]
    pub sim_number: Option<u8>,
}

fn default_reply_reserve() -> u32 {
    10
}

/// `N/s`, `N/min` or `N/h` as a rate per second; `what` names the setting in the error.
fn per_second(rate: &str, what: &str) -> Result<f64, ConfigError> {
    let bad = || ConfigError::Invalid(format!("{what}: rate = {rate:?} is not like 1/s, 30/min or 500/h"));
    let (n, unit) = rate.split_once('/').ok_or_else(bad)?;
    let n: f64 = n.trim().parse().map_err(|_| bad())?;
    let per = match unit.trim() {
        "s" | "sec" | "second" => 1.0,
        "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        _ => return Err(bad()),
    };
    if !(n > 0.0 && n.is_finite()) {
        return Err(bad());
    }
    Ok(n / per)
}

/// The Matrix bot account (`[matrix]`). herold logs in once, keeps the session (encrypted, in
/// `<data_dir>/matrix/`) and restores it with the same device after a restart.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// The homeserver's client URL, e.g. `https://matrix.example.org`.
    pub homeserver: String,
    /// The bot's user id, e.g. `@herold:example.org`.
    pub user_id: String,
    /// The bot's password (used once, for the first login; then the stored session is used).
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    /// The device name other users see.
    #[serde(default = "default_device_name")]
    pub device_name: String,
    /// Messages the bot may send, as `N/s`, `N/min` or `N/h` (Synapse's default for a normal user is
    /// about 0.2/s after a burst of 10; see the README on exempting the bot).
    #[serde(default = "default_matrix_rate")]
    pub rate: String,
}

fn default_device_name() -> String {
    "herold".into()
}
fn default_matrix_rate() -> String {
    "5/s".into()
}

impl MatrixConfig {
    pub fn per_second(&self) -> Result<f64, ConfigError> {
        per_second(&self.rate, "matrix")
    }

    pub fn password(&self) -> Result<Option<Zeroizing<String>>, ConfigError> {
        secret(&self.password, &self.password_file)
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if !(self.homeserver.starts_with("http://") || self.homeserver.starts_with("https://")) {
            return Err(ConfigError::Invalid("matrix.homeserver must start with http:// or https://".into()));
        }
        crate::domain::MatrixUserId::parse(&self.user_id)
            .map_err(|e| ConfigError::Invalid(format!("matrix.user_id: {}", e.0)))?;
        self.per_second()?;
        if self.password()?.is_none() {
            return Err(ConfigError::Invalid(
                "matrix: set password or password_file (used for the first login)".into(),
            ));
        }
        if !cfg!(feature = "matrix") {
            return Err(ConfigError::Invalid(
                "[matrix] is set, but this herold was built without the matrix feature".into(),
            ));
        }
        Ok(())
    }
}

fn default_rate() -> String {
    "1/s".into()
}
fn default_max_parts() -> u32 {
    10
}
fn default_timeout() -> u32 {
    10
}

impl GatewayConfig {
    /// Segments per second from `rate`.
    pub fn per_second(&self) -> Result<f64, ConfigError> {
        per_second(&self.rate, &format!("sms gateway {}", self.name))
    }

    pub fn password(&self) -> Result<Option<Zeroizing<String>>, ConfigError> {
        secret(&self.password, &self.password_file)
    }

    pub fn webhook_secret(&self) -> Result<Option<Zeroizing<String>>, ConfigError> {
        secret(&self.webhook_secret, &self.webhook_secret_file)
    }

    /// Its quotas, as the router and the compose page count them.
    pub fn limits(&self) -> crate::domain::quota::Limits {
        crate::domain::quota::Limits {
            parts_per_day: self.parts_per_day,
            recipients_per_month: self.recipients_per_month,
            reply_reserve_percent: self.reply_reserve_percent,
        }
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 32
            && self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !name_ok {
            return Err(ConfigError::Invalid(format!(
                "sms gateway name {:?}: use 1 to 32 letters, digits or -",
                self.name
            )));
        }
        let name = &self.name;
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(ConfigError::Invalid(format!("sms gateway {name}: url must start with http:// or https://")));
        }
        self.per_second()?;
        if self.max_parts == 0 || self.max_parts > 255 || self.timeout_seconds == 0 {
            return Err(ConfigError::Invalid(format!(
                "sms gateway {name}: max_parts must be 1 to 255 and timeout_seconds at least 1"
            )));
        }
        if self.password()?.is_none() {
            return Err(ConfigError::Invalid(format!("sms gateway {name}: set password or password_file")));
        }
        if self.reply_reserve_percent > 90 {
            return Err(ConfigError::Invalid(format!("sms gateway {name}: reply_reserve_percent must be 0 to 90")));
        }
        // Every message must fit into a day, or it would wait for ever.
        if self.limits().broadcast_parts().is_some_and(|p| p < self.max_parts) {
            return Err(ConfigError::Invalid(format!(
                "sms gateway {name}: parts_per_day less the reply reserve must be at least max_parts ({})",
                self.max_parts
            )));
        }
        if self.sim_number.is_some() && (self.kind != GatewayKind::Android || !matches!(self.sim_number, Some(1..=3))) {
            return Err(ConfigError::Invalid(format!(
                "sms gateway {name}: sim_number is 1, 2 or 3, and only for kind = android"
            )));
        }
        if self.recipients_per_month == Some(0) {
            return Err(ConfigError::Invalid(format!("sms gateway {name}: recipients_per_month must be at least 1")));
        }
        let hook = self.webhook_secret()?;
        match self.kind {
            GatewayKind::Kannel | GatewayKind::Android if hook.as_ref().is_none_or(|h| h.len() < 16) => {
                Err(ConfigError::Invalid(format!(
                    "sms gateway {name}: set webhook_secret (at least 16 characters) so that its webhooks can be trusted"
                )))
            }
            GatewayKind::Kannel if hook.is_some_and(|h| !h.chars().all(|c| c.is_ascii_alphanumeric())) => {
                Err(ConfigError::Invalid(format!(
                    "sms gateway {name}: Kannel's webhook_secret goes into its callback URLs; use letters and digits only"
                )))
            }
            GatewayKind::Twilio if self.sender.is_empty() => {
                Err(ConfigError::Invalid(format!("sms gateway {name}: Twilio needs sender (your number)")))
            }
            _ => Ok(()),
        }
    }
}
