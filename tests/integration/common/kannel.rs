//! A real Kannel for tests and benches: bearerbox and smsbox on free loopback ports, and fakesmsc (the
//! fake SMSC's far end) as the phone, whose log is parsed back into the texts it received.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BEARERBOX: &str = "/usr/sbin/bearerbox";
pub const SMSBOX: &str = "/usr/sbin/smsbox";
pub const FAKESMSC: &str = "/usr/lib/kannel/test/fakesmsc";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn wait_for_port(port: u16, what: &str) {
    assert!(port_opens(port, None), "{what} did not open port {port}");
}

/// Whether `port` accepts connections within 20 s (false at once if `process` ends meanwhile).
fn port_opens(port: u16, mut process: Option<&mut Child>) -> bool {
    let until = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        let ended = process.as_mut().is_some_and(|p| p.try_wait().ok().flatten().is_some());
        if ended || Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

/// bearerbox + smsbox on loopback ports; killed on drop.
pub struct Kannel {
    dir: tempfile::TempDir,
    smsc_port: u16,
    procs: Vec<Child>,
}

impl Kannel {
    /// Starts both boxes. A free port picked for them can be taken by another test's connection
    /// before the box binds it (seen once in CI: smsbox never listened), so a start that does not come
    /// up is tried again with fresh ports, twice; then it fails with the boxes' logs.
    pub fn start(sendsms_port: u16, sms_service: &str) -> Self {
        for bin in [BEARERBOX, SMSBOX, FAKESMSC] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: run scripts/setup-peers (installs kannel, kannel-extras)"
            );
        }
        let mut logs = String::new();
        for attempt in 1..=3 {
            match Self::try_start(sendsms_port, sms_service) {
                Ok(kannel) => return kannel,
                Err(log) => logs.push_str(&format!("--- attempt {attempt}:\n{log}\n")),
            }
        }
        panic!("Kannel did not start (sendsms port {sendsms_port}):\n{logs}");
    }

    fn try_start(sendsms_port: u16, sms_service: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().unwrap();
        let (admin, smsbox, smsc) = (free_port(), free_port(), free_port());
        let d = dir.path().display();
        // The smsbox settings herold's README and Gateways page give (UTF-8 text, retries).
        let smsbox_lines = herold::transport::sms::kannel::SMSBOX_LINES;
        let conf = format!(
            "group = core\nadmin-port = {admin}\nadmin-password = adminpw\nstatus-password = statuspw\n\
             admin-allow-ip = \"127.0.0.1\"\nadmin-interface = 127.0.0.1\nsmsbox-interface = 127.0.0.1\n\
             smsbox-port = {smsbox}\nbox-allow-ip = \"127.0.0.1\"\nlog-file = \"{d}/bearerbox.log\"\nlog-level = 0\n\
             dlr-storage = internal\n\n\
             group = smsc\nsmsc = fake\nsmsc-id = FAKE\nport = {smsc}\nconnect-allow-ip = 127.0.0.1\nour-host = 127.0.0.1\n\n\
             group = smsbox\nbearerbox-host = 127.0.0.1\nbearerbox-port = {smsbox}\nsendsms-port = {sendsms_port}\n\
             sendsms-interface = 127.0.0.1\nglobal-sender = 12345\nlog-file = \"{d}/smsbox.log\"\n{smsbox_lines}\n\
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
        let mut up = port_opens(smsbox, procs.last_mut());
        if up {
            procs.push(spawn(SMSBOX, "smsbox.out"));
            up = port_opens(sendsms_port, procs.last_mut());
        }
        let logs = dir.path().to_path_buf();
        // Dropped on failure: both boxes are killed before the next attempt.
        let kannel = Self { smsc_port: smsc, procs, dir };
        if up {
            return Ok(kannel);
        }
        let tail = |name: &str| {
            let text = std::fs::read_to_string(logs.join(name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(15)..].join("\n")
        };
        Err(format!("bearerbox.log:\n{}\nsmsbox.log:\n{}", tail("bearerbox.log"), tail("smsbox.log")))
    }

    /// The phone: fakesmsc connects as the SMSC's far end, sends `text` once from `from` (nothing when
    /// `text` is `None`), then logs every message it receives. One phone at a time (the fake SMSC
    /// takes one connection); it receives for every number.
    pub fn phone(&self, from: &str, text: Option<&str>) -> Phone {
        let out = self.dir.path().join(format!("phone-{}.out", rand::random::<u32>()));
        let child = Command::new(FAKESMSC)
            .args(["-v", "0", "-H", "127.0.0.1", "-r", &self.smsc_port.to_string(), "-i", "0.2", "-m"])
            .arg(if text.is_some() { "1" } else { "0" })
            .arg(format!("{from} 12345 text {}", text.unwrap_or("-")))
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

pub struct Phone {
    child: Child,
    out: PathBuf,
}

impl Phone {
    /// Every message the phone received so far, concatenated parts joined.
    pub fn received(&self) -> Vec<String> {
        parse_fakesmsc(&std::fs::read_to_string(&self.out).unwrap_or_default())
    }

    /// The messages sent to one number (`+49…` as herold writes it, or without the `+`).
    pub fn received_by(&self, to: &str) -> Vec<String> {
        let log = std::fs::read_to_string(&self.out).unwrap_or_default();
        let to = to.trim_start_matches('+');
        let mine: Vec<&str> = log
            .lines()
            .filter(|l| {
                let Some(at) = l.find('<') else { return false };
                l[at + 1..].split(' ').nth(1).is_some_and(|r| r.trim_start_matches('+') == to)
            })
            .collect();
        parse_fakesmsc(&mine.join("\n"))
    }

    pub fn wait_for(&self, n: usize) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(30 + n as u64 / 20);
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
pub fn parse_fakesmsc(log: &str) -> Vec<String> {
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
