//! The real `herold` binary over a temporary data directory: key handling, verify, backup, key rotation,
//! configuration, schema checks, serve and healthcheck; and what the files on disk contain.

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{channel, data_files, files_contain, open_service, spellings, subscriber, test_numbers};
use herold::domain::Transport;

fn herold(dir: &Path) -> Command {
    let mut c = common::herold_command(dir);
    c.arg("--data-dir").arg(dir.join("data")).env("HEROLD_LOG", "warn");
    c
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run herold")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn snapshot(data: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != "herold.lock")
        .map(|e| (e.file_name().to_string_lossy().to_string(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn init_creates_a_private_key_file_and_refuses_a_readable_one() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(herold(dir.path()).arg("init"));
    assert!(o.status.success(), "{}", text(&o));
    let key = dir.path().join("data/master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(run(herold(dir.path()).args(["admin", "list"])).status.success());
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = run(herold(dir.path()).args(["admin", "list"]));
        assert!(!o.status.success());
        assert!(text(&o).contains("chmod 600"), "{}", text(&o));
    }
}

#[test]
fn a_wrong_master_key_refuses_to_start_and_changes_no_byte() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(herold(dir.path()).arg("init")).status.success());
    let mut add = herold(dir.path());
    add.args(["admin", "add", "anna", "--password-stdin"]).stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = add.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"a long enough password\n").unwrap();
    assert!(child.wait().unwrap().success());
    let before = snapshot(&dir.path().join("data"));
    // Every connection was closed before the command exited (the last one removes the logs).
    let logs: Vec<_> = before.iter().filter(|(name, _)| name.ends_with("-wal")).map(|(name, _)| name).collect();
    assert!(logs.is_empty(), "a command left write-ahead logs behind: {logs:?}");

    let wrong = "ab".repeat(32);
    for cmd in [vec!["admin", "list"], vec!["serve"], vec!["backup", "x.sqlite"]] {
        let o = run(herold(dir.path()).args(&cmd).env("HEROLD_MASTER_KEY", &wrong));
        assert!(!o.status.success(), "{cmd:?} started with a wrong key");
        assert!(text(&o).contains("master key is wrong"), "{}", text(&o));
    }
    // A wrong key file too.
    let other = dir.path().join("other.key");
    herold::crypto::MasterKey::generate().write_new_file(&other).unwrap();
    let o = run(herold(dir.path()).args(["admin", "list"]).env("HEROLD_KEY_FILE", &other));
    assert!(text(&o).contains("master key is wrong"));
    assert_eq!(snapshot(&dir.path().join("data")), before, "the data directory is byte-identical");
    assert!(!dir.path().join("x.sqlite").exists());
}

#[tokio::test]
async fn files_on_disk_hold_no_number_or_matrix_id_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let service = open_service(dir.path());
    let ch = channel(&service, "NEWS").await;
    let numbers = test_numbers(40);
    for n in &numbers {
        subscriber(&service, Transport::Sms, n, ch.id).await;
    }
    let mxids = ["@alice.example:matrix.example.org", "@bob-broadcast:example.net"];
    for m in mxids {
        subscriber(&service, Transport::Matrix, m, ch.id).await;
    }
    // Before any checkpoint the rows are in the WAL files: search those and the databases.
    let files = data_files(&dir.path().join("data"));
    assert!(std::fs::metadata(&files[1]).unwrap().len() > 0, "the WAL holds the new rows");
    for n in &numbers {
        for s in spellings(n) {
            assert!(!files_contain(&files, s.as_bytes()), "found {s} in clear");
        }
    }
    for m in mxids {
        assert!(
            !files_contain(&files, m.as_bytes())
                && !files_contain(&files, m[1..].split(':').next().unwrap().as_bytes())
        );
    }
    // Still findable through the blind index.
    assert!(service.find_subscriber(&numbers[7]).await.unwrap().is_some());
    assert!(service.find_subscriber(mxids[1]).await.unwrap().is_some());
    // And after a checkpoint, in the database files themselves.
    service.checkpoint().await.unwrap();
    for n in &numbers {
        assert!(!files_contain(&files, n.as_bytes()));
    }
    // A backup holds none either.
    let backup = dir.path().join("backup.sqlite");
    service.backup(&backup, false).await.unwrap();
    for n in &numbers {
        for s in spellings(n) {
            assert!(!files_contain(std::slice::from_ref(&backup), s.as_bytes()), "found {s} in the backup");
        }
    }
}

fn tamper(data: &Path, sql: &str) {
    let c = rusqlite::Connection::open(data.join("herold.sqlite")).unwrap();
    // An attacker with the file drops the append-only triggers first.
    c.execute_batch(
        "DROP TRIGGER consent_events_no_update; DROP TRIGGER consent_events_no_delete; \
         DROP TRIGGER channel_wordings_no_update; DROP TRIGGER audit_events_no_update; \
         DROP TRIGGER audit_events_no_delete;",
    )
    .unwrap();
    c.execute_batch(sql).unwrap();
}

#[tokio::test]
async fn verify_finds_edited_deleted_and_reordered_ledger_and_audit_rows() {
    let dir = tempfile::tempdir().unwrap();
    {
        let service = open_service(dir.path());
        let ch = channel(&service, "NEWS").await;
        for n in test_numbers(4) {
            subscriber(&service, Transport::Sms, &n, ch.id).await;
        }
        service.checkpoint().await.unwrap();
    }
    let o = run(herold(dir.path()).arg("verify"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("4 events, chain intact"), "{}", text(&o));
    // One channel created and four subscribers added: five audit entries.
    assert!(text(&o).contains("audit log: 5 entries, chain intact"), "{}", text(&o));

    let cases = [
        ("edited", "UPDATE consent_events SET actor = 'admin:1' WHERE id = 2"),
        ("edited kind", "UPDATE consent_events SET kind = 'optout' WHERE id = 3"),
        ("deleted", "DELETE FROM consent_events WHERE id = 2"),
        ("deleted last", "DELETE FROM consent_events WHERE id = 4"),
        (
            "inserted",
            "INSERT INTO consent_events SELECT id + 10, at, subscriber_id, channel_id, transport, kind, \
             gateway_message_id, inbound_sealed, wording_version, actor, hash FROM consent_events WHERE id = 4",
        ),
        ("wording edited", "UPDATE channel_wordings SET content = replace(content, 'NEWS', 'VIEWS')"),
        (
            "wording and its hash edited",
            "UPDATE channel_wordings SET content = replace(content, 'NEWS', 'VIEWS'), sha256 = zeroblob(32)",
        ),
        (
            "reordered",
            "UPDATE consent_events SET id = 100 WHERE id = 2; UPDATE consent_events SET id = 2 WHERE id = 3; UPDATE consent_events SET id = 3 WHERE id = 100;",
        ),
    ];
    let audit_cases = [
        ("audit detail edited", "UPDATE audit_events SET detail = '' WHERE id = 2"),
        ("audit actor edited", "UPDATE audit_events SET actor = 'admin:7', actor_name = 'mallory' WHERE id = 3"),
        ("audit entry deleted", "DELETE FROM audit_events WHERE id = 2"),
        ("last audit entry deleted", "DELETE FROM audit_events WHERE id = 5"),
    ];
    for (what, sql) in cases.into_iter().chain(audit_cases) {
        let copy = tempfile::tempdir().unwrap();
        std::fs::create_dir(copy.path().join("data")).unwrap();
        for f in ["herold.sqlite", "keyring.sqlite", "master.key"] {
            std::fs::copy(dir.path().join("data").join(f), copy.path().join("data").join(f)).unwrap();
        }
        tamper(&copy.path().join("data"), sql);
        let o = run(herold(copy.path()).arg("verify"));
        assert!(!o.status.success(), "verify missed a {what} row");
        assert!(text(&o).contains("BROKEN"), "{what}: {}", text(&o));
        if what.starts_with("audit") || what.contains("audit") {
            assert!(text(&o).contains("audit log: BROKEN"), "{what}: {}", text(&o));
            assert!(text(&o).contains("4 events, chain intact"), "only the audit log was touched: {}", text(&o));
        }
    }
}

#[tokio::test]
async fn backup_writes_both_files_online_and_they_open() {
    let dir = tempfile::tempdir().unwrap();
    let service = open_service(dir.path());
    let ch = channel(&service, "NEWS").await;
    let n = &test_numbers(1)[0];
    subscriber(&service, Transport::Sms, n, ch.id).await;
    // The binary backs up while the library still has the database open.
    let o = run(herold(dir.path()).args(["backup", "data.bak"]));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(herold(dir.path()).args(["backup", "--keyring", "keys.bak"]));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(herold(dir.path()).args(["backup", "data.bak"]));
    assert!(!o.status.success() && text(&o).contains("already exists"), "a backup never overwrites");
    let data = rusqlite::Connection::open(dir.path().join("data.bak")).unwrap();
    let count: i64 = data.query_row("SELECT count(*) FROM subscribers", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 1);
    let keys = rusqlite::Connection::open(dir.path().join("keys.bak")).unwrap();
    let count: i64 = keys.query_row("SELECT count(*) FROM data_keys", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 1);
    assert!(!files_contain(&[dir.path().join("data.bak"), dir.path().join("keys.bak")], n.as_bytes()));
}

#[tokio::test]
async fn rotate_key_rewraps_every_data_key() {
    let dir = tempfile::tempdir().unwrap();
    let numbers = test_numbers(5);
    {
        let service = open_service(dir.path());
        let ch = channel(&service, "NEWS").await;
        for n in &numbers {
            subscriber(&service, Transport::Sms, n, ch.id).await;
        }
    }
    let key_file = dir.path().join("data/master.key");
    let old = std::fs::read_to_string(&key_file).unwrap();
    let o = run(herold(dir.path()).arg("rotate-key"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("re-wrapped 5 data keys"), "{}", text(&o));
    let new = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(old, new);
    // The old key no longer opens the data; the new one does, and every address still opens.
    let o = run(herold(dir.path()).args(["admin", "list"]).env("HEROLD_MASTER_KEY", old.trim()));
    assert!(text(&o).contains("master key is wrong"));
    let service = open_service(dir.path());
    for n in &numbers {
        let id = service.find_subscriber(n).await.unwrap().expect("found through the blind index");
        let d = service.subscriber_detail(id).await.unwrap();
        assert!(d.summary.addresses[0].masked.starts_with("+49 15"), "address opens: {:?}", d.summary.addresses);
        assert_eq!(d.consent[0].inbound_text.as_deref(), Some("signed the list at the club house"));
    }
    assert!(run(herold(dir.path()).arg("verify")).status.success());
}

#[test]
fn configuration_precedence_is_file_then_env_then_flag() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("h.toml"), "listen = \"127.0.0.1:9001\"\n[sms]\ndefault_country = \"AT\"\n")
        .unwrap();
    let cfg = |extra: &[&str], env: Option<&str>| {
        let mut c = herold(dir.path());
        c.args(["--config", "h.toml"]).args(extra).arg("check-config");
        if let Some(v) = env {
            c.env("HEROLD_LISTEN", v);
        }
        text(&run(&mut c))
    };
    assert!(cfg(&[], None).contains("listen = \"127.0.0.1:9001\""));
    assert!(cfg(&[], None).contains("default_country = \"AT\""));
    assert!(cfg(&[], Some("127.0.0.1:9002")).contains("listen = \"127.0.0.1:9002\""));
    assert!(cfg(&["--listen", "127.0.0.1:9003"], Some("127.0.0.1:9002")).contains("listen = \"127.0.0.1:9003\""));
    // HEROLD_CONFIG names the file too.
    let o = run(herold(dir.path()).arg("check-config").env("HEROLD_CONFIG", "h.toml"));
    assert!(text(&o).contains("9001"));
}

#[test]
fn unknown_keys_and_missing_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("h.toml"), "listen = \"127.0.0.1:9001\"\nsesion_hours = 4\n").unwrap();
    let o = run(herold(dir.path()).args(["--config", "h.toml", "check-config"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("sesion_hours"), "{}", text(&o));
    let o = run(herold(dir.path()).arg("check-config").env("HEROLD_SMS__COUNTRY", "DE"));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("country"), "{}", text(&o));
    let o = run(herold(dir.path()).args(["--config", "nope.toml", "check-config"]));
    assert!(text(&o).contains("nope.toml") && !o.status.success());
    // A secret never prints.
    let o = run(herold(dir.path()).arg("check-config").env("HEROLD_PASSPHRASE", "correct horse battery staple"));
    assert!(o.status.success() && !text(&o).contains("horse"));
}

#[test]
fn a_schema_newer_than_the_binary_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(herold(dir.path()).arg("init")).status.success());
    let c = rusqlite::Connection::open(dir.path().join("data/herold.sqlite")).unwrap();
    c.pragma_update(None, "user_version", 99).unwrap();
    drop(c);
    let o = run(herold(dir.path()).args(["admin", "list"]));
    assert!(!o.status.success());
    assert!(text(&o).contains("schema version 99, newer than this herold"), "{}", text(&o));
}

#[test]
fn serve_prints_a_setup_link_answers_health_checks_and_locks_the_data() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut child =
        herold(dir.path()).args(["--listen", &listen]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let url = stdout.lines().map(|l| l.unwrap()).find(|l| l.contains("/setup?token=")).expect("a setup link");
    assert!(url.trim().starts_with(&format!("http://{listen}/setup?token=")));
    let o = run(herold(dir.path()).args(["--listen", &listen, "healthcheck"]));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(herold(dir.path()).arg("rotate-key"));
    assert!(!o.status.success() && text(&o).contains("another herold is using"), "{}", text(&o));
    child.kill().unwrap();
    child.wait().unwrap();
    let o = run(herold(dir.path()).args(["--listen", &listen, "healthcheck"]));
    assert!(!o.status.success());
}

/// The names and nice values of `herold serve`'s threads once its web server's workers run.
fn serve_threads() -> Vec<(String, i32)> {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = herold(dir.path())
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.lines().map(|l| l.unwrap()).find(|l| l.contains("/setup?token=")).expect("a setup link");
    let threads = || -> Vec<(String, i32)> {
        std::fs::read_dir(format!("/proc/{}/task", child.id()))
            .unwrap()
            .flatten()
            .filter_map(|t| {
                let stat = std::fs::read_to_string(t.path().join("stat")).ok()?;
                let (name, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
                // Field 19 of stat, the 17th after the name.
                Some((name.to_string(), rest.split(' ').nth(16)?.parse().ok()?))
            })
            .collect()
    };
    let mut seen = threads();
    for _ in 0..100 {
        if seen.iter().any(|(n, _)| n.starts_with("actix-server w")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        seen = threads();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    seen
}

#[test]
fn background_work_runs_at_a_lower_priority_than_the_web_server() {
    let threads = serve_threads();
    let nice = |prefix: &str| -> Vec<i32> {
        threads.iter().filter(|(n, _)| n.starts_with(prefix)).map(|(_, v)| *v).collect::<Vec<_>>()
    };
    let main = threads.iter().find(|(n, _)| n == "herold").expect("the main thread").1;
    let background = nice(herold::tuning::BACKGROUND_THREAD);
    assert!(!background.is_empty(), "no background threads in {threads:?}");
    let want = (main + herold::tuning::BACKGROUND_NICE).min(19);
    assert!(background.iter().all(|&v| v == want), "background threads: {threads:?}");
    for served in ["actix-server w", "herold-group-co"] {
        let v = nice(served);
        assert!(!v.is_empty() && v.iter().all(|&v| v == main), "{served} is not at herold's priority: {threads:?}");
    }
}

#[test]
fn admin_commands_manage_accounts() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(herold(dir.path()).arg("init")).status.success());
    let o = run(herold(dir.path()).args(["admin", "add", "olga", "--role", "owner"]));
    assert!(o.status.success());
    assert!(text(&o).contains("password: "), "a generated password is printed once");
    assert!(run(herold(dir.path()).args(["admin", "add", "paul", "--role", "viewer"])).status.success());
    let o = run(herold(dir.path()).args(["admin", "list"]));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "olga\towner\npaul\tviewer\n");
    let o = run(herold(dir.path()).args(["admin", "remove", "olga"]));
    assert!(!o.status.success() && text(&o).contains("last owner"), "{}", text(&o));
    assert!(run(herold(dir.path()).args(["admin", "remove", "paul"])).status.success());
    assert!(run(herold(dir.path()).args(["admin", "passwd", "olga"])).status.success());
    let o = run(herold(dir.path()).args(["admin", "passwd", "nobody"]));
    assert!(!o.status.success() && text(&o).contains("no such admin"));
}

#[test]
fn a_passphrase_can_be_the_master_key_and_can_be_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let pass = "correct horse battery staple";
    let o = run(herold(dir.path()).arg("init").env("HEROLD_PASSPHRASE", pass));
    assert!(o.status.success(), "{}", text(&o));
    assert!(!dir.path().join("data/master.key").exists(), "no key file with a passphrase");
    assert!(run(herold(dir.path()).args(["admin", "list"]).env("HEROLD_PASSPHRASE", pass)).status.success());
    let o = run(herold(dir.path()).args(["admin", "list"]).env("HEROLD_PASSPHRASE", "wrong horse battery staple"));
    assert!(text(&o).contains("master key is wrong"), "{}", text(&o));
    let o = run(herold(dir.path()).args(["admin", "list"]).env("HEROLD_PASSPHRASE", "short"));
    assert!(text(&o).contains("at least 12 characters"), "{}", text(&o));

    let new = "a completely new passphrase";
    let mut rotate = herold(dir.path());
    rotate.args(["rotate-key", "--new-passphrase-stdin"]).env("HEROLD_PASSPHRASE", pass).stdin(Stdio::piped());
    rotate.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = rotate.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(format!("{new}\n").as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(run(herold(dir.path()).args(["admin", "list"]).env("HEROLD_PASSPHRASE", new)).status.success());
    let o = run(herold(dir.path()).args(["admin", "list"]).env("HEROLD_PASSPHRASE", pass));
    assert!(text(&o).contains("master key is wrong"));
}

/// Kubernetes sets `HEROLD_PORT=tcp://…`, `HEROLD_SERVICE_HOST`, … for a Service named `herold`:
/// `herold serve` starts all the same (and says which variables it ignored); an unknown key in the
/// configuration file still stops it, by name.
#[tokio::test]
async fn variables_kubernetes_sets_do_not_stop_serve_but_an_unknown_file_key_does() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(herold(dir.path()).arg("init")).status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut serve = herold(dir.path())
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env("HEROLD_PORT", "tcp://10.96.0.12:8080")
        .env("HEROLD_PORT_8080_TCP", "tcp://10.96.0.12:8080")
        .env("HEROLD_SERVICE_HOST", "10.96.0.12")
        .env("HEROLD_SERVICE_PORT", "8080")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/healthz");
    let mut up = false;
    for _ in 0..100 {
        if reqwest::get(&url).await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    serve.kill().unwrap();
    let out = serve.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(up, "herold serve did not start beside the platform's variables: {err}");
    assert!(err.contains("ignoring HEROLD_PORT:") && err.contains("ignoring HEROLD_SERVICE_HOST:"), "{err}");
    assert!(!err.contains("10.96.0.12"), "values are not printed: {err}");

    std::fs::write(dir.path().join("bad.toml"), "lisen = \"127.0.0.1:9\"\n").unwrap();
    let o = run(herold(dir.path()).args(["--config", "bad.toml", "serve"]));
    assert!(!o.status.success());
    assert!(text(&o).contains("lisen"), "{}", text(&o));
}
