//! A real Synapse for a test (scripts/start-synapse, on a free loopback port, killed by its PID on
//! drop), users registered through the shared-secret admin API, and a subscriber that is a second
//! matrix-sdk client with its own encrypted store: it joins invites and reports what it decrypted.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::OwnedUserId;
use matrix_sdk::ruma::events::room::encrypted::OriginalSyncRoomEncryptedEvent;
use matrix_sdk::ruma::events::room::member::StrippedRoomMemberEvent;
use matrix_sdk::ruma::events::room::message::{MessageType, OriginalSyncRoomMessageEvent, RoomMessageEventContent};
use matrix_sdk::{Client, Room, RoomState};
pub use matrix_sdk_base::crypto::{DecryptionSettings, TrustRequirement};
use tokio::sync::mpsc;

/// The bot's user id in these tests.
pub const BOT: &str = "@herold:localhost";

/// Free space under `path` in KiB (`df -Pk`), 0 when unknown.
fn free_kib(path: &str) -> u64 {
    let out = Command::new("df").args(["-Pk", path]).output().map(|o| String::from_utf8_lossy(&o.stdout).to_string());
    out.ok().and_then(|s| s.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()).unwrap_or(0)
}

pub struct Synapse {
    pub url: String,
    secret: String,
    pid: u32,
    default_limits: bool,
    _dir: tempfile::TempDir,
}

impl Synapse {
    /// Starts Synapse; `default_limits` keeps its default rate limits for what the bot does.
    pub fn start(default_limits: bool) -> Synapse {
        // In memory where the machine has a roomy tmpfs: Synapse syncs its SQLite file for every event
        // it stores, and on a disk with slow syncs that, not herold, set the pace of every Matrix test.
        let dir = if free_kib("/dev/shm") >= 1 << 20 { tempfile::tempdir_in("/dev/shm").ok() } else { None };
        let dir = dir.unwrap_or_else(|| tempfile::tempdir().unwrap());
        let (url, secret, pid) = Self::launch(dir.path(), "0", default_limits);
        Synapse { url, secret, pid, default_limits, _dir: dir }
    }

    /// Stops Synapse (SIGTERM) and waits until its port is closed.
    pub fn stop(&self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
        let addr = self.url.trim_start_matches("http://").to_string();
        let t = std::time::Instant::now();
        while std::net::TcpStream::connect(&addr).is_ok() && t.elapsed() < std::time::Duration::from_secs(30) {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// The CPU time Synapse has used so far, in seconds (`utime` + `stime` of `/proc/<pid>/stat`, in
    /// the kernel's 100 ticks a second).
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        // The fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
        (ticks(11) + ticks(12)) / 100.0
    }

    /// Waits (at most `max`) until Synapse has been idle for a second — less than 2 % of a core — and
    /// returns how long that took: the work a previous step left it (stored events, device list
    /// updates) then does not fall into the next measurement.
    pub fn settle(&self, max: std::time::Duration) -> std::time::Duration {
        let t = std::time::Instant::now();
        let mut before = self.cpu_seconds();
        while t.elapsed() < max {
            std::thread::sleep(std::time::Duration::from_secs(1));
            let now = self.cpu_seconds();
            if now - before < 0.02 {
                break;
            }
            before = now;
        }
        t.elapsed()
    }

    /// Starts it again on the same data and port (after `stop`).
    pub fn restart(&mut self) {
        let port = self.url.rsplit(':').next().unwrap().to_string();
        let (url, _, pid) = Self::launch(self._dir.path(), &port, self.default_limits);
        assert_eq!(url, self.url);
        self.pid = pid;
    }

    fn launch(dir: &std::path::Path, port: &str, default_limits: bool) -> (String, String, u32) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/start-synapse");
        let out = Command::new(script)
            .arg(dir)
            .arg(port)
            .env("KEEP_RATELIMITS", if default_limits { "1" } else { "0" })
            .output()
            .expect("run scripts/start-synapse");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "Synapse did not start ({}); run scripts/setup-peers first.\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let get = |k: &str| stdout.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap().to_owned();
        (get("SYNAPSE_URL"), get("SYNAPSE_SECRET"), get("SYNAPSE_PID").parse().unwrap())
    }

    /// Registers a user: GET a nonce, then POST with HMAC-SHA1(nonce\0user\0password\0notadmin|admin).
    pub async fn register(&self, user: &str, password: &str, admin: bool) -> OwnedUserId {
        let http = reqwest::Client::new();
        let url = format!("{}/_synapse/admin/v1/register", self.url);
        let nonce: serde_json::Value = http.get(&url).send().await.unwrap().json().await.unwrap();
        let nonce = nonce["nonce"].as_str().unwrap();
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(self.secret.as_bytes()).unwrap();
        let kind = if admin { "admin" } else { "notadmin" };
        mac.update(format!("{nonce}\0{user}\0{password}\0{kind}").as_bytes());
        let body = serde_json::json!({"nonce": nonce, "username": user, "password": password,
            "admin": admin, "mac": hex::encode(mac.finalize().into_bytes())});
        let r = http.post(&url).json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "register {user}: {}", r.text().await.unwrap());
        format!("@{user}:localhost").parse().unwrap()
    }

    /// An access token for `user` (for the admin API).
    pub async fn token(&self, user: &str, password: &str) -> String {
        let body = serde_json::json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": password});
        let r: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/_matrix/client/v3/login", self.url))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["access_token"].as_str().unwrap().to_string()
    }

    /// The devices of `user`, by the admin API.
    pub async fn devices(&self, admin_token: &str, user: &str) -> Vec<String> {
        let r: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/_synapse/admin/v2/users/{user}/devices", self.url))
            .bearer_auth(admin_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut ids: Vec<String> = r["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| format!("{} {}", d["device_id"], d["display_name"]))
            .collect();
        ids.sort();
        ids
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}

/// What the subscriber saw: a message it decrypted (or got in clear), or one it could not decrypt.
#[derive(Debug, Clone)]
pub enum Seen {
    /// `html`: the formatted body, when the message has one.
    Text {
        from: String,
        body: String,
        html: Option<String>,
        encrypted: bool,
    },
    Undecryptable {
        from: String,
    },
}

pub struct Subscriber {
    pub client: Client,
    rx: mpsc::UnboundedReceiver<Seen>,
    pub seen: Vec<Seen>,
}

impl Subscriber {
    /// Logs in with its own encrypted store, syncs once, then syncs in the background.
    pub async fn login(hs: &str, user: &str, password: &str, store: &Path) -> Subscriber {
        Self::login_with(hs, user, password, store, TrustRequirement::Untrusted).await
    }

    /// A subscriber whose client decrypts only messages from devices that meet `trust` (strict
    /// clients ask for `CrossSigned`: a device its owner has not signed gets nothing decrypted).
    pub async fn login_with(hs: &str, user: &str, password: &str, store: &Path, trust: TrustRequirement) -> Subscriber {
        let client = Client::builder()
            .homeserver_url(hs)
            .sqlite_store(store, Some("subscriber-store"))
            .with_decryption_settings(DecryptionSettings { sender_device_trust_requirement: trust })
            .build()
            .await
            .unwrap();
        client.matrix_auth().login_username(user, password).await.unwrap();
        client.sync_once(SyncSettings::default()).await.unwrap();
        client.encryption().wait_for_e2ee_initialization_tasks().await;
        let (tx, rx) = mpsc::unbounded_channel();
        client.add_event_handler(|ev: StrippedRoomMemberEvent, client: Client, room: Room| async move {
            if Some(ev.state_key.as_ref()) == client.user_id() {
                tokio::spawn(async move {
                    while room.join().await.is_err() {
                        tokio::time::sleep(Duration::from_millis(500)).await
                    }
                });
            }
        });
        let t = tx.clone();
        client.add_event_handler(
            move |ev: OriginalSyncRoomMessageEvent,
                  client: Client,
                  enc: Option<matrix_sdk::deserialized_responses::EncryptionInfo>| {
                let t = t.clone();
                async move {
                    if Some(ev.sender.as_ref()) == client.user_id() {
                        return;
                    }
                    if let MessageType::Text(text) = ev.content.msgtype {
                        let _ = t.send(Seen::Text {
                            from: ev.sender.to_string(),
                            body: text.body,
                            html: text.formatted.map(|f| f.body),
                            encrypted: enc.is_some(),
                        });
                    }
                }
            },
        );
        client.add_event_handler(move |ev: OriginalSyncRoomEncryptedEvent| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(Seen::Undecryptable { from: ev.sender.to_string() });
            }
        });
        let c = client.clone();
        tokio::spawn(async move {
            let _ = c.sync(SyncSettings::default().timeout(Duration::from_secs(5))).await;
        });
        Subscriber { client, rx, seen: Vec::new() }
    }

    /// Opens an encrypted DM with `bot` and waits until the bot has joined it.
    pub async fn open_dm(&self, bot: &OwnedUserId) -> Room {
        let room = self.client.create_dm(bot).await.unwrap();
        self.wait_for_join(&room, bot).await;
        room
    }

    /// Waits (up to a minute) until `bot` has joined `room`.
    pub async fn wait_for_join(&self, room: &Room, bot: &OwnedUserId) {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            room.sync_members().await.ok();
            if let Ok(Some(m)) = room.get_member_no_sync(bot).await
                && *m.membership() == matrix_sdk::ruma::events::room::member::MembershipState::Join
            {
                return;
            }
            assert!(Instant::now() < until, "the bot never joined the DM");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    pub async fn say(&self, room: &Room, text: &str) {
        assert_eq!(room.state(), RoomState::Joined);
        room.send(RoomMessageEventContent::text_plain(text)).await.unwrap();
    }

    /// Waits up to `secs` for a decrypted message from the bot whose body satisfies `f`; returns its body.
    pub async fn expect(&mut self, secs: u64, what: &str, f: impl Fn(&str) -> bool) -> String {
        self.expect_formatted(secs, what, f).await.0
    }

    /// [`Self::expect`], returning the message's formatted body (HTML) too.
    pub async fn expect_formatted(
        &mut self,
        secs: u64,
        what: &str,
        f: impl Fn(&str) -> bool,
    ) -> (String, Option<String>) {
        if let Some(i) = self.seen.iter().position(|s| matches!(s, Seen::Text { body, encrypted: true, .. } if f(body)))
        {
            let Seen::Text { body, html, .. } = self.seen.remove(i) else { unreachable!() };
            return (body, html);
        }
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.rx.recv()).await {
                Ok(Some(Seen::Text { from, body, html, encrypted: true })) if from == BOT && f(&body) => {
                    return (body, html);
                }
                Ok(Some(s)) => self.seen.push(s),
                _ => panic!("no decrypted message {what} within {secs} s; seen: {:?}", self.seen),
            }
        }
    }

    /// Everything that arrives within `secs` (to prove that nothing does).
    pub async fn collect(&mut self, secs: u64) -> Vec<Seen> {
        let until = Instant::now() + Duration::from_secs(secs);
        while let Ok(Some(s)) =
            tokio::time::timeout(until.saturating_duration_since(Instant::now()), self.rx.recv()).await
        {
            self.seen.push(s);
        }
        std::mem::take(&mut self.seen)
    }
}

impl Synapse {
    /// Creates users through the admin API, with no device (quick, for counting rooms); with
    /// `password` they can log in.
    pub async fn create_users(&self, admin_token: &str, names: &[String], password: Option<&str>) {
        use futures_util::StreamExt;
        let http = reqwest::Client::new();
        futures_util::stream::iter(names)
            .map(|n| {
                let (http, url) = (http.clone(), format!("{}/_synapse/admin/v2/users/@{n}:localhost", self.url));
                async move {
                    let mut body = serde_json::json!({"displayname": n});
                    if let Some(p) = password {
                        body["password"] = p.into();
                    }
                    let r = http.put(url).bearer_auth(admin_token).json(&body).send().await;
                    assert!(r.unwrap().status().is_success());
                }
            })
            .buffer_unordered(8)
            .collect::<Vec<_>>()
            .await;
    }

    /// For each user the bot shares a room with: how many messages the bot posted there, over all
    /// rooms (read through the admin API: rooms, their member state, their events).
    pub async fn bot_messages_per_user(&self, admin_token: &str) -> std::collections::HashMap<String, usize> {
        let mut out = std::collections::HashMap::new();
        for room in self.bot_rooms(admin_token).await {
            for o in room.others {
                *out.entry(o).or_default() += room.bot_messages;
            }
        }
        out
    }
}

/// One room the bot is in, as the homeserver's admin API shows it.
#[derive(Debug)]
pub struct BotRoom {
    pub id: String,
    /// Who created the room.
    pub creator: String,
    /// Members other than the bot (joined, invited or gone).
    pub others: Vec<String>,
    /// Invites the bot sent in it.
    pub invites_by_bot: usize,
    /// Bodies are encrypted: the count of messages the bot posted there.
    pub bot_messages: usize,
}

impl Synapse {
    /// Every room the bot has joined, with who created it, who else is in it, and what the bot did there.
    pub async fn bot_rooms(&self, admin_token: &str) -> Vec<BotRoom> {
        let http = reqwest::Client::new();
        let get = |path: String| {
            let http = http.clone();
            let url = format!("{}{path}", self.url);
            async move {
                let r = http.get(url).bearer_auth(admin_token).send().await.unwrap();
                r.json::<serde_json::Value>().await.unwrap()
            }
        };
        let rooms = get(format!("/_synapse/admin/v1/users/{BOT}/joined_rooms")).await;
        let mut out = Vec::new();
        for room in rooms["joined_rooms"].as_array().unwrap() {
            let id = room.as_str().unwrap().to_string();
            let events = get(format!("/_synapse/admin/v1/rooms/{id}/messages?dir=f&limit=1000")).await;
            let events = events["chunk"].as_array().unwrap().clone();
            let state = get(format!("/_synapse/admin/v1/rooms/{id}/state")).await;
            let state = state["state"].as_array().unwrap().clone();
            let creator =
                state.iter().find(|e| e["type"] == "m.room.create").map(|e| e["sender"].as_str().unwrap().to_string());
            let others = state
                .iter()
                .filter(|e| e["type"] == "m.room.member" && e["state_key"] != BOT)
                .map(|e| e["state_key"].as_str().unwrap().to_string())
                .collect();
            let invites_by_bot = events
                .iter()
                .filter(|e| {
                    e["type"] == "m.room.member" && e["sender"] == BOT && e["content"]["membership"] == "invite"
                })
                .count();
            let bot_messages = events
                .iter()
                .filter(|e| e["sender"] == BOT && (e["type"] == "m.room.encrypted" || e["type"] == "m.room.message"))
                .count();
            out.push(BotRoom { id, creator: creator.unwrap_or_default(), others, invites_by_bot, bot_messages });
        }
        out
    }
}
