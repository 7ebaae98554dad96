//! The real binary at TRACE through a whole flow (admin UI, sandbox phone, an SMS gateway's webhooks
//! and sends, a Matrix id, export, erasure, a failed login): the log holds none of the numbers,
//! Matrix ids, message texts or secrets.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::kannel::free_port;
use common::{csrf_in, spellings, test_numbers};

const HOOK_SECRET: &str = "logTestHookSecret0123456789";
const PASSWORD: &str = "olga-very-secret-password";
const TEXTS: [&str; 4] =
    ["Geheime Probe am Donnerstag", "eine private Frage an euch", "Treffpunkt Bahnhof", "hunter2-wrong"];
const MATRIX_ID: &str = "@tester.log:example.org";

/// A loopback HTTP endpoint that accepts every request like Kannel's sendsms (the log test needs a
/// gateway that answers; what it receives is not the point here). Returns the requests' first lines.
fn sink() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut first = String::new();
            r.read_line(&mut first).unwrap_or(0);
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            log.lock().unwrap().push(first);
            let body = "0: Accepted for delivery";
            let _ =
                write!(s, "HTTP/1.1 202 Accepted\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    (port, seen)
}

#[tokio::test]
async fn a_whole_flow_at_trace_logs_no_address_text_or_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (sink_port, sent) = sink();
    let port = free_port();
    let config = format!(
        "listen = \"127.0.0.1:{port}\"\nlog = \"trace\"\n[[sms.gateways]]\nname = \"k\"\nkind = \"kannel\"\n\
         url = \"http://127.0.0.1:{sink_port}\"\nusername = \"herold\"\npassword = \"sendsmsPassword123\"\n\
         webhook_secret = \"{HOOK_SECRET}\"\n"
    );
    std::fs::write(dir.path().join("herold.toml"), config).unwrap();
    let herold = |args: &[&str]| {
        let mut c = common::herold_command(dir.path());
        c.arg("--data-dir").arg(dir.path().join("data")).args(args);
        c
    };
    assert!(herold(&["init"]).stdout(Stdio::null()).status().unwrap().success());
    let mut add = herold(&["admin", "add", "olga", "--role", "owner", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let mut early_log = String::new();
    add.stderr.take().unwrap().read_to_string(&mut early_log).unwrap();
    assert!(add.wait().unwrap().success(), "{early_log}");
    let mut server = herold(&["serve"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = server.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        BufReader::new(stderr).read_to_string(&mut s).unwrap();
        s
    });
    let base = format!("http://127.0.0.1:{port}");
    common::kannel::wait_for_port(port, "herold");

    let [a, b]: [String; 2] = test_numbers(2).try_into().unwrap();
    let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = |p: &str| {
        let c = c.clone();
        let url = format!("{base}{p}");
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    // A failed login (the wrong password is a secret too), then the right one.
    for pw in [TEXTS[3], PASSWORD] {
        let csrf = csrf_in(&page("/login").await).unwrap();
        let form = [("csrf", csrf.as_str()), ("username", "olga"), ("password", pw)];
        c.post(format!("{base}/login")).form(&form).send().await.unwrap();
    }
    let csrf = csrf_in(&page("/account").await).expect("logged in");
    let post = |p: &str, form: Vec<(&str, &str)>| {
        let c = c.clone();
        let url = format!("{base}{p}");
        let mut form: Vec<(String, String)> = form.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        form.push(("csrf".into(), csrf.clone()));
        async move { c.post(url).form(&form).send().await.unwrap().status().as_u16() }
    };
    let channel = vec![
        ("name", "News"),
        ("keyword", "news"),
        ("kind", "broadcast"),
        ("opt_in", "double"),
        ("t_sandbox", "on"),
        ("t_sms", "on"),
        ("t_matrix", "on"),
    ];
    assert_eq!(post("/channels", channel).await, 303);

    // A on the sandbox phone, B through the gateway's webhook.
    for text in ["START news", "JA"] {
        assert_eq!(post("/sandbox", vec![("number", a.as_str()), ("text", text)]).await, 303);
    }
    let http = reqwest::Client::new();
    for (i, text) in ["START news", "JA", "MYDATA", TEXTS[1], "STOP"].iter().enumerate() {
        let r = http
            .post(format!("{base}/hooks/sms/k/inbound?id=log-{i}"))
            .basic_auth("kannel", Some(HOOK_SECRET))
            .header("X-Kannel-From", b.as_str())
            .body(text.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{text}");
        if i == 1 {
            let b2 = vec![("body", TEXTS[0]), ("channel", "1"), ("kind", "broadcast"), ("idempotency_key", "log-1")];
            assert_eq!(post("/broadcasts", b2).await, 303);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    // A Matrix id, added by hand and searched for.
    let add = vec![
        ("transport", "matrix"),
        ("address", MATRIX_ID),
        ("language", "en"),
        ("channel", "1"),
        ("consent_note", TEXTS[2]),
    ];
    assert_eq!(post("/subscribers", add).await, 303);
    assert_eq!(post("/subscribers/search", vec![("q", MATRIX_ID)]).await, 303);
    assert_eq!(post("/subscribers/search", vec![("q", a.as_str())]).await, 303);
    // A is exported, then erases itself by message.
    let list = page("/subscribers").await;
    let id = list.split("/subscribers/").filter_map(|s| s.get(..16)).find(|s| s.chars().all(|c| c.is_ascii_hexdigit()));
    let export = page(&format!("/subscribers/{}/export", id.unwrap())).await;
    assert!(export.contains("Everything stored"));
    for text in ["LÖSCHEN", "JA"] {
        assert_eq!(post("/sandbox", vec![("number", a.as_str()), ("text", text)]).await, 303);
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(sent.lock().unwrap().iter().any(|l| l.contains("/cgi-bin/sendsms?")), "the gateway was used");

    let _ = Command::new("kill").arg("-TERM").arg(server.id().to_string()).status();
    let _ = server.wait();
    let log = format!("{early_log}{}", log.join().unwrap());
    if let Ok(p) = std::env::var("TRACE_LOG_DUMP") {
        std::fs::write(p, &log).unwrap();
    }
    assert!(log.lines().count() > 300, "a TRACE run logs a lot; got {} lines", log.lines().count());
    assert!(log.contains("TRACE") && log.contains("inbound message handled") && log.contains("erased"));
    let mut secrets: Vec<String> = [&a, &b].iter().flat_map(|n| spellings(n)).collect();
    secrets.extend([MATRIX_ID.into(), MATRIX_ID[1..].into(), "tester.log".into(), HOOK_SECRET.into()]);
    secrets.extend([PASSWORD.into(), "sendsmsPassword123".into()]);
    secrets.extend(TEXTS.iter().map(|t| t.to_string()));
    secrets.extend(["Geheime".into(), "private Frage".into()]);
    for s in &secrets {
        if let Some(line) = log.lines().find(|l| l.contains(s.as_str())) {
            panic!("the log holds {s:?}:\n{line}");
        }
    }
}
