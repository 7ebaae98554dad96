//! `[metrics]`: whether `/metrics` is served, and to whom.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{ConfigError, Secret, secret};

/// `/metrics` for Prometheus: off unless enabled, and then behind a bearer token of its own, or on an
/// address of its own (which only the monitoring should reach).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// What a scraper sends as `Authorization: Bearer …` (at least 24 characters). Needed unless
    /// `listen` is set; with `listen` set it is checked too.
    pub token: Option<Secret>,
    pub token_file: Option<PathBuf>,
    /// Serve `/metrics` on this address (e.g. `127.0.0.1:9464`) instead of on `listen`.
    pub listen: Option<String>,
}

impl MetricsConfig {
    pub fn token(&self) -> Result<Option<Zeroizing<String>>, ConfigError> {
        secret(&self.token, &self.token_file)
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        if let Some(l) = &self.listen
            && l.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(ConfigError::Invalid(format!("metrics.listen = {l:?} is not an address like 127.0.0.1:9464")));
        }
        match self.token()? {
            Some(t) if t.chars().count() < 24 => {
                Err(ConfigError::Invalid("metrics.token must be at least 24 characters long".into()))
            }
            None if self.listen.is_none() => Err(ConfigError::Invalid(
                "metrics.enabled needs metrics.token (or token_file), or metrics.listen for an address of its own"
                    .into(),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn metrics_need_a_long_token_or_an_address_of_their_own() {
        let check = |m: MetricsConfig| Config { metrics: m, ..Config::default() }.check();
        assert!(check(MetricsConfig::default()).is_ok(), "off by default");
        let on = MetricsConfig { enabled: true, ..MetricsConfig::default() };
        assert!(check(on.clone()).unwrap_err().to_string().contains("metrics.token"));
        let short = MetricsConfig { token: Some(Secret("short".into())), ..on.clone() };
        assert!(check(short).unwrap_err().to_string().contains("24 characters"));
        assert!(check(MetricsConfig { token: Some(Secret("t".repeat(24))), ..on.clone() }).is_ok());
        assert!(check(MetricsConfig { listen: Some("127.0.0.1:9464".into()), ..on.clone() }).is_ok());
        assert!(check(MetricsConfig { listen: Some("nine".into()), ..on }).is_err());
    }
}
