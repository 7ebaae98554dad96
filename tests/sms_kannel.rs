//! SMS through a real Kannel 1.4.5 (bearerbox + smsbox from Debian's `kannel`) with its fake SMSC
//! (`fakesmsc` from `kannel-extras`) as the phone: opt-in, double opt-in, GSM-7 and multipart UCS-2
//! broadcasts exactly as written, delivery reports, STOP and nothing after it.
//! `scripts/setup-peers` installs Kannel.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestApp;
use herold::config::GatewayKind;
use herold::domain::{OptInMode, Transport};
use herold::service::Actor;

const BEARERBOX: &str = "/usr/sbin/bearerbox";
const SMSBOX: &str = "/usr/sbin/smsbox";
const FAKESMSC: &str = "/usr/lib/kannel/test/fakesmsc";
const PHONE: &str = "+4915112345678";
const HOOK_SECRET: &str = "kannelHookSecret0123456789";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16, what: &str) {
    let until = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "{what} did not open port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// bearerbox + smsbox on loopback ports; killed on drop.
struct Kannel {
    dir: tempfile::TempDir,
    smsc_port: u16,
    procs: Vec<Child>,
}

impl Kannel {
    fn start(sendsms_port: u16, sms_service: &str) -> Self {
        for bin in [BEARERBOX, SMSBOX, FAKESMSC] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: run scripts/setup-peers (installs kannel, kannel-extras)"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let (admin, smsbox, smsc) = (free_port(), free_port(), free_port());
        let d = dir.path().display();
        let conf = format!(
            "group = core\nadmin-port = {admin}\nadmin-password = adminpw\nstatus-password = statuspw\n\
             admin-allow-ip = \"127.0.0.1\"\nadmin-interface = 127.0.0.1\nsmsbox-interface = 127.0.0.1\n\
             smsbox-port = {smsbox}\nbox-allow-ip = \"127.0.0.1\"\nlog-file = \"{d}/bearerbox.log\"\nlog-level = 0\n\
             dlr-storage = internal\n\n\
             group = smsc\nsmsc = fake\nsmsc-id = FAKE\nport = {smsc}\nconnect-allow-ip = 127.0.0.1\nour-host = 127.0.0.1\n\n\
             group = smsbox\nbearerbox-host = 127.0.0.1\nbearerbox-port = {smsbox}\nsendsms-port = {sendsms_port}\n\
             sendsms-interface = 127.0.0.1\nglobal-sender = 12345\nlog-file = \"{d}/smsbox.log\"\nmo-recode = true\n\n\
             group = sendsms-user\nusername = broadcaster\npassword = s3cret\nconcatenation = true\nmax-messages = 10\n\
             user-allow-ip = \"127.0.0.1\"\n\n{sms_service}"
        );
        let conf_path = dir.path().join("kannel.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let spawn = |bin: &str, log: &str| {
            Command::new(bin)
                .arg(&conf_path)
                .current_dir(dir.path())
                .stdout(std::fs::File::create(dir.path().join(log)).unwrap())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let mut procs = vec![spawn(BEARERBOX, "bearerbox.out")];
        wait_for_port(smsbox, "bearerbox");
        procs.push(spawn(SMSBOX, "smsbox.out"));
        wait_for_port(sendsms_port, "smsbox");
        Self { dir, smsc_port: smsc, procs }
    }

    /// The phone: fakesmsc connects as the SMSC's far end, sends `text` once from `PHONE`, then
    /// prints every message it receives. One phone at a time (the fake SMSC takes one connection).
    fn phone(&self, text: &str) -> Phone {
        let out = self.dir.path().join(format!("phone-{}.out", rand::random::<u32>()));
        let child = Command::new(FAKESMSC)
            .args(["-v", "0", "-H", "127.0.0.1", "-r", &self.smsc_port.to_string(), "-i", "0.2", "-m", "1"])
            .arg(format!("{PHONE} 12345 text {text}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&out).unwrap())
            .spawn()
            .unwrap();
        Phone { child, out }
    }
}

impl Drop for Kannel {
    fn drop(&mut self) {
        for p in self.procs.iter_mut().rev() {
            let _ = p.kill();
            let _ = p.wait();
        }
    }
}

struct Phone {
    child: Child,
    out: PathBuf,
}

impl Phone {
    /// Every message the phone received so far, concatenated parts joined.
    fn received(&self) -> Vec<String> {
        parse_fakesmsc(&std::fs::read_to_string(&self.out).unwrap_or_default())
    }

    fn wait_for(&self, n: usize) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(Instant::now() < until, "the phone got {} of {n} messages: {got:?}", got.len());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Phone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Decodes fakesmsc's url-encoding (`+` is a space byte).
fn url_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let (mut out, mut i) = (vec![], 0);
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn utf16be(b: &[u8]) -> String {
    let units: Vec<u16> = b.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
    String::from_utf16(&units).unwrap()
}

/// Lines `Got message N: <from to type [udh] data>`; parts (UDH 05 00 03 ref total seq) are joined.
fn parse_fakesmsc(log: &str) -> Vec<String> {
    let mut done = vec![];
    let mut parts: std::collections::BTreeMap<u8, Vec<(u8, String)>> = Default::default();
    for line in log.lines() {
        let Some(at) = line.find("Got message") else { continue };
        let msg = &line[at..];
        let inner = &msg[msg.find('<').unwrap() + 1..msg.rfind('>').unwrap()];
        let fields: Vec<&str> = inner.splitn(4, ' ').collect();
        match fields[2] {
            "text" => done.push(fields[3].to_string()),
            "ucs-2" => done.push(utf16be(&url_bytes(fields[3]))),
            "udh" => {
                let (udh, rest) = fields[3].split_once(' ').unwrap();
                let udh = url_bytes(udh);
                let (kind, data) = rest.split_once(' ').unwrap();
                let text = if kind == "text" { data.to_string() } else { utf16be(&url_bytes(data)) };
                let (r, total) = (udh[3], udh[4]);
                let list = parts.entry(r).or_default();
                list.push((udh[5], text));
                if list.len() == total as usize {
                    let mut list = parts.remove(&r).unwrap();
                    list.sort();
                    done.push(list.into_iter().map(|(_, t)| t).collect());
                }
            }
            other => panic!("unexpected message type {other}"),
        }
    }
    done
}

async fn wait_until<F: Fn(&herold::service::Broadcast) -> bool>(app: &TestApp, id: i64, what: &str, f: F) {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let b = app.service.broadcast(id).await.unwrap();
        if f(&b) {
            return;
        }
        assert!(Instant::now() < until, "broadcast {id}: {what} did not happen: {b:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_opts_in_gets_gsm7_and_ucs2_broadcasts_as_written_and_nothing_after_stop() {
    let sendsms = free_port();
    let app = TestApp::spawn_with(|c| {
        let mut g = common::gateway("kannel", GatewayKind::Kannel, &format!("http://127.0.0.1:{sendsms}"), HOOK_SECRET);
        g.sender = String::new();
        c.sms.gateways.push(g);
    })
    .await;
    // herold's own kannel.conf snippet connects the two.
    let setup = app.service.gateway_setup();
    let snippet = &setup[0].1[setup[0].1.find("group = sms-service").unwrap()..];
    let kannel = Kannel::start(sendsms, snippet);
    let ch = app.service.create_channel(common::draft("NEWS", OptInMode::Double, &[Transport::Sms])).await.unwrap();

    // START → confirmation request; JA → welcome.
    let phone = kannel.phone("START news");
    let got = phone.wait_for(1);
    assert!(got[0].contains("JA"), "a confirmation request: {got:?}");
    drop(phone);
    let phone = kannel.phone("JA");
    let got = phone.wait_for(1);
    assert!(got[0].contains("NEWS") || got[0].to_lowercase().contains("willkommen"), "{got:?}");
    let (subs, _) = app.service.list_subscribers(Default::default(), 10, 0).await.unwrap();
    assert_eq!(subs.len(), 1);

    // A GSM-7 broadcast (umlauts and € are in GSM-7) and a multipart UCS-2 one (the emoji forces it).
    let gsm = "Probe: Grüße aus Köln, Eintritt 12 € [Saal 2]";
    let ucs2 = "Konzert am Freitag 🎉 – Grüße aus Köln! Eintritt 12 €, Kinder frei. Bitte pünktlich: \
                Einlass 18:30, Beginn 19:00. Wir freuen uns auf euch 🎶";
    assert_eq!(herold::domain::segments::count(ucs2).parts, 3, "the test text needs three UCS-2 parts");
    let (b1, _) = app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, gsm, "k1")).await.unwrap();
    let got = phone.wait_for(2);
    assert_eq!(got[1], gsm);
    let (b2, _) = app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, ucs2, "k2")).await.unwrap();
    let got = phone.wait_for(3);
    assert_eq!(got[2], ucs2);
    // The fake SMSC reports both as delivered through the dlr-url.
    for b in [b1.id, b2.id] {
        wait_until(&app, b, "a delivery report", |b| b.sent == 1 && b.delivered == 1).await;
    }
    drop(phone);

    // STOP → the goodbye, then nothing: a broadcast afterwards reaches no one.
    let phone = kannel.phone("STOP");
    let got = phone.wait_for(1);
    assert!(got[0].contains("NEWS"), "the goodbye names the channel: {got:?}");
    let (b3, _) =
        app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, "Noch da?", "k3")).await.unwrap();
    assert_eq!((b3.total, b3.state.as_str()), (0, "done"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(phone.received().len(), 1, "nothing after the goodbye");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kannel_callbacks_without_the_secret_are_refused_and_store_nothing() {
    let app = TestApp::spawn_with(|c| {
        c.sms.gateways.push(common::gateway("kannel", GatewayKind::Kannel, "http://127.0.0.1:9", HOOK_SECRET));
    })
    .await;
    // Owners see the ready kannel.conf snippet.
    let (owner, _) = app.admin_client("owner", herold::domain::Role::Owner).await;
    let page = owner.get(app.url("/gateways")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("group = sms-service") && page.contains("/hooks/sms/kannel/inbound?id=%I"), "{page}");
    let http = reqwest::Client::new();
    let url = app.url("/hooks/sms/kannel/inbound?id=abc");
    let send = |auth: Option<(&str, &str)>| {
        let mut r = http.post(&url).header("X-Kannel-From", PHONE).body("Hallo zusammen");
        if let Some((u, p)) = auth {
            r = r.basic_auth(u, Some(p));
        }
        r.send()
    };
    assert_eq!(send(None).await.unwrap().status(), 401);
    assert_eq!(send(Some(("kannel", "wrong-secret-0123456789"))).await.unwrap().status(), 401);
    let big = http
        .post(&url)
        .basic_auth("kannel", Some(HOOK_SECRET))
        .header("X-Kannel-From", PHONE)
        .body(vec![b'a'; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    let unknown = http.post(app.url("/hooks/sms/nope/inbound")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(app.service.inbox(10, 0).await.unwrap().1, 0);
    let (subs, _) = app.service.list_subscribers(Default::default(), 10, 0).await.unwrap();
    assert!(subs.is_empty(), "nothing stored for refused webhooks");
    // The right secret is taken, once per Kannel message id.
    for _ in 0..2 {
        let ok = send(Some(("kannel", HOOK_SECRET))).await.unwrap();
        assert_eq!(ok.status(), 200);
    }
    assert_eq!(app.service.list_subscribers(Default::default(), 10, 0).await.unwrap().0.len(), 1);
    assert_eq!(app.service.inbox(10, 0).await.unwrap().1, 1, "the retry is not stored twice");
}
