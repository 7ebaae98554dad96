//! Logging in once and restoring the same device afterwards: the session is kept in the SDK's own
//! encrypted store (as a custom value), never the password.

use std::time::Duration;

use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::encryption::EncryptionSettings;
use matrix_sdk::{Client, SqliteStoreConfig};

use super::Matrix;

const SESSION_KEY: &[u8] = b"herold.session.v1";

/// Why connecting failed, in words safe to show (no tokens, no ids of others).
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("the Matrix store in {0} cannot be opened (was it written with another key?)")]
    Store(String),
    #[error("the homeserver refused the login: {0}")]
    Login(String),
    #[error("the homeserver cannot be reached or answered an error: {0}")]
    Homeserver(String),
    #[error("recovery failed: {0}")]
    Recovery(String),
}

pub(super) fn errcode(e: &matrix_sdk::Error) -> String {
    e.client_api_error_kind().map(|k| k.errcode().to_string()).unwrap_or_else(|| "no answer".into())
}

impl Matrix {
    /// Builds the client on the encrypted store and restores the stored session, or logs in with the
    /// password on the first start (cross-signing is bootstrapped then) and stores the session.
    /// Returns whether the session was restored (a fresh login skips the history of its first sync).
    pub(super) async fn connect(&self) -> Result<(Client, bool), ConnectError> {
        let s = &self.settings;
        std::fs::create_dir_all(&s.store_dir)
            .map_err(|e| ConnectError::Store(format!("{}: {e}", s.store_dir.display())))?;
        let client = Client::builder()
            .homeserver_url(&s.homeserver)
            // The SDK's low-memory profile: each of its stores keeps one connection per physical core
            // instead of four, each with a 500 kB page cache instead of 2 MB. After a sync that
            // catches up on 300 rooms the default pools kept 21.5 MB of heap, these 14.7 MB.
            .sqlite_store_with_config_and_cache_path(
                SqliteStoreConfig::with_low_memory_config(&s.store_dir).passphrase(Some(s.store_passphrase.as_str())),
                None::<&str>,
            )
            .with_encryption_settings(EncryptionSettings { auto_enable_cross_signing: true, ..Default::default() })
            .request_config(RequestConfig::new().timeout(Duration::from_secs(60)).retry_limit(3))
            .build()
            .await
            .map_err(|_| ConnectError::Store(s.store_dir.display().to_string()))?;
        let stored = client
            .state_store()
            .get_custom_value(SESSION_KEY)
            .await
            .map_err(|_| ConnectError::Store(s.store_dir.display().to_string()))?;
        let restored = match stored.and_then(|b| serde_json::from_slice::<MatrixSession>(&b).ok()) {
            Some(session) => {
                client.restore_session(session).await.map_err(|e| ConnectError::Homeserver(errcode(&e)))?;
                true
            }
            None => {
                client
                    .matrix_auth()
                    .login_username(&s.user_id, &s.password)
                    .initial_device_display_name(&s.device_name)
                    .await
                    .map_err(|e| ConnectError::Login(errcode(&e)))?;
                let session = client.matrix_auth().session().ok_or_else(|| ConnectError::Login("no session".into()))?;
                let bytes = serde_json::to_vec(&session).expect("a session serialises");
                client
                    .state_store()
                    .set_custom_value(SESSION_KEY, bytes)
                    .await
                    .map_err(|_| ConnectError::Store(s.store_dir.display().to_string()))?;
                false
            }
        };
        let device = client.device_id().map(|d| d.to_string());
        self.status_mut(|st| {
            st.logged_in = true;
            st.device = device;
        });
        Ok((client, restored))
    }
}
