//! Security properties not covered by the route table test (`tests/integration/web.rs`): an unknown user name costs
//! the same as a wrong password, logins never redirect elsewhere, and CR/LF in a path cannot reach a
//! response header.

use crate::common;

use std::time::Instant;

use common::TestApp;
use herold::domain::Role;

async fn login_ms(app: &TestApp, c: &reqwest::Client, user: &str, pw: &str) -> f64 {
    let csrf = app.form_csrf(c, "/login").await;
    let t = Instant::now();
    let r = c
        .post(app.url("/login?next=https://evil.example/"))
        .form(&[("csrf", csrf.as_str()), ("username", user), ("password", pw)])
        .send()
        .await
        .unwrap();
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(r.status(), 401, "{user}: refused");
    ms
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Both refusals run one argon2id verification: the medians of 15 tries each stay within a factor of
/// two (without the dummy verification an unknown name answers about a hundred times faster).
#[tokio::test]
async fn an_unknown_user_takes_as_long_as_a_wrong_password() {
    let app = TestApp::spawn_with(|c| {
        c.admin.login_per_ip_per_minute = 1_000;
        c.admin.login_per_account_per_hour = 1_000;
    })
    .await;
    app.service.add_admin(&herold::service::Actor::Cli, "anna", "anna-password-123".into(), Role::Owner).await.unwrap();
    let c = app.client();
    let (mut unknown, mut wrong) = (vec![], vec![]);
    for i in 0..15 {
        unknown.push(login_ms(&app, &c, &format!("nobody{i}"), "whatever-password").await);
        wrong.push(login_ms(&app, &c, "anna", "wrong-password-1").await);
    }
    let (u, w) = (median(unknown), median(wrong));
    println!("login refused: unknown user {u:.1} ms, wrong password {w:.1} ms (medians of 15)");
    assert!(u > w / 2.0 && u < w * 2.0, "unknown {u:.1} ms against wrong password {w:.1} ms");
}

/// A successful login always lands on `/`, whatever the request asks for.
#[tokio::test]
async fn a_login_never_redirects_to_another_site() {
    let app = TestApp::spawn().await;
    app.service.add_admin(&herold::service::Actor::Cli, "anna", "anna-password-123".into(), Role::Owner).await.unwrap();
    let c = app.client();
    for target in ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"] {
        let csrf = app.form_csrf(&c, "/login").await;
        let r = c
            .post(app.url(&format!("/login?next={target}&return_to={target}")))
            .form(&[("csrf", csrf.as_str()), ("username", "anna"), ("password", "anna-password-123")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/", "{target}");
    }
}

/// CR/LF smuggled into a path (where a value could end up in a header such as Content-Disposition)
/// is refused and adds no header.
#[tokio::test]
async fn crlf_in_a_path_reaches_no_header() {
    let app = TestApp::spawn().await;
    let draft = common::draft("NEWS", herold::domain::OptInMode::Single, &[herold::domain::Transport::Sms]);
    app.service.create_channel(&herold::service::Actor::Cli, draft).await.unwrap();
    let (c, _) = app.admin_client("ed", Role::Editor).await;
    for path in [
        "/join/news%0d%0aSet-Cookie:%20evil=1/sms.svg",
        "/join/news/sms.svg%0d%0aSet-Cookie:%20evil=1",
        "/subscribers/1%0d%0aSet-Cookie:%20evil=1/export.json",
        "/n/news%0d%0aLocation:%20https://evil.example",
    ] {
        let r = c.get(app.url(path)).send().await.unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        assert!(r.headers().get_all("set-cookie").iter().all(|v| !v.to_str().unwrap_or("").contains("evil")));
        assert!(r.headers().get("location").is_none(), "{path}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("Set-Cookie: evil"), "{path}: the answer does not echo it");
    }
}
