//! Storage faults: a full disk (a real 4 MB tmpfs under the data directory) makes webhooks answer 503,
//! keeps every answered message and nothing half-written, and work resumes when space returns; a
//! damaged database file is refused at start, before anything is sent.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::TestApp;

const SECRET: &str = "faultHookSecret0123456789";

/// A small tmpfs, unmounted when dropped. Mounting needs root (CI runs as root; so do the peers).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &std::path::Path, size: &str) -> Self {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mounting a tmpfs for the full-disk test needs root");
        Self(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system holding `dir` to the last byte.
fn fill(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let small = [0u8; 512];
    while f.write_all(&small).is_ok() {}
    let _ = f.sync_all();
    path
}

#[tokio::test]
async fn a_full_disk_answers_503_loses_nothing_and_work_resumes_with_space() {
    let root = tempfile::tempdir().unwrap();
    let mnt = root.path().join("disk");
    let _tmpfs = Tmpfs::mount(&mnt, "4m");
    let app = TestApp::spawn_with(|c| {
        c.data_dir = mnt.join("data");
        let kind = herold::config::GatewayKind::Kannel;
        c.sms.gateways.push(common::gateway("k", kind, "http://127.0.0.1:9", SECRET));
    })
    .await;
    let draft = common::draft("NEWS", herold::domain::OptInMode::Single, &[herold::domain::Transport::Sms]);
    let ch = app.service.create_channel(&herold::service::Actor::Cli, draft).await.unwrap();
    let http = reqwest::Client::new();
    let opt_in = |i: u32| {
        http.post(app.url(&format!("/hooks/sms/k/inbound?id=m{i}")))
            .basic_auth("kannel", Some(SECRET))
            .header("X-Kannel-From", format!("+49151{:08}", 20_000_000 + i))
            .body("START NEWS")
            .send()
    };
    assert_eq!(opt_in(0).await.unwrap().status(), 200);
    let filler = fill(&mnt);

    // Opt-ins until one cannot be stored (SQLite reuses free WAL space first).
    let mut answered = 1;
    let mut refused = None;
    for i in 1..2_000 {
        let r = opt_in(i).await.unwrap();
        match r.status().as_u16() {
            200 => answered += 1,
            503 => {
                let body = r.text().await.unwrap();
                assert!(!body.contains("+49151"), "the answer names no number: {body}");
                refused = Some(i);
                break;
            }
            s => panic!("webhook answered {s}"),
        }
    }
    let refused = refused.expect("a full disk refuses a webhook");
    let active = |counts: Vec<herold::service::channels::ChannelCounts>| {
        counts.iter().find(|c| c.channel.id == ch.id).map(|c| c.active_total).unwrap_or(0)
    };
    // Reading still works, every answered opt-in is stored, the refused one is not.
    assert_eq!(active(app.service.channel_counts().await.unwrap()), answered);

    // Space returns: the gateway's retry of the refused message is stored once, and new ones work.
    std::fs::remove_file(filler).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(opt_in(refused).await.unwrap().status(), 200);
    assert_eq!(opt_in(refused).await.unwrap().status(), 200, "a repeat of the same message");
    assert_eq!(opt_in(refused + 1).await.unwrap().status(), 200);
    assert_eq!(active(app.service.channel_counts().await.unwrap()), answered + 2);
    let report = herold::service::ops::verify(&herold::store::DataPaths::new(&mnt.join("data"), None)).unwrap();
    assert!(report.ok(), "{report:?}");
}

#[test]
fn a_damaged_database_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let s = common::open_service(dir.path());
        let ch = common::channel(&s, "NEWS").await;
        for (i, n) in common::test_numbers(300).iter().enumerate() {
            let t = if i % 2 == 0 { herold::domain::Transport::Sms } else { herold::domain::Transport::Sandbox };
            common::subscriber(&s, t, n, ch.id).await;
        }
        s.checkpoint().await.unwrap();
    });
    let db = dir.path().join("data/herold.sqlite");
    // The root pages of the address and subscription tables get an impossible b-tree page type.
    let roots: Vec<i64> = {
        let c = rusqlite::Connection::open(&db).unwrap();
        let mut st = c
            .prepare("SELECT rootpage FROM sqlite_master WHERE name IN ('addresses', 'subscriptions') ORDER BY 1")
            .unwrap();
        st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(roots.len(), 2);
    let mut bytes = std::fs::read(&db).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    for root in roots {
        let at = (root as usize - 1) * page;
        bytes[at] = 0x7f;
        bytes[at + 1..at + 64].fill(0xA5);
    }
    std::fs::write(&db, bytes).unwrap();
    // Without the harness's own HEROLD_* variables (HEROLD_FUZZ_SECONDS and the like are no setting).
    let mut child = common::herold_command(dir.path())
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--listen", "127.0.0.1:0", "serve"])
        .env("HEROLD_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("herold kept running on a damaged database");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "herold must not start on a damaged database: {err}");
    assert!(err.contains("damaged") || err.contains("malformed"), "a clear reason: {err}");
    println!("herold on a damaged database: {}", err.trim());
    assert!(!err.contains("+4915"), "no number in the message");
}
