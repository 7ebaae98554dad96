//! Contact addresses: E.164 phone numbers, Matrix user ids, and the transport each belongs to.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Invalid;

/// The way herold reaches an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// The built-in phone simulator in the admin UI.
    Sandbox,
    Sms,
    Matrix,
}

impl Transport {
    pub const ALL: [Transport; 3] = [Transport::Sandbox, Transport::Sms, Transport::Matrix];

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Sandbox => "sandbox",
            Transport::Sms => "sms",
            Transport::Matrix => "matrix",
        }
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "sandbox" => Ok(Transport::Sandbox),
            "sms" => Ok(Transport::Sms),
            "matrix" => Ok(Transport::Matrix),
            _ => Err(Invalid::new("transport-unknown")),
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A phone number in E.164 form (`+4915112345678`), checked against libphonenumber's metadata.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct E164(String);

impl E164 {
    /// Parses a number as a person would type it; national numbers use `default_country`
    /// (an ISO 3166 code such as `DE`).
    pub fn parse(input: &str, default_country: &str) -> Result<Self, Invalid> {
        let country = default_country.to_ascii_uppercase().parse::<phonenumber::country::Id>().ok();
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(Invalid::new("phone-empty"));
        }
        if trimmed.len() > 40 {
            return Err(Invalid::new("phone-too-long"));
        }
        let number = phonenumber::parse(country, trimmed).map_err(|_| Invalid::new("phone-not-a-number"))?;
        if !phonenumber::is_valid(&number) {
            return Err(Invalid::new("phone-not-in-plan"));
        }
        // Written out directly: the crate's formatter looks up a national format (regular expressions)
        // even for E.164, which needs none; that was two thirds of the time a webhook spent parsing.
        let e164 = format!("+{}{}", number.country().code(), number.national());
        // libphonenumber's metadata allows some national numbers that make more than the 15 digits
        // ITU-T E.164 permits (found by fuzzing: `0049 (049151) …`); no network delivers to those.
        if e164.len() > 16 {
            return Err(Invalid::new("phone-too-many-digits"));
        }
        Ok(Self(e164))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `+49 151 ••••• 78`: enough to tell numbers apart on a list, too little to dial.
    pub fn masked(&self) -> String {
        let digits = &self.0[1..];
        let cc_len = phonenumber::parse(None, &self.0).map(|n| n.code().value().to_string().len()).unwrap_or(2);
        let (cc, rest) = digits.split_at(cc_len.min(digits.len()));
        let prefix_len = 3.min(rest.len().saturating_sub(2));
        let tail = &rest[rest.len().saturating_sub(2)..];
        format!("+{cc} {} ••••• {tail}", &rest[..prefix_len])
    }
}

// Never print a number by accident: Debug is masked too.
impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E164({})", self.masked())
    }
}

/// A Matrix user id, `@localpart:server.name`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MatrixUserId(String);

impl MatrixUserId {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let s = input.trim();
        let err = || Invalid::new("matrix-id-form");
        let rest = s.strip_prefix('@').ok_or_else(err)?;
        let (local, server) = rest.split_once(':').ok_or_else(err)?;
        let local_ok = !local.is_empty()
            && local.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._=-/+".contains(c));
        let server_ok = !server.is_empty() && server.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
        if !local_ok || !server_ok || s.len() > 255 {
            return Err(err());
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `@a•••:example.org`
    pub fn masked(&self) -> String {
        let (local, server) = self.0[1..].split_once(':').unwrap_or(("", ""));
        let first: String = local.chars().take(1).collect();
        format!("@{first}•••:{server}")
    }
}

impl fmt::Debug for MatrixUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MatrixUserId({})", self.masked())
    }
}

/// An address on one transport: what gets sealed, and what the blind index is computed over.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Address {
    Phone(Transport, E164),
    Matrix(MatrixUserId),
}

impl Address {
    /// Parses `input` as an address on `transport`.
    pub fn parse(transport: Transport, input: &str, default_country: &str) -> Result<Self, Invalid> {
        match transport {
            Transport::Matrix => Ok(Address::Matrix(MatrixUserId::parse(input)?)),
            t => Ok(Address::Phone(t, E164::parse(input, default_country)?)),
        }
    }

    pub fn transport(&self) -> Transport {
        match self {
            Address::Phone(t, _) => *t,
            Address::Matrix(_) => Transport::Matrix,
        }
    }

    /// The normalised text that is sealed.
    pub fn as_str(&self) -> &str {
        match self {
            Address::Phone(_, n) => n.as_str(),
            Address::Matrix(m) => m.as_str(),
        }
    }

    /// The bytes the blind index is computed over: transport and normalised address.
    pub fn index_input(&self) -> Vec<u8> {
        let mut v = self.transport().as_str().as_bytes().to_vec();
        v.push(0);
        v.extend_from_slice(self.as_str().as_bytes());
        v
    }

    pub fn masked(&self) -> String {
        match self {
            Address::Phone(_, n) => n.masked(),
            Address::Matrix(m) => m.masked(),
        }
    }

    /// Rebuilds an address from its sealed plaintext (already validated when it was stored).
    pub fn from_stored(transport: Transport, plain: &str) -> Result<Self, Invalid> {
        match transport {
            Transport::Matrix => Ok(Address::Matrix(MatrixUserId::parse(plain)?)),
            t => Ok(Address::Phone(t, E164(plain.to_string()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_normalise_to_e164() {
        let cases = [
            ("+49 151 12345678", "+4915112345678"),
            ("0151 12345678", "+4915112345678"),
            ("0049-151-12345678", "+4915112345678"),
            ("(030) 1234567", "+49301234567"),
            ("+1 650-253-0000", "+16502530000"),
            ("+39 347 123 4567", "+393471234567"),
            ("+44 121 234 5678", "+441212345678"),
        ];
        for (input, want) in cases {
            let got = E164::parse(input, "DE").unwrap();
            assert_eq!(got.as_str(), want, "{input}");
            // The same as the crate's own E.164 formatter (which herold no longer calls).
            let number = phonenumber::parse(None, want).unwrap();
            assert_eq!(number.format().mode(phonenumber::Mode::E164).to_string(), want);
        }
    }

    #[test]
    fn bad_numbers_are_refused_with_a_reason() {
        // The last: valid by libphonenumber's German metadata, but 16 digits (found by fuzzing).
        for input in ["", "hello", "12", "+1555123000199999999999999", "+15551230001", "0049 (049151) 334 567 489"] {
            let err = E164::parse(input, "DE").unwrap_err();
            assert!(err.0.code.starts_with("phone-"), "{err:?}");
            assert!(!err.to_string().contains(input) || input.is_empty(), "error echoes the number");
        }
    }

    #[test]
    fn masks_hide_the_middle() {
        let n = E164::parse("+4915112345678", "DE").unwrap();
        assert_eq!(n.masked(), "+49 151 ••••• 78");
        assert!(!format!("{n:?}").contains("12345678"));
        let m = MatrixUserId::parse("@alice:example.org").unwrap();
        assert_eq!(m.masked(), "@a•••:example.org");
    }

    #[test]
    fn matrix_ids_are_checked() {
        assert!(MatrixUserId::parse("@alice:example.org").is_ok());
        assert!(MatrixUserId::parse("@bob:localhost:8448").is_ok());
        for bad in ["alice:example.org", "@alice", "@Alice:example.org", "@:x", "@a b:x"] {
            assert!(MatrixUserId::parse(bad).is_err(), "{bad}");
        }
    }
}
