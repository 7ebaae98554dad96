//! Recovery of the bot's identity. On the device that bootstrapped cross-signing, herold enables secret
//! storage and key backup once; the recovery key waits (in the SDK's encrypted store) until an owner
//! has seen it on the Gateways page and confirmed that it is stored elsewhere. After a lost store, the
//! new device is unsigned and strict clients refuse its messages: `herold matrix recover` signs it.

use matrix_sdk::Client;
use matrix_sdk::encryption::recovery::RecoveryError;
use zeroize::Zeroizing;

use super::Matrix;
use super::session::{ConnectError, errcode};

/// Where the recovery key waits for the owner, inside the SDK's encrypted store.
const PENDING_KEY: &[u8] = b"herold.recovery-key.pending";

/// What the status page says about recovery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum RecoveryStatus {
    #[default]
    Unknown,
    /// Set up; the owner has stored the key.
    Enabled,
    /// Set up; the key waits on the Gateways page.
    KeyWaiting,
    /// This device is not cross-signed: the store was lost, `herold matrix recover` is needed.
    Needed,
    /// Could not be set up (the reason is the last error).
    Failed,
}

impl RecoveryStatus {
    /// What the Gateways page says about it (a text key, in the reader's language).
    pub(super) fn key(self) -> &'static str {
        match self {
            Self::Unknown => "mx-recovery-unknown",
            Self::Enabled => "mx-recovery-enabled",
            Self::KeyWaiting => "mx-recovery-key-waiting",
            Self::Needed => "mx-recovery-needed",
            Self::Failed => "mx-recovery-failed",
        }
    }
}

/// Why recovery failed, in words safe to show (never the key).
fn describe(e: &RecoveryError) -> String {
    match e {
        RecoveryError::BackupExistsOnServer => "a key backup already exists on the homeserver".into(),
        RecoveryError::Sdk(e) => format!("the homeserver answered {}", errcode(e)),
        RecoveryError::SecretStorage(_) => {
            "the recovery key does not open the bot's secret storage (is it the right key?)".into()
        }
    }
}

async fn is_cross_signed(client: &Client) -> bool {
    client.encryption().cross_signing_status().await.is_some_and(|c| c.is_complete())
}

impl Matrix {
    /// After the first sync: enables recovery if the account has none yet (the new key waits for an
    /// owner), or notes that this device needs `herold matrix recover`.
    pub(super) async fn ensure_recovery(&self, client: &Client) {
        let status = match self.try_ensure_recovery(client).await {
            Ok(s) => s,
            Err(error) => {
                tracing::warn!(%error, "Matrix recovery could not be set up");
                self.status_mut(|s| s.last_error = Some(error));
                RecoveryStatus::Failed
            }
        };
        if status == RecoveryStatus::Needed {
            tracing::warn!("the Matrix bot's device is not cross-signed: stop herold and run `herold matrix recover`");
        }
        self.status_mut(|s| s.recovery = status);
    }

    async fn try_ensure_recovery(&self, client: &Client) -> Result<RecoveryStatus, String> {
        let store_error = |_| "the Matrix store cannot be read".to_string();
        if let Some(bytes) = client.state_store().get_custom_value(PENDING_KEY).await.map_err(store_error)? {
            let key = Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned());
            *self.recovery_key.lock().expect("recovery key lock") = Some(key);
            return Ok(RecoveryStatus::KeyWaiting);
        }
        if !is_cross_signed(client).await {
            return Ok(RecoveryStatus::Needed);
        }
        if client.encryption().secret_storage().is_enabled().await.map_err(|e| errcode(&e))? {
            return Ok(RecoveryStatus::Enabled);
        }
        let key = Zeroizing::new(client.encryption().recovery().enable().await.map_err(|e| describe(&e))?);
        client.state_store().set_custom_value(PENDING_KEY, key.as_bytes().to_vec()).await.map_err(store_error)?;
        *self.recovery_key.lock().expect("recovery key lock") = Some(key);
        tracing::warn!("Matrix recovery is enabled: an owner must store the recovery key shown on the Gateways page");
        Ok(RecoveryStatus::KeyWaiting)
    }

    /// The recovery key while it waits for an owner.
    pub fn pending_recovery_key(&self) -> Option<Zeroizing<String>> {
        self.recovery_key.lock().expect("recovery key lock").clone()
    }

    /// The owner has stored the key elsewhere: herold forgets it.
    pub async fn forget_recovery_key(&self) -> Result<(), String> {
        if let Some(client) = self.client.get() {
            client
                .state_store()
                .remove_custom_value(PENDING_KEY)
                .await
                .map_err(|_| "the Matrix store cannot be written".to_string())?;
        }
        *self.recovery_key.lock().expect("recovery key lock") = None;
        self.status_mut(|s| s.recovery = RecoveryStatus::Enabled);
        Ok(())
    }

    /// `herold matrix recover`: connects (logging in anew if the store was lost), opens secret storage
    /// with `key`, imports the cross-signing keys and signs this device. Returns the device id.
    pub async fn recover(&self, key: &str) -> Result<String, ConnectError> {
        let (client, restored) = self.connect().await?;
        if !restored {
            // A new device learns its account's identity in its first sync.
            client
                .sync_once(matrix_sdk::config::SyncSettings::default())
                .await
                .map_err(|e| ConnectError::Homeserver(errcode(&e)))?;
            client.encryption().wait_for_e2ee_initialization_tasks().await;
        }
        client.encryption().recovery().recover(key.trim()).await.map_err(|e| ConnectError::Recovery(describe(&e)))?;
        if !is_cross_signed(&client).await {
            return Err(ConnectError::Recovery("the device is still not cross-signed after recovery".into()));
        }
        Ok(client.device_id().map(|d| d.to_string()).unwrap_or_default())
    }
}
