//! The vault: master key loading and check, per-subscriber data keys, sealing, blind index, password hashing.

pub mod master;
pub mod password;
pub mod signing;
pub mod vault;

pub use master::{MasterKey, MasterKeySource};
pub use vault::{DataKey, Vault};

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the master key is wrong: it does not match the key-check value stored with this data")]
    WrongKey,
    #[error("the key file {path} can be read by group or others (mode {mode:o}); run `chmod 600 {path}`")]
    KeyFilePermissions { path: String, mode: u32 },
    #[error("the master key is malformed: {0}")]
    Malformed(String),
    #[error("reading the key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("a sealed value could not be opened (wrong key, erased subscriber, or damaged data)")]
    Open,
    #[error("password hashing failed: {0}")]
    Password(String),
}
