//! Key hierarchy: master key → (HKDF) key-encryption key and key-check value; KEK wraps the blind-index
//! secret and every subscriber's data key; data keys seal addresses and texts with XChaCha20-Poly1305.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{CryptoError, MasterKey};
use crate::domain::{Address, SubscriberId};

const SEAL_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
/// Bytes of the HMAC kept as the blind index: 128 bits, ample for lookup without collisions.
pub const BLIND_INDEX_LEN: usize = 16;

fn hkdf(ikm: &[u8], info: &str) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(b"herold"), ikm)
        .expand(info.as_bytes(), out.as_mut())
        .expect("32 bytes is a valid HKDF length");
    out
}

fn seal_with(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
        .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
    out.push(SEAL_VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

fn open_with(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != SEAL_VERSION {
        return Err(CryptoError::Open);
    }
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(XNonce::from_slice(&sealed[1..1 + NONCE_LEN]), Payload { msg: &sealed[1 + NONCE_LEN..], aad })
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Open)
}

/// The key-encryption key and key-check value derived from one master key.
pub struct Kek {
    key: Zeroizing<[u8; 32]>,
    check: [u8; 32],
}

impl Kek {
    pub fn derive(master: &MasterKey) -> Self {
        let key = hkdf(master.bytes(), "herold/kek/v1");
        let check_key = hkdf(master.bytes(), "herold/key-check/v1");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(check_key.as_ref()).expect("any key length");
        mac.update(b"herold key check");
        Self { key, check: mac.finalize().into_bytes().into() }
    }

    /// Stored beside the data; a different master key gives a different value.
    pub fn check_value(&self) -> [u8; 32] {
        self.check
    }

    /// Compares a stored check value in constant time.
    pub fn matches(&self, stored: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        stored.len() == 32 && bool::from(self.check.ct_eq(stored))
    }

    pub fn wrap(&self, secret: &[u8; 32], aad: &[u8]) -> Vec<u8> {
        seal_with(&self.key, aad, secret)
    }

    pub fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let plain = open_with(&self.key, aad, wrapped)?;
        let mut out = Zeroizing::new([0u8; 32]);
        if plain.len() != 32 {
            return Err(CryptoError::Open);
        }
        out.copy_from_slice(&plain);
        Ok(out)
    }
}

/// Additional data binding a wrapped data key to its subscriber.
fn data_key_aad(subscriber: SubscriberId) -> Vec<u8> {
    let mut v = b"data-key:".to_vec();
    v.extend_from_slice(&subscriber.0.to_be_bytes());
    v
}

pub const INDEX_SECRET_AAD: &[u8] = b"blind-index-secret";

/// What the running server holds: the KEK and the blind-index key.
pub struct Vault {
    kek: Kek,
    index_key: Zeroizing<[u8; 32]>,
    /// Encrypts the Matrix client's own store. Derived from the blind-index secret, which a master
    /// key rotation re-wraps but never changes, so the store stays readable after a rotation.
    matrix_store_key: Zeroizing<[u8; 32]>,
    /// Seals the secrets herold itself must read again (webhook signing secrets); derived like the
    /// Matrix store key, so a master key rotation leaves them readable.
    secrets_key: Zeroizing<[u8; 32]>,
}

impl Vault {
    /// `index_secret` is the random secret stored wrapped in the keyring.
    pub fn new(kek: Kek, index_secret: &[u8; 32]) -> Self {
        Self {
            kek,
            index_key: hkdf(index_secret, "herold/blind-index/v1"),
            matrix_store_key: hkdf(index_secret, "herold/matrix-store/v1"),
            secrets_key: hkdf(index_secret, "herold/secrets/v1"),
        }
    }

    /// The passphrase of the Matrix client's SQLite store (hex).
    pub fn matrix_store_passphrase(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.matrix_store_key.as_ref()))
    }

    pub fn kek(&self) -> &Kek {
        &self.kek
    }

    /// Seals a secret herold needs to read again; `what` names it and binds the sealed value to it.
    pub fn seal_secret(&self, what: &str, plain: &[u8]) -> Vec<u8> {
        seal_with(&self.secrets_key, what.as_bytes(), plain)
    }

    pub fn open_secret(&self, what: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open_with(&self.secrets_key, what.as_bytes(), sealed)
    }

    /// HMAC-SHA256 over transport and normalised address, truncated to 128 bits.
    pub fn blind_index(&self, address: &Address) -> [u8; BLIND_INDEX_LEN] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.index_key.as_ref()).expect("any key length");
        mac.update(&address.index_input());
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; BLIND_INDEX_LEN];
        out.copy_from_slice(&full[..BLIND_INDEX_LEN]);
        out
    }

    /// A fresh data key for a new subscriber, and its wrapped form for the keyring.
    pub fn new_data_key(&self, subscriber: SubscriberId) -> (DataKey, Vec<u8>) {
        let mut k = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(k.as_mut());
        let wrapped = self.kek.wrap(&k, &data_key_aad(subscriber));
        (DataKey { subscriber, key: k }, wrapped)
    }

    pub fn unwrap_data_key(&self, subscriber: SubscriberId, wrapped: &[u8]) -> Result<DataKey, CryptoError> {
        let key = self.kek.unwrap(wrapped, &data_key_aad(subscriber))?;
        Ok(DataKey { subscriber, key })
    }

    /// Re-wraps a data key under another KEK (key rotation).
    pub fn rewrap_data_key(&self, subscriber: SubscriberId, wrapped: &[u8], new: &Kek) -> Result<Vec<u8>, CryptoError> {
        let key = self.kek.unwrap(wrapped, &data_key_aad(subscriber))?;
        Ok(new.wrap(&key, &data_key_aad(subscriber)))
    }
}

/// One subscriber's key; seals values with the subscriber id and field name as associated data,
/// so a sealed value cannot be moved to another subscriber or field.
pub struct DataKey {
    subscriber: SubscriberId,
    key: Zeroizing<[u8; 32]>,
}

impl DataKey {
    fn aad(&self, field: &str) -> Vec<u8> {
        let mut v = self.subscriber.0.to_be_bytes().to_vec();
        v.extend_from_slice(field.as_bytes());
        v
    }

    pub fn seal(&self, field: &str, plain: &[u8]) -> Vec<u8> {
        seal_with(&self.key, &self.aad(field), plain)
    }

    pub fn open(&self, field: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open_with(&self.key, &self.aad(field), sealed)
    }

    pub fn open_string(&self, field: &str, sealed: &[u8]) -> Result<Zeroizing<String>, CryptoError> {
        let bytes = self.open(field, sealed)?;
        String::from_utf8(bytes.to_vec()).map(Zeroizing::new).map_err(|_| CryptoError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{E164, Transport};

    fn vault() -> Vault {
        Vault::new(Kek::derive(&MasterKey::generate()), &[7; 32])
    }

    #[test]
    fn seal_open_binds_subscriber_and_field() {
        let v = vault();
        let a = SubscriberId(1);
        let (key, wrapped) = v.new_data_key(a);
        let sealed = key.seal("address", b"+4915112345678");
        assert_eq!(&**key.open("address", &sealed).unwrap(), b"+4915112345678");
        assert!(key.open("inbound", &sealed).is_err(), "field is bound");
        let again = v.unwrap_data_key(a, &wrapped).unwrap();
        assert_eq!(&**again.open("address", &sealed).unwrap(), b"+4915112345678");
        assert!(v.unwrap_data_key(SubscriberId(2), &wrapped).is_err(), "subscriber is bound");
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open("address", &tampered).is_err());
        assert!(!sealed.windows(14).any(|w| w == b"+4915112345678"));
    }

    #[test]
    fn blind_index_is_keyed_and_per_transport() {
        let v = vault();
        let n = E164::parse("+4915112345678", "DE").unwrap();
        let sms = Address::Phone(Transport::Sms, n.clone());
        let sandbox = Address::Phone(Transport::Sandbox, n);
        assert_eq!(v.blind_index(&sms), v.blind_index(&sms.clone()));
        assert_ne!(v.blind_index(&sms), v.blind_index(&sandbox));
        let other = Vault::new(Kek::derive(&MasterKey::generate()), &[8; 32]);
        assert_ne!(v.blind_index(&sms), other.blind_index(&sms), "another index secret gives another index");
    }

    #[test]
    fn key_check_tells_keys_apart() {
        let m = MasterKey::generate();
        let k1 = Kek::derive(&m);
        let k2 = Kek::derive(&MasterKey::from_bytes(*m.bytes()));
        assert!(k2.matches(&k1.check_value()));
        assert!(!Kek::derive(&MasterKey::generate()).matches(&k1.check_value()));
    }

    #[test]
    fn rewrap_moves_a_key_to_a_new_master() {
        let v = vault();
        let s = SubscriberId(42);
        let (key, wrapped) = v.new_data_key(s);
        let sealed = key.seal("address", b"x");
        let new_kek = Kek::derive(&MasterKey::generate());
        let rewrapped = v.rewrap_data_key(s, &wrapped, &new_kek).unwrap();
        let v2 = Vault::new(new_kek, &[7; 32]);
        assert_eq!(&**v2.unwrap_data_key(s, &rewrapped).unwrap().open("address", &sealed).unwrap(), b"x");
        assert!(v2.unwrap_data_key(s, &wrapped).is_err());
    }
}
