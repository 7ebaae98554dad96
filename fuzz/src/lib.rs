//! herold's fuzz targets: every parser of outside input, each with the properties it must keep. Shared
//! by the cargo-fuzz targets in `fuzz_targets/` (libFuzzer, nightly) and by `tests/integration/fuzz.rs`, which runs
//! each for a few seconds on stable in CI. A target panics only when a property breaks.

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use herold::domain::hook::{HookRequest, Webhook};
use herold::domain::keywords::{self, Command};
use herold::domain::{E164, markdown, segments};
use herold::transport::sms::{GatewaySettings, android::Android, kannel::Kannel, twilio::Twilio};
use hmac::{Hmac, Mac};

pub const SECRET: &str = "fuzzHookSecret0123456789";
const NOW: i64 = 1_800_000_000;

/// A fuzz target: takes any bytes, panics only when a property breaks.
pub type Target = fn(&[u8]);

/// The targets by name, for the runners.
pub const TARGETS: &[(&str, Target)] = &[
    ("keywords", keywords),
    ("phone", phone),
    ("segments", segments),
    ("markdown", markdown),
    ("kannel_hook", kannel_hook),
    ("android_hook", android_hook),
    ("twilio_hook", twilio_hook),
];

/// Seeds: a valid example of each input, for the runners to start from.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let s = |v: &[&str]| v.iter().map(|x| x.as_bytes().to_vec()).collect();
    match target {
        "keywords" => s(&["START news", "Stop.", " stop ", "STOPP", "Ja", "LÖSCHEN", "hallo 👋", "", "STOPP ȶ"]),
        "phone" => s(&["+49 151 23456789", "0151-23456789", "0049 (151) 234 567 89", "+1 202 555 0143"]),
        "segments" => s(&["Grüße aus Köln €", "Hallo 🎉 Welt", "a{}[]~|^\\", "Ünïcödé ✓"]),
        "markdown" => s(&[
            "# Titel\n\n*Hallo* [Link](https://example.org)\n\n- a\n- b",
            "<script>x</script>",
            "![i](javascript:alert(1))",
        ]),
        "kannel_hook" => s(&["inbound\n+4915123456789\nSTART NEWS", "dlr\n1\nid=7&type=1"]),
        "android_hook" => s(&[
            r#"{"event":"sms:received","payload":{"messageId":"m1","sender":"+4915123456789","message":"START NEWS"}}"#,
            r#"{"event":"sms:delivered","payload":{"messageId":"m1"}}"#,
        ]),
        "twilio_hook" => s(&[
            "inbound\nFrom=%2B4915123456789&Body=START+NEWS&MessageSid=SM1",
            "status\nMessageSid=SM1&MessageStatus=delivered",
        ]),
        _ => vec![],
    }
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The keyword grammar: never panics; normalising is idempotent; a keyword's channel is upper-case
/// letters (as far as a letter has a capital) and digits; a 10 kB message is not a command.
pub fn keywords(data: &[u8]) {
    let t = text(data);
    if let Some(n) = keywords::normalise(&t) {
        assert_eq!(keywords::normalise(&n).as_deref(), Some(n.as_str()), "normalise is idempotent");
    }
    if let Command::Keyword { channel: Some(c), .. } = keywords::parse(&t) {
        // Upper-cased as far as Unicode can: a letter with no capital form (U+0236 'ȶ', found by
        // this fuzzer) stays as it is and simply names no channel.
        assert!(c.chars().all(char::is_alphanumeric), "channel {c:?}");
        assert!(c.chars().flat_map(char::to_uppercase).eq(c.chars()), "channel {c:?} is not upper-cased");
    }
}

/// Phone normalisation: a parsed number is E.164 and parses again to itself.
pub fn phone(data: &[u8]) {
    let t = text(data);
    if let Ok(n) = E164::parse(&t, "DE") {
        let s = n.as_str().to_string();
        assert!(s.starts_with('+') && s[1..].chars().all(|c| c.is_ascii_digit()) && s.len() <= 16, "{s}");
        assert_eq!(E164::parse(&s, "DE").map(|m| m.as_str().to_string()).ok(), Some(s));
    }
}

/// The SMS segment counter (3GPP TS 23.040): parts cover the units, GSM-7 exactly when nothing forces
/// UCS-2, and the limits of one and of several parts hold.
pub fn segments(data: &[u8]) {
    let t = text(data);
    let s = segments::count(&t);
    let gsm = s.ucs2_chars.is_empty();
    assert_eq!(s.encoding.label() == "GSM-7", gsm);
    let (single, split) = if gsm { (160, 153) } else { (70, 67) };
    if t.is_empty() {
        return;
    }
    if s.units <= single {
        assert_eq!(s.parts, 1, "{} units fit one part", s.units);
    } else {
        assert!(s.parts >= s.units.div_ceil(split), "{} parts for {} units", s.parts, s.units);
        // A part never splits a character, so at most one unit per part is lost.
        assert!(s.parts <= s.units.div_ceil(split - 1), "{} parts for {} units", s.parts, s.units);
    }
    if !gsm {
        assert_eq!(s.units as usize, t.encode_utf16().count());
    }
}

/// Markdown: the HTML has no script, no event handler and no javascript: or data: link.
pub fn markdown(data: &[u8]) {
    let t = text(data);
    let html = markdown::to_html(&t).to_ascii_lowercase();
    assert!(!html.contains("<script"), "{html}");
    for attr in ["href=\"javascript:", "src=\"javascript:", "href=\"data:", "src=\"data:"] {
        assert!(!html.contains(attr), "{html}");
    }
    assert!(!html.contains(" onerror=") && !html.contains(" onclick=") && !html.contains(" onload="), "{html}");
    let _ = markdown::to_text(&t);
}

fn settings(secret: &str) -> GatewaySettings {
    GatewaySettings {
        name: "fuzz".into(),
        url: "http://127.0.0.1:9".into(),
        username: "u".into(),
        password: secret.to_string().into(),
        webhook_secret: Some(secret.to_string().into()),
        sender: String::new(),
        max_parts: 10,
        timeout: Duration::from_secs(1),
        hook_base: "http://127.0.0.1:8080/hooks/sms/fuzz".into(),
        sim_number: None,
    }
}

/// Splits `endpoint\nheader-ish\nbody` (the shape of the seeds) and keeps whatever the bytes give.
fn parts(data: &[u8]) -> (String, String, Vec<u8>) {
    let mut it = data.splitn(3, |b| *b == b'\n');
    let endpoint = text(it.next().unwrap_or_default());
    let second = text(it.next().unwrap_or_default());
    let rest = it.next().unwrap_or_default().to_vec();
    (endpoint, second, rest)
}

fn request(endpoint: &str, query: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> HookRequest {
    HookRequest {
        method: "POST".into(),
        url: format!("http://127.0.0.1:8080/hooks/sms/fuzz/{endpoint}?{query}"),
        endpoint: endpoint.into(),
        query: query.into(),
        headers,
        body,
        now: NOW,
    }
}

/// Kannel's webhooks: with the right credentials any body and header are read or refused as
/// malformed, never a panic; without them, always refused.
pub fn kannel_hook(data: &[u8]) {
    static HOOK: OnceLock<Kannel> = OnceLock::new();
    let hook = HOOK.get_or_init(|| Kannel::new(settings(SECRET)));
    let (endpoint, second, body) = parts(data);
    let auth = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("kannel:{SECRET}")));
    let query = if endpoint == "dlr" { text(&body) } else { "id=k1".into() };
    let headers = vec![("authorization".into(), auth), ("x-kannel-from".into(), second.clone())];
    let _ = hook.read(&request(&endpoint, &query, headers, body.clone()));
    let unauth = vec![("x-kannel-from".into(), second)];
    assert!(hook.read(&request(&endpoint, &query, unauth, body)).is_err(), "no credentials, no events");
}

/// SMS Gateway for Android: signed bodies are parsed or refused, unsigned or wrongly signed always
/// refused.
pub fn android_hook(data: &[u8]) {
    static HOOK: OnceLock<Android> = OnceLock::new();
    let hook = HOOK.get_or_init(|| Android::new(settings(SECRET)));
    let ts = NOW.to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(data);
    mac.update(ts.as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    let signed = vec![("x-timestamp".into(), ts.clone()), ("x-signature".into(), sig)];
    let _ = hook.read(&request("events", "", signed, data.to_vec()));
    let forged = vec![("x-timestamp".into(), ts), ("x-signature".into(), "00".repeat(32))];
    assert!(hook.read(&request("events", "", forged, data.to_vec())).is_err(), "a forged signature is refused");
}

/// Twilio-style: a correctly signed form body is read or refused as malformed; any other signature
/// is refused.
pub fn twilio_hook(data: &[u8]) {
    static HOOK: OnceLock<Twilio> = OnceLock::new();
    let hook = HOOK.get_or_init(|| Twilio::new(settings(SECRET)));
    let (endpoint, _, body) = parts(data);
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let req = request(&endpoint, "", vec![], body.clone());
    let sig = herold::transport::sms::twilio::signature(SECRET, &req.url, &params);
    let mut signed = req;
    signed.headers = vec![("x-twilio-signature".into(), sig)];
    let _ = hook.read(&signed);
    let forged = request(&endpoint, "", vec![("x-twilio-signature".into(), "AAAA".into())], body);
    assert!(hook.read(&forged).is_err(), "a forged signature is refused");
}
