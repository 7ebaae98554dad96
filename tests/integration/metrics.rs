//! `/metrics`: off by default, refused without its token, and after a sandbox conversation and a
//! broadcast it has every series operators watch, with counts only (no number, no text).

use crate::common;

use std::time::{Duration, Instant};

use common::TestApp;
use herold::config::GatewayKind;
use herold::domain::{OptInMode, Transport};
use herold::service::Actor;
use herold::service::event_hooks::NewWebhook;

const TOKEN: &str = "scrape-token-0123456789-abcdef";
const NUMBER: &str = "+4915112345678";

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut r = app.client().get(app.url("/metrics"));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

/// The value of the series `line` starts with (name and labels), if it is there.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_by_default() {
    let app = TestApp::spawn().await;
    let r = scrape(&app, Some(TOKEN)).await;
    assert_eq!(r.status(), 404);
    assert!(!r.text().await.unwrap().contains("herold_"), "nothing of the metrics on a 404");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_needs_the_token_and_then_shows_every_series_without_a_number_or_a_text() {
    let app = TestApp::spawn_with(|c| {
        c.metrics.enabled = true;
        c.metrics.token = Some(common::secret(TOKEN));
        c.admin.login_per_ip_per_minute = 1;
        // A gateway that is not running: its webhook and its route show up, by name only.
        c.sms.gateways.push(common::gateway(
            "phone",
            GatewayKind::Android,
            "http://127.0.0.1:9",
            "hookSecret0123456789",
        ));
    })
    .await;
    for token in [None, Some("wrong-token-0123456789-abcdef")] {
        let r = scrape(&app, token).await;
        assert_eq!(r.status(), 401, "{token:?}");
        assert!(r.headers().get("www-authenticate").is_some());
        assert!(!r.text().await.unwrap().contains("herold_"));
    }

    // A sandbox conversation (START → welcome), a broadcast, an outgoing webhook that fails, a
    // gateway webhook without its signature, a throttled login, a backup.
    let ch = app
        .service
        .create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sandbox]))
        .await
        .unwrap();
    let endpoint = format!("http://127.0.0.1:{}/in", common::kannel::free_port());
    let new = NewWebhook { url: endpoint, events: vec![herold::domain::event::EventKind::SubscriberConfirmed] };
    app.service.create_webhook(&Actor::Cli, new).await.unwrap();
    app.service.receive(common::sandbox_message(NUMBER, "START news")).await.unwrap();
    common::wait_until_sent(&app.service).await;
    let text = "Training fällt heute aus";
    app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, text, "k1")).await.unwrap();
    common::wait_until_sent(&app.service).await;
    let hook = app.client().post(app.url("/hooks/sms/phone/events")).body("{}").send().await.unwrap();
    assert!(hook.status().is_client_error(), "{}", hook.status());
    app.admin_client("owner", herold::domain::Role::Owner).await;
    let browser = app.client();
    for _ in 0..2 {
        let csrf = app.form_csrf(&browser, "/login").await;
        browser
            .post(app.url("/login"))
            .form(&[("csrf", csrf.as_str()), ("username", "nobody"), ("password", "wrong")])
            .send()
            .await
            .unwrap();
    }
    app.service.backup(&app.data_dir().join("manual.sqlite"), false).await.unwrap();

    let until = Instant::now() + Duration::from_secs(15);
    let body = loop {
        let r = scrape(&app, Some(TOKEN)).await;
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
        let body = r.text().await.unwrap();
        let done = value(&body, "herold_event_webhooks_total{result=\"failed\"}").is_some()
            && value(&body, "herold_route_up{transport=\"sms\",route=\"phone\"}").is_some();
        if done {
            break body;
        }
        assert!(Instant::now() < until, "the failed webhook and the gateway check never showed:\n{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let expect = [
        // The welcome reply and the broadcast.
        ("herold_deliveries_total{transport=\"sandbox\",result=\"sent\"}", 2.0),
        ("herold_reply_latency_seconds_count{transport=\"sandbox\"}", 1.0),
        ("herold_inbound_messages_total{transport=\"sandbox\",result=\"subscribed\"}", 1.0),
        ("herold_gateway_webhooks_total{gateway=\"phone\",result=\"refused\"}", 1.0),
        ("herold_outbox{transport=\"sandbox\",state=\"queued\"}", 0.0),
        ("herold_outbox{transport=\"sms\",state=\"leased\"}", 0.0),
        ("herold_route_up{transport=\"sms\",route=\"phone\"}", 0.0),
    ];
    for (series, want) in expect {
        assert_eq!(value(&body, series), Some(want), "{series} in:\n{body}");
    }
    assert!(value(&body, "herold_event_webhooks_total{result=\"failed\"}").unwrap() >= 1.0);
    // One login a minute: the owner's own used it, so both wrong tries were throttled.
    assert_eq!(value(&body, "herold_rate_limited_total{limit=\"login\"}"), Some(2.0), "{body}");
    let age = value(&body, "herold_backup_age_seconds").expect("the backup's age");
    assert!((0.0..60.0).contains(&age), "{age}");
    let latency = value(&body, "herold_reply_latency_seconds_sum{transport=\"sandbox\"}").unwrap();
    assert!(latency > 0.0 && latency < 10.0, "{latency}");
    assert!(body.contains("# TYPE herold_reply_latency_seconds histogram"));
    assert!(body.ends_with("# EOF\n"));
    for secret in [&NUMBER[1..], &NUMBER[3..], "15112345678", "Training", "nobody", TOKEN] {
        assert!(!body.contains(secret), "the scrape shows {secret:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_an_address_of_their_own_are_not_on_the_main_one() {
    let port = common::kannel::free_port();
    let app = TestApp::spawn_with(|c| {
        c.metrics.enabled = true;
        c.metrics.listen = Some(format!("127.0.0.1:{port}"));
    })
    .await;
    assert_eq!(scrape(&app, None).await.status(), 404);
    let r = app.client().get(format!("http://127.0.0.1:{port}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("herold_outbox{transport=\"sms\",state=\"queued\"} 0"), "{body}");
    let other = app.client().get(format!("http://127.0.0.1:{port}/login")).send().await.unwrap();
    assert_eq!(other.status(), 404, "only /metrics there");
}
