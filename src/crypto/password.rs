//! Admin password hashing with argon2id (OWASP minimum: 19 MiB, t=2, p=1) and a dummy hash for unknown users.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::CryptoError;
use crate::domain::Problem;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string. Slow on purpose: call it on a blocking thread.
pub fn hash(password: &str) -> Result<String, CryptoError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CryptoError::Password(e.to_string()))
}

/// A hash of a random password with the same parameters, verified when a user does not exist,
/// so that an unknown user and a wrong password take the same time.
static DUMMY: LazyLock<String> =
    LazyLock::new(|| hash(&hex::encode(rand::random::<[u8; 16]>())).expect("hashing a random password"));

/// Checks a password against a stored PHC string, or against the dummy hash when `stored` is `None`.
/// Always does one full argon2 verification.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let (phc, real) = match stored {
        Some(s) => (s, true),
        None => (DUMMY.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let ok = hasher().verify_password(password.as_bytes(), &parsed).is_ok();
    ok && real
}

/// The rules a new admin password must meet; the message is shown to the admin.
pub fn check_strength(password: &str) -> Result<(), Problem> {
    let n = password.chars().count();
    if n < 10 {
        return Err(Problem::new("password-too-short"));
    }
    if n > 1024 {
        return Err(Problem::new("password-too-long"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("wrong horse battery", Some(&h)));
        assert!(!verify("correct horse battery", None));
        assert!(!verify("x", Some("not a phc string")));
    }

    #[test]
    fn strength() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("long enough!").is_ok());
    }
}
