//! Test helpers: the real application on port 0 over a temporary data directory, and clients for each role.
#![allow(dead_code)]

pub mod browser;
pub mod kannel;
#[cfg(feature = "matrix")]
pub mod synapse;

use std::path::PathBuf;

use herold::app::Application;
use herold::config::Config;
use herold::service::Service;
use reqwest::redirect::Policy;

/// The `herold` binary, run in `dir`, without this test process's own `HEROLD_*` variables: herold
/// reads `HEROLD_*` as configuration and refuses keys it does not know (`HEROLD_CRASH_ROUNDS` made
/// every `verify` fail that way). Set the ones a test wants after this.
pub fn herold_command(dir: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_herold"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("HEROLD_")) {
        c.env_remove(k);
    }
    // Tests run at any hour: no quiet hours unless a test sets them.
    c.env("HEROLD_QUIET_HOURS__TRANSPORTS", "[]");
    c.current_dir(dir);
    c
}

pub struct TestApp {
    pub base: String,
    pub service: Service,
    pub setup_url: Option<String>,
    pub dir: tempfile::TempDir,
}

/// The tests' configuration: no quiet hours (tests run at any hour; the tests of quiet hours set them).
pub fn config(dir: &std::path::Path) -> Config {
    let mut c =
        Config { data_dir: dir.join("data"), listen: "127.0.0.1:0".into(), log: "warn".into(), ..Config::default() };
    c.quiet_hours.transports = vec![];
    c
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path());
        tweak(&mut cfg);
        let app = Application::build(&cfg).await.expect("the app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let service = app.service().clone();
        let setup_url = app.setup_url().map(str::to_string);
        tokio::spawn(app.run_until_stopped());
        Self { base, service, setup_url, dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A browser-like client: cookies kept, redirects not followed.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
    }

    /// Creates an admin through the service and returns a logged-in client and its CSRF token.
    pub async fn admin_client(&self, name: &str, role: herold::domain::Role) -> (reqwest::Client, String) {
        let pw = format!("{name}-password-123");
        self.service.add_admin(&herold::service::Actor::Cli, name, pw.clone(), role).await.unwrap();
        let c = self.client();
        let csrf = self.login(&c, name, &pw).await;
        (c, csrf)
    }

    /// Logs in (fetching the form first for its CSRF token) and returns the session's CSRF token.
    pub async fn login(&self, c: &reqwest::Client, user: &str, pw: &str) -> String {
        let form_csrf = self.form_csrf(c, "/login").await;
        let r = c
            .post(self.url("/login"))
            .form(&[("csrf", form_csrf.as_str()), ("username", user), ("password", pw)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "login of {user} failed");
        self.form_csrf(c, "/account").await
    }

    /// GETs a page and returns the value of its `csrf` hidden field.
    pub async fn form_csrf(&self, c: &reqwest::Client, path: &str) -> String {
        let html = c.get(self.url(path)).send().await.unwrap().text().await.unwrap();
        csrf_in(&html).unwrap_or_else(|| panic!("no csrf field on {path}"))
    }
}

pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_string())
}

/// Every spelling of a number someone might grep for.
pub fn spellings(e164: &str) -> Vec<String> {
    let digits = &e164[1..];
    let national = format!("0{}", &digits[2..]);
    vec![e164.to_string(), digits.to_string(), national, format!("00{digits}"), digits[2..].to_string()]
}

/// True if `needle` occurs in any of the files.
pub fn files_contain(paths: &[PathBuf], needle: &[u8]) -> bool {
    paths.iter().filter_map(|p| std::fs::read(p).ok()).any(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
}

/// Opens (creating) an installation in `dir` through the library, as the binary would.
pub fn open_service(dir: &std::path::Path) -> Service {
    let cfg = config(dir);
    herold::app::open_service(&cfg, true).expect("open the data directory")
}

/// A channel draft: broadcast, no frequency, no archive.
pub fn draft(
    keyword: &str,
    opt_in: herold::domain::OptInMode,
    transports: &[herold::domain::Transport],
) -> herold::domain::ChannelDraft {
    herold::domain::ChannelDraft {
        name: format!("{keyword} channel"),
        keyword: keyword.into(),
        description: String::new(),
        kind: herold::domain::ChannelKind::Broadcast,
        opt_in,
        texts: Default::default(),
        transports: transports.to_vec(),
        frequency: None,
        public_archive: false,
        quiet: Default::default(),
        over_cap: Default::default(),
    }
}

/// A double opt-in channel on every transport.
pub async fn channel(service: &Service, keyword: &str) -> herold::domain::Channel {
    use herold::domain::{OptInMode, Transport};
    let d = draft(keyword, OptInMode::Double, &[Transport::Sms, Transport::Matrix, Transport::Sandbox]);
    service.create_channel(&herold::service::Actor::Cli, d).await.unwrap()
}

/// Adds a subscriber on `transport` with an import event.
pub async fn subscriber(
    service: &Service,
    transport: herold::domain::Transport,
    address: &str,
    channel: herold::domain::ChannelId,
) -> herold::domain::SubscriberId {
    service
        .add_subscriber(
            &herold::service::Actor::Cli,
            herold::service::subscribers::AddSubscriber {
                transport,
                address: address.into(),
                language: "de".into(),
                channels: vec![channel],
                consent_note: "signed the list at the club house".into(),
            },
        )
        .await
        .unwrap()
}

/// Test phone numbers that pass libphonenumber's validation (German mobile ranges).
pub fn test_numbers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("+4915{}{:08}", [1, 2, 7][i % 3], 30_000_000 + i * 37)).collect()
}

/// The files of an installation, with their WAL files.
pub fn data_files(data: &std::path::Path) -> Vec<PathBuf> {
    ["herold.sqlite", "herold.sqlite-wal", "keyring.sqlite", "keyring.sqlite-wal"]
        .iter()
        .map(|f| data.join(f))
        .collect()
}

/// Opens an installation whose clock only moves when the test says so.
pub fn open_service_at(dir: &std::path::Path, clock: std::sync::Arc<herold::domain::clock::ManualClock>) -> Service {
    open_service_at_with(dir, clock, |_| {})
}

/// [`open_service_at`] with the configuration changed by `tweak`.
pub fn open_service_at_with(
    dir: &std::path::Path,
    clock: std::sync::Arc<herold::domain::clock::ManualClock>,
    tweak: impl FnOnce(&mut Config),
) -> Service {
    let mut cfg = config(dir);
    tweak(&mut cfg);
    herold::app::open_service_with_clock(&cfg, true, clock).expect("open the data directory")
}

/// Adds sandbox subscribers to a channel in batches of 2,000 (consent recorded as an import).
pub async fn import_sandbox(service: &Service, numbers: &[String], channel: herold::domain::ChannelId) {
    for chunk in numbers.chunks(2000) {
        let reqs = chunk
            .iter()
            .map(|n| herold::service::subscribers::AddSubscriber {
                transport: herold::domain::Transport::Sandbox,
                address: n.clone(),
                language: "de".into(),
                channels: vec![channel],
                consent_note: "imported for a test".into(),
            })
            .collect();
        service.add_subscribers(&herold::service::Actor::Cli, reqs).await.unwrap();
    }
}

/// A broadcast to one channel, sent now.
pub fn compose_now(channel: herold::domain::ChannelId, body: &str, key: &str) -> herold::service::broadcasts::Compose {
    herold::service::broadcasts::Compose {
        kind: herold::domain::ChannelKind::Broadcast,
        title: String::new(),
        body: body.into(),
        channels: vec![channel],
        send_at: None,
        deadline: None,
        override_reason: None,
        idempotency_key: key.into(),
        translation: None,
    }
}

/// A configuration secret from a literal.
pub fn secret(s: &str) -> herold::config::Secret {
    serde_json::from_value(serde_json::json!(s)).unwrap()
}

/// An SMS gateway of `kind` named `name` at `url`, sending up to 50 segments a second.
pub fn gateway(
    name: &str,
    kind: herold::config::GatewayKind,
    url: &str,
    hook_secret: &str,
) -> herold::config::GatewayConfig {
    herold::config::GatewayConfig {
        name: name.into(),
        kind,
        url: url.into(),
        username: "broadcaster".into(),
        password: Some(secret("s3cret")),
        password_file: None,
        webhook_secret: Some(secret(hook_secret)),
        webhook_secret_file: None,
        sender: "+4930123456".into(),
        rate: "50/s".into(),
        priority: 0,
        max_parts: 10,
        timeout_seconds: 5,
        parts_per_day: None,
        recipients_per_month: None,
        reply_reserve_percent: 10,
        sim_number: None,
    }
}

/// A message typed on a sandbox phone, as the sandbox page hands it to the service.
pub fn sandbox_message(number: &str, text: &str) -> herold::service::conversation::Inbound {
    herold::service::conversation::Inbound {
        transport: herold::domain::Transport::Sandbox,
        from: number.into(),
        text: text.into(),
        gateway_message_id: None,
        room: None,
    }
}

/// Waits until the outbox has nothing queued or in flight (the app's worker delivers in the background).
pub async fn wait_until_sent(service: &Service) {
    for _ in 0..400 {
        if service.outbox_pending().await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the outbox never drained");
}

/// Sends everything due through a sandbox-only worker (for services opened without the app).
pub async fn drain(service: &Service) {
    use herold::worker::{Worker, WorkerSettings};
    let mut t: std::collections::HashMap<herold::domain::Transport, std::sync::Arc<dyn herold::transport::Transport>> =
        Default::default();
    t.insert(herold::domain::Transport::Sandbox, std::sync::Arc::new(herold::transport::sandbox::Sandbox::new(0)));
    let settings =
        WorkerSettings { batch: 500, lease: std::time::Duration::from_secs(60), max_attempts: 3, concurrency: 8 };
    let mut w = Worker::new(service.clone(), t, settings);
    while w.run_once().await.unwrap() > 0 {}
}
