//! Matrix against a real Synapse (from PyPI, started by scripts/start-synapse): a second matrix-sdk
//! client is the subscriber and proves it *decrypted* what herold sent.
#![cfg(feature = "matrix")]

use crate::common::{self, synapse};

use std::time::Duration;

use herold::app::Application;
use herold::config::{Config, MatrixConfig};
use herold::domain::health::Health;
use herold::domain::{OptInMode, Transport};
use herold::service::{Actor, Service};
use synapse::{Seen, Subscriber, Synapse};

const BOT_PASSWORD: &str = "herold-bot-password";

fn config(dir: &std::path::Path, syn: &Synapse, rate: &str) -> Config {
    Config {
        matrix: Some(MatrixConfig {
            homeserver: syn.url.clone(),
            user_id: "@herold:localhost".into(),
            password: Some(common::secret(BOT_PASSWORD)),
            password_file: None,
            device_name: "herold test".into(),
            rate: rate.into(),
        }),
        ..common::config(dir)
    }
}

/// A running herold and what stops it.
struct Running {
    service: Service,
    base: String,
    stop: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn start(cfg: &Config) -> Running {
        let app = Application::build(cfg).await.expect("herold starts");
        let (service, stop) = (app.service().clone(), app.stop_handle());
        let base = format!("http://127.0.0.1:{}", app.port());
        let task = tokio::spawn(app.run_until_stopped());
        Running { service, base, stop, task }
    }

    async fn stop(self) {
        self.stop.stop(true).await;
        self.task.await.unwrap().unwrap();
    }
}

async fn wait_connected(s: &Service) {
    for _ in 0..240 {
        let status = s.transport_status();
        if status.iter().any(|(_, rows)| rows.iter().any(|(k, v)| k.code == "mx-syncing" && v.code == "mx-yes")) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the Matrix bot never connected: {:?}", s.transport_status());
}

fn status_row(s: &Service, label: &str) -> String {
    let status = s.transport_status();
    let en = herold::i18n::texts(herold::i18n::Lang::En);
    status[0].1.iter().find(|(k, _)| k.code == label).map(|(_, v)| en.message(v)).unwrap_or_default()
}

/// An owner logged in to the admin UI: the client and its CSRF token.
async fn owner(h: &Running) -> (reqwest::Client, String) {
    h.service.add_admin(&Actor::Cli, "olga", "olga-password-123".into(), herold::domain::Role::Owner).await.unwrap();
    let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = c.get(format!("{}/login", h.base)).send().await.unwrap().text().await.unwrap();
    let csrf = common::csrf_in(&page).unwrap();
    let form = [("csrf", csrf.as_str()), ("username", "olga"), ("password", "olga-password-123")];
    let r = c.post(format!("{}/login", h.base)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let page = c.get(format!("{}/account", h.base)).send().await.unwrap().text().await.unwrap();
    (c, common::csrf_in(&page).unwrap())
}

/// `herold matrix recover` as an operator runs it, the key on standard input.
fn recover_cli(dir: &std::path::Path, key: &str) -> std::process::Output {
    use std::io::Write;
    let mut c = common::herold_command(dir);
    c.args(["--data-dir", "data", "--log", "warn", "matrix", "recover"]);
    let mut child = c
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{key}").unwrap();
    child.wait_with_output().unwrap()
}

/// `herold.toml` in `dir` for the real binary: the bot on `syn`, sending at `rate`.
fn write_config(dir: &std::path::Path, syn: &Synapse, rate: &str) {
    let toml = format!(
        "[matrix]\nhomeserver = \"{}\"\nuser_id = \"@herold:localhost\"\npassword = \"{BOT_PASSWORD}\"\nrate = \"{rate}\"\n",
        syn.url
    );
    std::fs::write(dir.join("herold.toml"), toml).unwrap();
}

/// `herold serve` as a process (for `kill -9`), logging to `herold.log` in `dir`.
fn serve(dir: &std::path::Path, env: &[(&str, &str)]) -> std::process::Child {
    let mut c = common::herold_command(dir);
    c.args(["--data-dir", "data", "--listen", "127.0.0.1:0", "--log", "info", "serve"]);
    c.envs(env.iter().copied());
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("herold.log")).unwrap();
    c.stdout(std::process::Stdio::null()).stderr(log).spawn().unwrap()
}

async fn broadcast(s: &Service, channel: herold::domain::ChannelId, text: &str, key: &str) {
    s.create_broadcast(&Actor::Cli, common::compose_now(channel, text, key)).await.unwrap();
}

#[tokio::test]
async fn opt_in_by_dm_decrypt_help_stop_restart_and_leave() {
    let syn = Synapse::start(false);
    let bot = syn.register("herold", BOT_PASSWORD, false).await;
    syn.register("anna", "anna-password", false).await;
    syn.register("root", "root-password", true).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &syn, "50/s");
    let herold = Running::start(&cfg).await;
    wait_connected(&herold.service).await;
    let status = herold.service.transport_status();
    let rows = &status[0].1;
    assert!(rows.iter().any(|(k, v)| k.code == "mx-cross-signed" && v.code == "mx-yes"), "{rows:?}");
    let d = common::draft("NEWS", OptInMode::Double, &[Transport::Matrix]);
    let ch = herold.service.create_channel(&Actor::Cli, d).await.unwrap().id;

    let mut anna = Subscriber::login(&syn.url, "anna", "anna-password", &dir.path().join("anna")).await;
    let room = anna.open_dm(&bot).await;
    // Double opt-in by message, in the encrypted DM.
    anna.say(&room, "START news").await;
    anna.expect(60, "asking to confirm", |b| b.contains("Antworte JA")).await;
    anna.say(&room, "JA").await;
    anna.expect(30, "welcome", |b| b.starts_with("Willkommen bei NEWS channel")).await;
    broadcast(&herold.service, ch, "Sommerfest am Samstag 🎉 <b>nicht fett</b>", "m1").await;
    let got = anna.expect(30, "the broadcast", |b| b.contains("Sommerfest")).await;
    assert_eq!(got, "Sommerfest am Samstag 🎉 <b>nicht fett</b>");
    anna.say(&room, "HILFE").await;
    anna.expect(30, "help", |b| b.contains("STOP")).await;

    // Restart: the same device comes back, and what it sends next still decrypts.
    let admin = syn.token("root", "root-password").await;
    let devices = syn.devices(&admin, "@herold:localhost").await;
    // The registration made one device; herold's login made exactly one more.
    assert_eq!(devices.iter().filter(|d| d.contains("herold test")).count(), 1, "{devices:?}");
    herold.stop().await;
    let herold = Running::start(&cfg).await;
    wait_connected(&herold.service).await;
    assert_eq!(syn.devices(&admin, "@herold:localhost").await, devices, "the device is restored, not new");
    broadcast(&herold.service, ch, "Nach dem Neustart", "m2").await;
    anna.expect(60, "the broadcast after the restart", |b| b == "Nach dem Neustart").await;
    // The gateways page's test send reaches anna in the same DM; the audit log does not name her.
    let (c, csrf) = owner(&herold).await;
    let r = c
        .post(format!("{}/gateways/Matrix/test", herold.base))
        .form(&[("csrf", csrf.as_str()), ("to", "@anna:localhost")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    anna.expect(30, "the test message", |b| b.contains("herold reaches you") && b.contains("via Matrix")).await;
    let (log, _) = herold.service.audit_log(20, 0).await.unwrap();
    let tested = log.iter().find(|e| e.action == "gateway_tested").expect("the test send is audited");
    let en = herold::i18n::texts(herold::i18n::Lang::En);
    assert!(en.audit_detail(&tested.detail).starts_with("test message taken"), "{tested:?}");
    assert!(!tested.detail.contains("anna"), "{tested:?}");
    // "Send me a test" of a newsletter from the compose page: both languages, as Matrix gets them.
    let w = herold::domain::draft::Written {
        kind: herold::domain::ChannelKind::Newsletter,
        title: "Vereinsnews".into(),
        body: "**Sieg** im Derby".into(),
        channels: vec![ch],
        send_at: None,
        deadline: None,
        translation: Some(herold::domain::draft::ComposeTranslation {
            lang: herold::domain::keywords::Lang::En,
            title: "Club news".into(),
            body: "**Win** in the derby".into(),
        }),
    };
    let to = herold::service::test_send::TestTo::Typed { route: "Matrix".into(), address: "@anna:localhost".into() };
    let outcomes = herold.service.test_broadcast(&Actor::Cli, &w, to).await.unwrap();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    let (body, html) = anna.expect_formatted(30, "the German test", |b| b.starts_with("Vereinsnews")).await;
    assert!(body.contains("Sieg im Derby") && html.as_deref().is_some_and(|h| h.contains("<strong>Sieg</strong>")));
    let (_, html) = anna.expect_formatted(30, "the English test", |b| b.starts_with("Club news")).await;
    assert!(html.as_deref().is_some_and(|h| h.starts_with("<h3>") && h.contains("<strong>Win</strong>")), "{html:?}");
    assert!(herold.service.broadcasts(10).await.unwrap().len() == 2, "a test is not a broadcast");

    // STOP: the goodbye is the last message.
    anna.say(&room, "STOP").await;
    anna.expect(30, "goodbye", |b| b.starts_with("Abgemeldet von NEWS channel")).await;
    broadcast(&herold.service, ch, "Nur noch für Angemeldete", "m3").await;
    let after = anna.collect(4).await;
    assert!(after.iter().all(|s| !matches!(s, Seen::Text { body, .. } if body.contains("Angemeldete"))), "{after:?}");
    assert!(after.iter().all(|s| !matches!(s, Seen::Undecryptable { from } if from == synapse::BOT)), "{after:?}");

    // A new opt-in, then leaving the room: an opt-out recorded with the leave event.
    anna.say(&room, "START news").await;
    anna.expect(30, "asking to confirm again", |b| b.contains("Antworte JA")).await;
    anna.say(&room, "JA").await;
    anna.expect(30, "welcome again", |b| b.starts_with("Willkommen")).await;
    let id = herold.service.find_subscriber("@anna:localhost").await.unwrap().unwrap();
    // The DM she wrote from is stored with her, and her export shows it.
    let export = herold.service.export_subscriber(&Actor::Cli, id, "test").await.unwrap();
    assert_eq!(export.addresses[0].room.as_deref(), Some(room.room_id().as_str()), "{:?}", export.addresses);
    room.leave().await.unwrap();
    let mut left = false;
    for _ in 0..120 {
        let detail = herold.service.subscriber_detail(id).await.unwrap();
        if detail.subscriptions.iter().all(|s| s.state != herold::domain::SubscriptionState::Active) {
            let last = detail.consent.last().unwrap();
            assert_eq!((last.kind.as_str(), last.actor.as_str()), ("optout", "subscriber"));
            assert!(last.gateway_message_id.as_deref().unwrap_or("").starts_with('$'), "{last:?}");
            left = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(left, "leaving the DM did not end the subscription");
    let kinds: Vec<String> =
        herold.service.subscriber_detail(id).await.unwrap().consent.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["optin_requested", "optin_confirmed", "optout", "optin_requested", "optin_confirmed", "optout"]);
    herold.stop().await;
}

#[tokio::test]
async fn with_synapses_default_rate_limits_herold_paces_and_fails_nothing() {
    let syn = Synapse::start(true);
    let bot = syn.register("herold", BOT_PASSWORD, false).await;
    syn.register("bert", "bert-password", false).await;
    let dir = tempfile::tempdir().unwrap();
    // herold is told it may send far faster than Synapse allows a normal user (0.2/s after 10).
    let herold = Running::start(&config(dir.path(), &syn, "100/s")).await;
    wait_connected(&herold.service).await;
    let d = common::draft("ALARM", OptInMode::Single, &[Transport::Matrix]);
    let ch = herold.service.create_channel(&Actor::Cli, d).await.unwrap().id;
    let mut bert = Subscriber::login(&syn.url, "bert", "bert-password", &dir.path().join("bert")).await;
    let room = bert.open_dm(&bot).await;
    bert.say(&room, "START alarm").await;
    bert.expect(60, "welcome", |b| b.starts_with("Willkommen")).await;
    const N: usize = 14;
    let mut ids = Vec::new();
    for i in 0..N {
        let (b, _) = herold
            .service
            .create_broadcast(&Actor::Cli, common::compose_now(ch, &format!("Meldung {i}"), &format!("r{i}")))
            .await
            .unwrap();
        ids.push(b.id);
    }
    // While Synapse holds the bot back, the broadcast page says so.
    let (c, _) = owner(&herold).await;
    let mut said = false;
    for _ in 0..600 {
        for id in &ids {
            if herold.service.progress(*id).await.unwrap().waiting.is_some() {
                let page = c.get(format!("{}/broadcasts/{id}", herold.base)).send().await.unwrap();
                said |= page.text().await.unwrap().contains("rate-limited by the homeserver");
            }
        }
        if said {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(said, "no broadcast page said it was rate-limited by the homeserver");
    for i in 0..N {
        bert.expect(180, "every message", |b| b == format!("Meldung {i}")).await;
    }
    for id in ids {
        let b = herold.service.broadcast(id).await.unwrap();
        assert_eq!((b.sent, b.failed), (1, 0), "broadcast {id}");
    }
    let limited = status_row(&herold.service, "mx-rate-limit-answers");
    assert_ne!(limited, "0", "the test must meet Synapse's rate limit to prove anything");
    let extra = bert.collect(1).await;
    assert!(
        extra.iter().all(|s| !matches!(s, Seen::Text { body, .. } if body.starts_with("Meldung"))),
        "duplicates: {extra:?}"
    );
    herold.stop().await;
}

/// `kill -9` of the real binary while it fans a broadcast out to 200 Matrix subscribers, then a
/// restart: every subscriber's room holds the message exactly once (the delivery id is the Matrix
/// transaction id, and the restored device repeats it).
#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_a_matrix_fan_out_never_duplicates_or_misses() {
    const N: usize = 200;
    let t0 = std::time::Instant::now();
    let syn = Synapse::start(false);
    syn.register("herold", BOT_PASSWORD, false).await;
    syn.register("root", "root-password", true).await;
    let admin = syn.token("root", "root-password").await;
    let names: Vec<String> = (0..N).map(|i| format!("s{i:03}")).collect();
    syn.create_users(&admin, &names, None).await;
    let dir = tempfile::tempdir().unwrap();
    {
        let s = common::open_service(dir.path());
        let ch =
            s.create_channel(&Actor::Cli, common::draft("FAN", OptInMode::Single, &[Transport::Matrix])).await.unwrap();
        let reqs = names
            .iter()
            .map(|n| herold::service::subscribers::AddSubscriber {
                transport: Transport::Matrix,
                address: format!("@{n}:localhost"),
                language: "de".into(),
                channels: vec![ch.id],
                consent_note: "crash test".into(),
            })
            .collect();
        s.add_subscribers(&Actor::Cli, reqs).await.unwrap();
        broadcast(&s, ch.id, "Probealarm über Matrix", "fan").await;
    }
    write_config(dir.path(), &syn, "1000/s");
    // Small batches, so that outcomes are recorded while the fan-out goes on.
    let start = || serve(dir.path(), &[("HEROLD_DELIVERY__BATCH", "20")]);
    let progress = || {
        let c = rusqlite::Connection::open_with_flags(
            dir.path().join("data/herold.sqlite"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        c.query_row("SELECT state, sent, failed FROM broadcasts", [], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })
        .unwrap()
    };
    let mut child = start();
    let t = std::time::Instant::now();
    while progress().1 < 40 {
        if t.elapsed() > Duration::from_secs(300) {
            let log = std::fs::read_to_string(dir.path().join("herold.log")).unwrap_or_default();
            panic!("no progress: {:?}\n{log}", progress());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL, with sends in flight
    child.wait().unwrap();
    let at_kill = progress();
    assert!(at_kill.1 < N as i64, "the fan-out finished before the kill: {at_kill:?}");
    let mut child = start();
    let t = std::time::Instant::now();
    let end = loop {
        let p = progress();
        if p.0 == "done" {
            break p;
        }
        assert!(t.elapsed() < Duration::from_secs(600), "not done after the restart: {p:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!((end.1, end.2), (N as i64, 0), "all sent, none failed");
    let counts = syn.bot_messages_per_user(&admin).await;
    let missed: Vec<&String> =
        names.iter().filter(|n| counts.get(&format!("@{n}:localhost")).copied().unwrap_or(0) == 0).collect();
    let twice: Vec<(&String, &usize)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    println!(
        "matrix crash test: {N} subscribers, killed at {} sent, {} rooms, {:?} in all",
        at_kill.1,
        counts.len(),
        t0.elapsed()
    );
    assert!(missed.is_empty(), "missed: {missed:?}");
    assert!(twice.is_empty(), "duplicates: {twice:?}");
    assert_eq!(counts.len(), N);
}

/// The recovery key is shown once to an owner and then forgotten; after the bot's store is lost, the
/// new device is not cross-signed (strict clients would refuse it) until `herold matrix recover`
/// signs it with that key — then a subscriber that trusts only cross-signed devices decrypts.
#[tokio::test]
async fn recovery_key_shown_once_and_recover_after_a_lost_store() {
    let syn = Synapse::start(false);
    let bot = syn.register("herold", BOT_PASSWORD, false).await;
    syn.register("carol", "carol-password", false).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &syn, "50/s");
    let herold = Running::start(&cfg).await;
    wait_connected(&herold.service).await;
    assert!(status_row(&herold.service, "mx-recovery").contains("waiting"), "{:?}", herold.service.transport_status());
    let (c, csrf) = owner(&herold).await;
    let page = c.get(format!("{}/gateways", herold.base)).send().await.unwrap().text().await.unwrap();
    let key = page.split("id=\"recovery-key\">").nth(1).and_then(|r| r.split("</pre>").next()).unwrap().to_string();
    assert!(key.split_whitespace().count() >= 8, "a recovery key in groups: {key:?}");
    let r = c
        .post(format!("{}/gateways/Matrix/secret-stored", herold.base))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = c.get(format!("{}/gateways", herold.base)).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains(&key) && page.contains("<dd>enabled</dd>"), "shown once");
    let audit = herold.service.audit_log(50, 0).await.unwrap().0;
    assert!(audit.iter().any(|e| e.action == "recovery_key_stored"), "{audit:?}");
    herold.stop().await;
    // Restarted, the key is not shown again.
    let herold = Running::start(&cfg).await;
    wait_connected(&herold.service).await;
    assert!(herold.service.pending_secrets().is_empty());
    assert_eq!(status_row(&herold.service, "mx-recovery"), "enabled");
    herold.stop().await;

    // The store is lost: herold logs in as a new device, which it cannot sign by itself.
    std::fs::remove_dir_all(dir.path().join("data/matrix")).unwrap();
    let herold = Running::start(&cfg).await;
    wait_connected(&herold.service).await;
    assert_eq!(status_row(&herold.service, "mx-cross-signed"), "no");
    assert!(status_row(&herold.service, "mx-recovery").contains("herold matrix recover"));
    herold.stop().await;

    let toml = format!(
        "[matrix]\nhomeserver = \"{}\"\nuser_id = \"@herold:localhost\"\npassword = \"{BOT_PASSWORD}\"\n",
        syn.url
    );
    std::fs::write(dir.path().join("herold.toml"), toml).unwrap();
    let wrong = recover_cli(dir.path(), "EsTc 1234 abcd EFGH ijkl MNOP qrst UVWX yz12 3456 7890 abcd");
    assert!(!wrong.status.success());
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("recovery failed"), "{err}");
    let right = recover_cli(dir.path(), &key);
    let out = String::from_utf8_lossy(&right.stdout);
    assert!(right.status.success(), "{out}\n{}", String::from_utf8_lossy(&right.stderr));
    assert!(out.contains("cross-signed again"), "{out}");

    let herold = Running::start(&cfg).await;
    wait_connected(&herold.service).await;
    assert_eq!(status_row(&herold.service, "mx-cross-signed"), "yes");
    assert_eq!(status_row(&herold.service, "mx-recovery"), "enabled");
    let d = common::draft("VEREIN", OptInMode::Single, &[Transport::Matrix]);
    let ch = herold.service.create_channel(&Actor::Cli, d).await.unwrap().id;
    let strict = synapse::TrustRequirement::CrossSigned;
    let mut carol =
        Subscriber::login_with(&syn.url, "carol", "carol-password", &dir.path().join("carol"), strict).await;
    let room = carol.open_dm(&bot).await;
    carol.say(&room, "START verein").await;
    carol.expect(60, "welcome from the recovered device", |b| b.starts_with("Willkommen")).await;
    broadcast(&herold.service, ch, "Vom wiederhergestellten Gerät", "rec").await;
    carol.expect(30, "the broadcast", |b| b == "Vom wiederhergestellten Gerät").await;
    let audit = herold.service.audit_log(50, 0).await.unwrap().0;
    assert!(audit.iter().any(|e| e.action == "matrix_recovered"), "{audit:?}");
    herold.stop().await;
}

/// Announcement-room mode: the channel gets one encrypted room the bot owns; members join by its id,
/// decrypt each broadcast as one post, and cannot post themselves. A channel with Matrix DMs cannot
/// have a room as well.
#[tokio::test]
async fn announcement_room_one_post_per_broadcast_and_members_only_read() {
    use matrix_sdk::ruma::OwnedRoomId;
    use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
    let syn = Synapse::start(false);
    syn.register("herold", BOT_PASSWORD, false).await;
    syn.register("dora", "dora-password", false).await;
    syn.register("emil", "emil-password", false).await;
    let dir = tempfile::tempdir().unwrap();
    let herold = Running::start(&config(dir.path(), &syn, "50/s")).await;
    wait_connected(&herold.service).await;

    let dms = common::draft("PRIVAT", OptInMode::Single, &[Transport::Matrix]);
    let dms = herold.service.create_channel(&Actor::Cli, dms).await.unwrap().id;
    let err = herold.service.create_announcement_room(&Actor::Cli, dms).await.unwrap_err().to_string();
    assert!(err.contains("either by private DMs or by one announcement room"), "{err}");

    let d = common::draft("TREFF", OptInMode::Single, &[Transport::Sandbox]);
    let ch = herold.service.create_channel(&Actor::Cli, d).await.unwrap().id;
    let (c, csrf) = owner(&herold).await;
    let r =
        c.post(format!("{}/channels/{ch}/room", herold.base)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let page = c.get(format!("{}/channels/{ch}", herold.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Members of that room can") && page.contains("see each other"), "{page}");
    let info = herold.service.announcement_room(ch).await.unwrap().unwrap();
    assert!(info.link.starts_with("https://matrix.to/#/!") && info.link.ends_with("?via=localhost"), "{info:?}");
    let room_id = OwnedRoomId::try_from(info.room.as_str()).unwrap();

    let mut dora = Subscriber::login(&syn.url, "dora", "dora-password", &dir.path().join("dora")).await;
    let mut emil = Subscriber::login(&syn.url, "emil", "emil-password", &dir.path().join("emil")).await;
    for s in [&dora, &emil] {
        s.client.join_room_by_id(&room_id).await.unwrap();
    }
    let mut members = None;
    for _ in 0..120 {
        members = herold.service.announcement_room(ch).await.unwrap().unwrap().members;
        if members == Some(2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(members, Some(2), "the bot sees both members join");

    broadcast(&herold.service, ch, "Treffen heute um 19 Uhr", "t1").await;
    for s in [&mut dora, &mut emil] {
        s.expect(60, "the post", |b| b == "Treffen heute um 19 Uhr").await;
    }
    // Members only read: the homeserver refuses their posts.
    let room = dora.client.get_room(&room_id).unwrap();
    let refused = room.send(RoomMessageEventContent::text_plain("Darf ich?")).await.unwrap_err();
    assert_eq!(refused.client_api_error_kind().map(|k| k.errcode().to_string()).as_deref(), Some("M_FORBIDDEN"));

    broadcast(&herold.service, ch, "Treffen morgen abgesagt", "t2").await;
    for s in [&mut dora, &mut emil] {
        s.expect(60, "the second post", |b| b == "Treffen morgen abgesagt").await;
        let more = s.collect(3).await;
        let posts = more.iter().filter(|x| matches!(x, Seen::Text { body, .. } if body.starts_with("Treffen"))).count();
        assert_eq!(posts, 0, "one post per broadcast: {more:?}");
    }
    let all = herold.service.broadcasts(10).await.unwrap();
    let posts: Vec<_> = all.iter().filter(|b| b.sms_text.starts_with("Treffen")).collect();
    assert_eq!(posts.len(), 2);
    for b in posts {
        assert_eq!((b.total, b.sent, b.failed, b.state.as_str()), (1, 1, 0, "done"), "{b:?}");
    }
    herold.stop().await;
}

/// The homeserver stops for 15 s in the middle of a fan-out and comes back: sends to it are deferred
/// without counting as attempts, the broadcast page says why, and herold finishes within 60 s of the
/// homeserver's return; every subscriber has each broadcast exactly once and nothing failed.
#[tokio::test]
async fn a_homeserver_that_stops_and_comes_back_is_resumed_within_a_minute() {
    const N: usize = 12;
    let mut syn = Synapse::start(false);
    syn.register("herold", BOT_PASSWORD, false).await;
    syn.register("root", "root-password", true).await;
    let admin = syn.token("root", "root-password").await;
    let names: Vec<String> = (0..N).map(|i| format!("o{i:02}")).collect();
    syn.create_users(&admin, &names, None).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &syn, "1000/s");
    let herold = Running::start(&cfg).await;
    wait_connected(&herold.service).await;
    let s = herold.service.clone();
    let ch =
        s.create_channel(&Actor::Cli, common::draft("OUT", OptInMode::Single, &[Transport::Matrix])).await.unwrap();
    let reqs = names
        .iter()
        .map(|n| herold::service::subscribers::AddSubscriber {
            transport: Transport::Matrix,
            address: format!("@{n}:localhost"),
            language: "de".into(),
            channels: vec![ch.id],
            consent_note: "outage test".into(),
        })
        .collect();
    s.add_subscribers(&Actor::Cli, reqs).await.unwrap();
    let done = |id: herold::domain::BroadcastId, secs: u64| {
        let s = s.clone();
        async move {
            let t = std::time::Instant::now();
            loop {
                let b = s.broadcast(id).await.unwrap();
                if b.state == herold::domain::BroadcastState::Done {
                    return (b, t.elapsed());
                }
                assert!(t.elapsed() < Duration::from_secs(secs), "not done after {secs} s: {b:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let (first, _) =
        s.create_broadcast(&Actor::Cli, common::compose_now(ch.id, "Vor dem Ausfall", "before")).await.unwrap();
    done(first.id, 240).await;

    syn.stop();
    let (second, _) =
        s.create_broadcast(&Actor::Cli, common::compose_now(ch.id, "Während des Ausfalls", "during")).await.unwrap();
    // The page, polled as a browser would every 2 s, says why while the homeserver is away.
    let mut said = 0;
    for _ in 0..7 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let p = s.progress(second.id).await.unwrap();
        said += usize::from(p.waiting.is_some_and(|w| w.reason == herold::domain::Reason::HomeserverUnreachable));
    }
    assert!(said >= 5, "the page said why in {said} of 7 looks");
    // The dashboard and /metrics say the homeserver is not reachable.
    let routes = s.route_health();
    assert!(
        matches!(
            &routes[..],
            [(_, Transport::Matrix, Health::Down { reason: herold::domain::Reason::HomeserverUnreachable, .. })]
        ),
        "{routes:?}"
    );
    let scrape = s.metrics().render(&s.metrics_snapshot().await.unwrap());
    assert!(scrape.contains("herold_route_up{transport=\"matrix\",route=\"Matrix\"} 0"), "{scrape}");
    let during = s.progress(second.id).await.unwrap();
    assert_eq!((during.broadcast.sent, during.broadcast.failed), (0, 0), "{during:?}");
    syn.restart();
    let (b, took) = done(second.id, 60).await;
    println!("homeserver back: the broadcast finished {:.1} s later", took.as_secs_f64());
    assert_eq!((b.sent, b.failed), (N as i64, 0));
    assert_eq!(s.route_health()[0].2.up(), Some(true), "up again once the sync runs");
    let scrape = s.metrics().render(&s.metrics_snapshot().await.unwrap());
    assert!(scrape.contains("herold_route_up{transport=\"matrix\",route=\"Matrix\"} 1"), "{scrape}");
    let per_user = syn.bot_messages_per_user(&admin).await;
    for n in &names {
        assert_eq!(per_user.get(&format!("@{n}:localhost")).copied(), Some(2), "{n}: {per_user:?}");
    }
    herold.stop().await;
}

/// Twenty subscribers open encrypted DMs with the bot at the same moment and opt in. herold stops
/// (SIGTERM) and starts again, then a broadcast; then it is killed with `kill -9` in the middle of
/// the next one and started again. Every subscriber gets every broadcast exactly once, in the DM they
/// opened, and the bot never creates a room or sends an invite.
#[tokio::test(flavor = "multi_thread")]
async fn dms_opened_together_get_every_broadcast_once_in_their_own_room_across_restart_and_kill_9() {
    const N: usize = 20;
    let syn = Synapse::start(false);
    let bot = syn.register("herold", BOT_PASSWORD, false).await;
    syn.register("root", "root-password", true).await;
    let admin = syn.token("root", "root-password").await;
    let names: Vec<String> = (0..N).map(|i| format!("p{i:02}")).collect();
    syn.create_users(&admin, &names, Some("subscriber-password")).await;
    let dir = tempfile::tempdir().unwrap();
    let channel = {
        let s = common::open_service(dir.path());
        let d = common::draft("NEWS", OptInMode::Single, &[Transport::Matrix]);
        s.create_channel(&Actor::Cli, d).await.unwrap().id
    };
    // Slow enough (4 messages a second) that the kill lands in the middle of the broadcast.
    write_config(dir.path(), &syn, "4/s");
    let start = || serve(dir.path(), &[]);
    let sigterm = |child: &mut std::process::Child| {
        std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(child.wait().unwrap().success(), "herold stops cleanly on SIGTERM");
    };
    let state = |key: &str| {
        let c = rusqlite::Connection::open_with_flags(
            dir.path().join("data/herold.sqlite"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        c.query_row("SELECT state, sent, failed FROM broadcasts WHERE idempotency_key = ?1", [key], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })
        .unwrap()
    };
    let data = dir.path().to_path_buf();
    let broadcast_while_stopped = |text: &'static str, key: &'static str| {
        let data = data.clone();
        async move {
            let s = common::open_service(&data);
            broadcast(&s, channel, text, key).await;
        }
    };

    let mut child = start();
    let stores: Vec<std::path::PathBuf> = names.iter().map(|n| dir.path().join(format!("store-{n}"))).collect();
    let subs = futures_util::future::join_all(
        names.iter().zip(&stores).map(|(n, store)| Subscriber::login(&syn.url, n, "subscriber-password", store)),
    )
    .await;
    // All at the same moment: each opens a DM, waits for the bot, and opts in.
    let rooms = futures_util::future::join_all(subs.iter().map(|s| s.open_dm(&bot))).await;
    futures_util::future::join_all(subs.iter().zip(&rooms).map(|(s, r)| s.say(r, "START news"))).await;
    let mut subs = subs;
    for s in subs.iter_mut() {
        s.expect(120, "the welcome", |b| b.starts_with("Willkommen")).await;
    }

    // A plain restart, then a broadcast.
    sigterm(&mut child);
    broadcast_while_stopped("Erste Rundsendung nach dem Neustart", "r1").await;
    let mut child = start();
    for s in subs.iter_mut() {
        s.expect(120, "the first broadcast", |b| b == "Erste Rundsendung nach dem Neustart").await;
    }
    // A subscriber can read a message before herold has recorded that it went: wait for the record.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while state("r1").0 != "done" && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(state("r1"), ("done".into(), N as i64, 0));

    // kill -9 in the middle of the next one.
    sigterm(&mut child);
    broadcast_while_stopped("Zweite Rundsendung, mitten drin abgebrochen", "r2").await;
    let mut child = start();
    let t = std::time::Instant::now();
    while state("r2").1 < 3 {
        assert!(t.elapsed() < Duration::from_secs(120), "no progress: {:?}", state("r2"));
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = state("r2");
    assert!(at_kill.1 < N as i64, "the broadcast finished before the kill: {at_kill:?}");
    let mut child = start();
    for s in subs.iter_mut() {
        s.expect(120, "the second broadcast", |b| b == "Zweite Rundsendung, mitten drin abgebrochen").await;
    }
    let t = std::time::Instant::now();
    while state("r2").0 != "done" {
        assert!(t.elapsed() < Duration::from_secs(60), "not recorded as done: {:?}", state("r2"));
        std::thread::sleep(Duration::from_millis(100));
    }
    // A subscriber can read a message before herold has recorded that it went: wait for the record.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while state("r2").0 != "done" && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(state("r2"), ("done".into(), N as i64, 0));

    // Nothing twice: a few more seconds bring no repeat.
    for s in subs.iter_mut() {
        let late = s.collect(2).await;
        let repeats: Vec<&Seen> =
            late.iter().filter(|x| matches!(x, Seen::Text { from, .. } if from == synapse::BOT)).collect();
        assert!(repeats.is_empty(), "a repeat: {repeats:?}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // On the homeserver: one room per subscriber, the one they opened; the welcome and two broadcasts in it.
    let bot_rooms = syn.bot_rooms(&admin).await;
    assert_eq!(bot_rooms.len(), N, "{bot_rooms:#?}");
    let distinct: std::collections::HashSet<&String> = bot_rooms.iter().map(|r| &r.id).collect();
    assert_eq!(distinct.len(), N);
    for r in &bot_rooms {
        assert_eq!(r.others.len(), 1, "{r:?}");
        assert_eq!(r.creator, r.others[0], "the subscriber opened the room: {r:?}");
        assert_eq!(r.invites_by_bot, 0, "the bot invited nobody: {r:?}");
        assert_eq!(r.bot_messages, 3, "welcome and two broadcasts, each once: {r:?}");
    }
    println!("dm restart test: killed at {} of {N} sent", at_kill.1);
}

/// A DM opened before herold's very first start (the bot has no device yet) and one opened while
/// herold is stopped are both joined when it starts, and the messages in them answered; so is a
/// message written while herold was down.
#[tokio::test]
async fn dms_opened_before_the_first_start_and_while_stopped_are_joined_and_answered() {
    let syn = Synapse::start(false);
    let bot = syn.register("herold", BOT_PASSWORD, false).await;
    syn.register("bea", "bea-password", false).await;
    syn.register("carl", "carl-password", false).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &syn, "50/s");
    let d = common::draft("NEWS", OptInMode::Single, &[Transport::Matrix]);
    common::open_service(dir.path()).create_channel(&Actor::Cli, d).await.unwrap();

    // Before the first start: bea invites the bot.
    let mut bea = Subscriber::login(&syn.url, "bea", "bea-password", &dir.path().join("bea")).await;
    let bea_room = bea.client.create_dm(&bot).await.unwrap();
    let herold = Running::start(&cfg).await;
    bea.wait_for_join(&bea_room, &bot).await;
    bea.say(&bea_room, "START news").await;
    bea.expect(60, "the welcome", |b| b.starts_with("Willkommen")).await;

    // While herold is stopped: carl invites the bot, and bea asks for help.
    herold.stop().await;
    let mut carl = Subscriber::login(&syn.url, "carl", "carl-password", &dir.path().join("carl")).await;
    let carl_room = carl.client.create_dm(&bot).await.unwrap();
    bea.say(&bea_room, "HILFE").await;
    let herold = Running::start(&cfg).await;
    bea.expect(60, "help written while herold was down", |b| b.contains("STOP")).await;
    carl.wait_for_join(&carl_room, &bot).await;
    carl.say(&carl_room, "START news").await;
    carl.expect(60, "the welcome", |b| b.starts_with("Willkommen")).await;
    herold.stop().await;
}

/// The team room: an owner sets it up from the conversations page with the team's Matrix ids; each
/// new message for the team is announced there once — its conversation and channel, never its text or
/// who wrote it; a keyword answer, which needs nobody, is not announced.
#[tokio::test]
async fn the_team_room_gets_one_notice_per_new_message_without_text_or_address() {
    use matrix_sdk::ruma::OwnedRoomId;
    let syn = Synapse::start(false);
    syn.register("herold", BOT_PASSWORD, false).await;
    syn.register("trainer", "trainer-password", false).await;
    let dir = tempfile::tempdir().unwrap();
    let herold = Running::start(&config(dir.path(), &syn, "50/s")).await;
    wait_connected(&herold.service).await;
    let d = common::draft("NEWS", OptInMode::Single, &[Transport::Sandbox]);
    let ch = herold.service.create_channel(&Actor::Cli, d).await.unwrap().id;
    let training = herold::domain::answer::NewAnswer {
        channel: Some(ch),
        keyword: "TRAINING".into(),
        answer_de: "Dienstags 18 Uhr".into(),
        answer_en: String::new(),
    };
    herold.service.add_keyword_answer(&Actor::Cli, training).await.unwrap();
    let (c, csrf) = owner(&herold).await;
    let form = [("csrf", csrf.as_str()), ("invite", "@trainer:localhost")];
    let r = c.post(format!("{}/inbox/team-room", herold.base)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let info = herold.service.team_room().await.unwrap().expect("the team room is set");
    let room_id = OwnedRoomId::try_from(info.room.as_str()).unwrap();
    let mut trainer = Subscriber::login(&syn.url, "trainer", "trainer-password", &dir.path().join("trainer")).await;
    trainer.client.join_room_by_id(&room_id).await.unwrap();
    let mut members = None;
    for _ in 0..120 {
        members = herold.service.team_room().await.unwrap().unwrap().members;
        if members == Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(members, Some(1), "the bot sees the trainer join");

    let number = "+4915123000001";
    herold.service.receive(common::sandbox_message(number, "START NEWS")).await.unwrap();
    herold.service.receive(common::sandbox_message(number, "Wann ist das Spiel am Samstag?")).await.unwrap();
    let notice = trainer.expect(60, "the notice", |b| b.starts_with("Neue Nachricht in Gespräch #")).await;
    assert!(notice.ends_with("(NEWS channel)"), "{notice}");
    for secret in ["Spiel", "Samstag", "4915123000001", "+49"] {
        assert!(!notice.contains(secret), "the notice names {secret:?}: {notice}");
    }
    herold.service.receive(common::sandbox_message(number, "TRAINING")).await.unwrap();
    herold.service.receive(common::sandbox_message(number, "Und wo?")).await.unwrap();
    trainer.expect(60, "the second notice", |b| b.starts_with("Neue Nachricht in Gespräch #")).await;
    let more = trainer.collect(4).await;
    let notices =
        more.iter().filter(|s| matches!(s, Seen::Text { body, .. } if body.starts_with("Neue Nachricht"))).count();
    assert_eq!(notices, 0, "one notice per message for the team, none for the keyword: {more:?}");
    let (log, _) = herold.service.audit_log(20, 0).await.unwrap();
    let created = log.iter().find(|e| e.action == "team_room_created").expect("audited");
    assert!(!created.detail.contains("trainer"), "the invited ids are not kept: {created:?}");
    herold.stop().await;
}
