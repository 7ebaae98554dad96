//! Logging: `tracing` to stderr with a filter from the configuration, through a redaction layer.
//! herold's own log lines carry ids, never addresses, texts or secrets; the redaction layer is the
//! second line of defence for what libraries log (URLs with query strings, errors quoting input):
//! anything shaped like a phone number, a Matrix id, an e-mail address, credentials in a URL, a
//! query string, an `Authorization` value or an API token is replaced before the line is written.

use std::io::Write;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Redacting(std::io::stderr()))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// A writer that redacts each formatted line (the formatter hands over one whole event per write).
pub struct Redacting<W>(pub W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(redact(&String::from_utf8_lossy(buf)).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Integer fields herold logs (ids and counts) that may be long but are never addresses.
const NUMERIC_FIELDS: &[&str] = &[
    "id",
    "delivery",
    "deliveries",
    "broadcast",
    "admin",
    "token",
    "channel",
    "count",
    "keys",
    "pruned",
    "erased",
    "inbox",
    "total",
    "port",
    "attempt",
    "events",
    "subscribers",
    "n",
    "rows",
    "bytes",
];

static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // Credentials: Authorization values, API tokens, user:password@ in URLs.
        (r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]{6,}", "$1 [redacted]"),
        (r"\bhrd_[A-Za-z0-9_-]+", "[token]"),
        (r"(?i)([a-z][a-z0-9+.-]*://)[^/\s@]+@", "$1[redacted]@"),
        // Query strings (sendsms URLs carry the number and the text).
        (r"(?i)(https?://[^\s?#]*)\?[^\s#]*", "$1?[redacted]"),
        (r"@[A-Za-z0-9._=/+-]+:[A-Za-z0-9.-]+(:\d+)?", "[matrix-id]"),
        // Room ids (matrix-sdk logs them): a subscriber's DM room is part of their address.
        (r"![A-Za-z0-9._~=+/-]{8,}(:[A-Za-z0-9.-]+(:\d+)?)?", "[room-id]"),
        (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", "[e-mail]"),
    ]
    .into_iter()
    .map(|(re, with)| (Regex::new(re).expect("a valid pattern"), with))
    .collect()
});

/// A run of 7 or more digits (optionally `+`, spaces, `-`, `/` or brackets between groups) that is
/// not part of a word, a time or a hex id: a phone number in any spelling.
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<pre>^|[^\w.:@/])(?P<field>[a-z_]+=)?(?P<num>\+?\(?\d[\d ()/-]{5,}\d)\b").expect("a valid pattern")
});

/// Removes addresses, query strings and secrets from a log line.
pub fn redact(line: &str) -> String {
    let mut out = line.to_string();
    for (re, with) in RULES.iter() {
        if re.is_match(&out) {
            out = re.replace_all(&out, *with).into_owned();
        }
    }
    NUMBER
        .replace_all(&out, |c: &Captures<'_>| {
            let pre = &c["pre"];
            let field = c.name("field").map(|m| m.as_str()).unwrap_or("");
            let num = &c["num"];
            let digits = num.chars().filter(char::is_ascii_digit).count();
            let name = field.trim_end_matches('=');
            let keep = digits < 7
                || looks_like_time(num)
                || (NUMERIC_FIELDS.contains(&name) && num.chars().all(|ch| ch.is_ascii_digit()));
            if keep { format!("{pre}{field}{num}") } else { format!("{pre}{field}[number]") }
        })
        .into_owned()
}

/// `2026-11-23`, `21:35:23.123456` and the like: dates and times in log lines, not numbers.
fn looks_like_time(s: &str) -> bool {
    let s = s.trim();
    let parts: Vec<&str> = s.split(['-', ':', '.', 'T']).collect();
    parts.len() >= 3 && parts[0].len() == 4 && parts[1].len() == 2 && parts[2].len() >= 2 && !s.contains(' ')
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn addresses_and_secrets_are_removed() {
        let cases = [
            ("from +4915112345678 now", "from [number] now"),
            ("call 0151 1234 5678.", "call [number]."),
            ("number=004915112345678", "number=[number]"),
            ("user @anna:example.org joined", "user [matrix-id] joined"),
            (
                "send_raw{room_id=\"!yQ2tDat3LFOI7HKi3cHbpH-GFqUSdf_06XStAHPUdYo\"}: Sent event in room",
                "send_raw{room_id=\"[room-id]\"}: Sent event in room",
            ),
            ("room !abcDEF123:example.org left", "room [room-id] left"),
            ("mail anna.meier@example.org", "mail [e-mail]"),
            (
                "GET http://127.0.0.1:13013/cgi-bin/sendsms?to=%2B4915112345678&text=Hallo HTTP/1.1",
                "GET http://127.0.0.1:13013/cgi-bin/sendsms?[redacted] HTTP/1.1",
            ),
            ("url=http://kannel:s3cret@127.0.0.1/x", "url=http://[redacted]@127.0.0.1/x"),
            ("authorization: Basic a2FubmVsOnNlY3JldA==", "authorization: Basic [redacted]"),
            ("token hrd_abcDEF123_-x used", "token [token] used"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "{input}");
        }
    }

    #[test]
    fn ids_counts_and_times_stay() {
        for line in [
            "2026-11-23T21:35:23.123456Z  INFO broadcast started broadcast=12 deliveries=1000000",
            "subscriber=00a3f1c2d4e5f607 outcome=Subscribed",
            "delivery=12345678 attempt=3",
            "listening port=8080",
        ] {
            assert_eq!(redact(line), line);
        }
    }
}
