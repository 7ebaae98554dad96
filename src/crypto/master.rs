//! Loading the master key: from a 0600 key file, from the environment, or from a passphrase (argon2id).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;
use zeroize::Zeroizing;

use super::CryptoError;

/// 32 secret bytes; zeroed on drop; never printed.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// Where the master key comes from, in order of precedence.
#[derive(Debug, Clone)]
pub enum MasterKeySource {
    /// 64 hex digits, e.g. from `HEROLD_MASTER_KEY`.
    Hex(Zeroizing<String>),
    /// A passphrase stretched with argon2id and a salt stored beside the keyring.
    Passphrase(Zeroizing<String>),
    /// A key file holding 64 hex digits; created on first start when `create` is set.
    File { path: PathBuf, create: bool },
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(k.as_mut());
        Self(k)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn from_hex(s: &str) -> Result<Self, CryptoError> {
        let s = s.trim();
        if s.len() != 64 {
            return Err(CryptoError::Malformed(format!("expected 64 hex digits, got {} characters", s.len())));
        }
        let mut k = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(s, k.as_mut()).map_err(|_| CryptoError::Malformed("not hex".into()))?;
        Ok(Self(k))
    }

    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_ref()))
    }

    /// argon2id (64 MiB, t=3, p=1) over the passphrase.
    pub fn from_passphrase(pass: &str, salt: &[u8]) -> Result<Self, CryptoError> {
        if pass.chars().count() < 12 {
            return Err(CryptoError::Malformed("a passphrase needs at least 12 characters".into()));
        }
        let params =
            argon2::Params::new(64 * 1024, 3, 1, Some(32)).map_err(|e| CryptoError::Password(e.to_string()))?;
        let a2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut k = Zeroizing::new([0u8; 32]);
        a2.hash_password_into(pass.as_bytes(), salt, k.as_mut()).map_err(|e| CryptoError::Password(e.to_string()))?;
        Ok(Self(k))
    }

    /// Reads a key file, refusing one that group or others can read.
    pub fn read_file(path: &Path) -> Result<Self, CryptoError> {
        check_permissions(path)?;
        let text = Zeroizing::new(
            fs::read_to_string(path).map_err(|source| CryptoError::Io { path: path.display().to_string(), source })?,
        );
        Self::from_hex(&text)
    }

    /// Writes a new key file with mode 0600, refusing to overwrite one.
    pub fn write_new_file(&self, path: &Path) -> Result<(), CryptoError> {
        let io = |source| CryptoError::Io { path: path.display().to_string(), source };
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(io)?;
        f.write_all(self.to_hex().as_bytes()).map_err(io)?;
        f.write_all(b"\n").map_err(io)?;
        f.sync_all().map_err(io)?;
        Ok(())
    }
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), CryptoError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(path).map_err(|source| CryptoError::Io { path: path.display().to_string(), source })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CryptoError::KeyFilePermissions { path: path.display().to_string(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), CryptoError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_private_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("master.key");
        let k = MasterKey::generate();
        k.write_new_file(&p).unwrap();
        assert_eq!(MasterKey::read_file(&p).unwrap().bytes(), k.bytes());
        assert!(k.write_new_file(&p).is_err(), "must not overwrite a key file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(MasterKey::read_file(&p), Err(CryptoError::KeyFilePermissions { .. })));
        }
    }

    #[test]
    fn hex_is_checked() {
        assert!(MasterKey::from_hex("abc").is_err());
        assert!(MasterKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(MasterKey::from_hex(&"ab".repeat(32)).is_ok());
        assert_eq!(format!("{:?}", MasterKey::generate()), "MasterKey(..)");
    }
}
