//! The broadcast API as another system uses it (a delay feed): tokens by scope, `Idempotency-Key`,
//! refusals with codes, and JSON errors for requests that cannot be read, against real SQLite and a
//! real Kannel with its fake SMSC.

use crate::common;

use std::time::{Duration, Instant};

use common::TestApp;
use common::kannel::{Kannel, free_port};
use herold::config::GatewayKind;
use herold::domain::{OptInMode, Transport};
use herold::service::{Actor, Scope};
use serde_json::{Value, json};

const PHONE: &str = "+4915112345670";

async fn token(app: &TestApp, scope: Scope) -> String {
    let owner =
        app.service.add_admin(&Actor::Cli, "owner", "owner-password-1".into(), herold::domain::Role::Owner).await;
    let id = match owner {
        Ok(a) => a.id,
        Err(_) => app.service.admin_by_name("owner").await.unwrap().id,
    };
    app.service.create_token(&Actor::Cli, id, scope.as_str(), scope).await.unwrap().1
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value, key: Option<&str>) -> (u16, Value) {
    let mut r = app.client().post(app.url(path)).bearer_auth(token).json(body);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let r = app.client().get(app.url(path)).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A delay notice posted twice with the same key (a retry after a timeout) reaches the Kannel phone
/// and the sandbox phone once, and the broadcast's report counts it per transport.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_posted_twice_with_one_key_reaches_sms_and_sandbox_once() {
    let sendsms = free_port();
    let app = TestApp::spawn_with(|c| {
        let mut g =
            common::gateway("kannel", GatewayKind::Kannel, &format!("http://127.0.0.1:{sendsms}"), "apiHook0123456789");
        g.sender = String::new();
        c.sms.gateways.push(g);
    })
    .await;
    let config = app.service.gateway_setup()[0].1.config();
    let kannel = Kannel::start(sendsms, &config[config.find("group = sms-service").unwrap()..]);
    let draft = common::draft("BAHN", OptInMode::Single, &[Transport::Sandbox, Transport::Sms]);
    let ch = app.service.create_channel(&Actor::Cli, draft).await.unwrap();
    common::subscriber(&app.service, Transport::Sms, PHONE, ch.id).await;
    common::subscriber(&app.service, Transport::Sandbox, "+4915112345671", ch.id).await;
    let phone = kannel.phone(PHONE, None);
    let send = token(&app, Scope::Send).await;

    let notice = json!({ "body": "RE 7: 20 Minuten Verspätung ab Köln Hbf", "channels": [ch.id.0] });
    let (status, first) = post(&app, &send, "/api/v1/broadcasts", &notice, Some("delay-0815")).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = post(&app, &send, "/api/v1/broadcasts", &notice, Some("delay-0815")).await;
    assert_eq!(status, 200, "a retry answers with the broadcast it made: {again}");
    assert_eq!(first["id"], again["id"]);
    let other = json!({ "body": "RE 7: 30 Minuten Verspätung", "channels": [ch.id.0] });
    let (status, e) = post(&app, &send, "/api/v1/broadcasts", &other, Some("delay-0815")).await;
    assert_eq!((status, e["error"]["code"].as_str()), (422, Some("idempotency-key-reused")), "{e}");
    let got = phone.wait_for(1);
    assert_eq!(got, ["RE 7: 20 Minuten Verspätung ab Köln Hbf"]);

    let id = first["id"].as_i64().unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    let report = loop {
        let (_, r) = get(&app, &send, &format!("/api/v1/broadcasts/{id}")).await;
        if r["state"] == "done" && r["counts"]["delivered"] == 1 {
            break r;
        }
        assert!(Instant::now() < until, "the broadcast did not finish: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!((report["counts"]["total"].as_i64(), report["counts"]["sent"].as_i64()), (Some(2), Some(2)), "{report}");
    assert_eq!(report["per_transport"]["sandbox"]["sent"], 1, "{report}");
    assert_eq!(report["per_transport"]["sms"]["delivered"], 1, "{report}");
    assert_eq!(app.service.broadcasts(10).await.unwrap().len(), 1, "one broadcast for two requests");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(phone.received().len(), 1, "the phone got it once");
    let (_, list) = get(&app, &send, "/api/v1/broadcasts").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

/// Scopes: read may read, send may also send (and never export or change subscribers), write may
/// all. Refusals are 422 with a code; a time with its offset is kept; pause, resume and cancel work,
/// and a second cancel is a conflict with its code.
#[tokio::test]
async fn send_scope_sends_and_nothing_more_and_refusals_have_codes() {
    let app = TestApp::spawn().await;
    let mut draft = common::draft("SKI", OptInMode::Single, &[Transport::Sandbox]);
    draft.frequency = Some(herold::domain::channel::Frequency { max: 1, period: herold::domain::FrequencyPeriod::Day });
    let ch = app.service.create_channel(&Actor::Cli, draft).await.unwrap();
    let sub = common::subscriber(&app.service, Transport::Sandbox, "+4915112345672", ch.id).await;
    let (read, send, write) =
        (token(&app, Scope::Read).await, token(&app, Scope::Send).await, token(&app, Scope::Write).await);
    let later =
        json!({ "body": "Lift 3 öffnet um 9:30", "channels": [ch.id.0], "send_at": "2030-01-05T09:00:00+01:00" });

    let (status, e) = post(&app, &read, "/api/v1/broadcasts", &later, None).await;
    assert_eq!((status, e["error"]["code"].as_str()), (403, Some("forbidden")), "{e}");
    let (status, b) = post(&app, &send, "/api/v1/broadcasts", &later, None).await;
    assert_eq!(status, 201, "{b}");
    assert_eq!((b["state"].as_str(), b["send_at"].as_str()), (Some("scheduled"), Some("2030-01-05T08:00:00Z")), "{b}");
    // The channel promised one a day: the second that day is refused, with its code.
    let (status, e) = post(&app, &send, "/api/v1/broadcasts", &later, None).await;
    assert_eq!((status, e["error"]["code"].as_str()), (422, Some("frequency-promise-reached")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("at most 1 per day"), "{e}");
    let (status, e) = post(&app, &send, "/api/v1/broadcasts", &json!({ "body": "x", "channels": [999] }), None).await;
    assert_eq!((status, e["error"]["code"].as_str()), (422, Some("channels-missing")), "{e}");
    let (status, e) =
        post(&app, &send, "/api/v1/broadcasts", &json!({ "body": " ", "channels": [ch.id.0] }), None).await;
    assert_eq!((status, e["error"]["code"].as_str()), (422, Some("message-empty")), "{e}");

    let id = b["id"].as_i64().unwrap();
    for (action, state) in [("pause", "paused"), ("resume", "scheduled"), ("cancel", "cancelled")] {
        let (status, r) = post(&app, &send, &format!("/api/v1/broadcasts/{id}/{action}"), &json!({}), None).await;
        assert_eq!((status, r["state"].as_str()), (200, Some(state)), "{action}: {r}");
    }
    let (status, e) = post(&app, &send, &format!("/api/v1/broadcasts/{id}/cancel"), &json!({}), None).await;
    assert_eq!((status, e["error"]["code"].as_str()), (409, Some("broadcast-state-change")), "{e}");
    let (status, e) = post(&app, &read, &format!("/api/v1/broadcasts/{id}/pause"), &json!({}), None).await;
    assert_eq!((status, e["error"]["code"].as_str()), (403, Some("forbidden")), "{e}");

    // A send token can neither export nor erase nor add subscribers; a write token can.
    let (status, _) = get(&app, &send, &format!("/api/v1/subscribers/{sub}/export")).await;
    assert_eq!(status, 403);
    let add = json!({ "transport": "sandbox", "address": "+4915112345673", "language": "de", "channels": [ch.id.0], "consent_note": "Liste" });
    assert_eq!(post(&app, &send, "/api/v1/subscribers", &add, None).await.0, 403);
    assert_eq!(post(&app, &write, "/api/v1/subscribers", &add, None).await.0, 201);
    // A channel that does not exist in a request body is a refusal (422), not a conflict.
    let add = json!({ "transport": "sandbox", "address": "+4915112345674", "language": "de", "channels": [999], "consent_note": "Liste" });
    let (status, e) = post(&app, &write, "/api/v1/subscribers", &add, None).await;
    assert_eq!((status, e["error"]["code"].as_str()), (422, Some("channel-missing")), "{e}");
    let (status, _) = get(&app, &write, &format!("/api/v1/subscribers/{sub}/export")).await;
    assert_eq!(status, 200);
}

/// Requests herold cannot read are answered in JSON with a code and the right status, and no answer
/// names a Rust type or the extractor that failed.
#[tokio::test]
async fn malformed_requests_get_json_errors_with_codes() {
    let app = TestApp::spawn().await;
    let write = token(&app, Scope::Write).await;
    let c = app.client();
    let body = |s: &'static str| {
        c.post(app.url("/api/v1/subscribers")).bearer_auth(&write).header("content-type", "application/json").body(s)
    };
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        ("cut-off JSON", body("{"), 400, "body-malformed"),
        ("a wrong type", body(r#"{"transport": "sms", "address": 5}"#), 422, "body-wrong-fields"),
        ("an unknown field", body(r#"{"nickname": "x"}"#), 422, "body-wrong-fields"),
        (
            "a text body",
            c.post(app.url("/api/v1/subscribers"))
                .bearer_auth(&write)
                .header("content-type", "text/plain")
                .body("hello"),
            415,
            "body-not-json",
        ),
        (
            "a body over the limit",
            c.post(app.url("/api/v1/subscribers"))
                .bearer_auth(&write)
                .header("content-type", "application/json")
                .body(format!("{{\"consent_note\": \"{}\"}}", "x".repeat(1024 * 1024))),
            413,
            "body-too-large",
        ),
        ("a path that is not an id", c.get(app.url("/api/v1/channels/abc")).bearer_auth(&write), 404, "not-found"),
        (
            "a query that is not a number",
            c.get(app.url("/api/v1/subscribers?limit=abc")).bearer_auth(&write),
            400,
            "query-malformed",
        ),
        ("no token", c.get(app.url("/api/v1/channels")), 401, "token-missing"),
    ];
    for (what, req, status, code) in cases {
        let r = req.send().await.unwrap();
        let got = r.status().as_u16();
        let json = r.headers()["content-type"].to_str().unwrap().starts_with("application/json");
        let text = r.text().await.unwrap();
        assert_eq!(got, status, "{what}: {text}");
        assert!(json, "{what}: {text}");
        let e: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: not JSON: {text}"));
        assert_eq!(e["error"]["code"], code, "{what}: {text}");
        for leak in ["struct", "i64", "serialize", "Json", "Query", "herold::"] {
            assert!(!text.contains(leak), "{what}: the answer names {leak:?}: {text}");
        }
    }
}

/// A member list through the API: the preview names the bad line by number and writes nothing; the
/// import adds the good rows; a newsletter posted through the API goes to them.
#[tokio::test]
async fn a_member_list_imported_through_the_api_gets_a_newsletter() {
    let app = TestApp::spawn().await;
    let ch = app
        .service
        .create_channel(&Actor::Cli, common::draft("CHOR", OptInMode::Single, &[Transport::Sandbox]))
        .await
        .unwrap();
    let (write, send) = (token(&app, Scope::Write).await, token(&app, Scope::Send).await);
    let list = json!({
        "channels": [ch.id.0],
        "csv": "Nummer,Sprache\n+4915112345680,de\nkaputt,de\n+4915112345681,en\n",
        "consent_source": "Chorprobe 1.12.2026, Liste am Eingang",
    });
    let (status, preview) = post(&app, &write, "/api/v1/import/preview", &list, None).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!((preview["new"].as_i64(), preview["committed"].as_bool()), (Some(2), Some(false)), "{preview}");
    assert_eq!(preview["errors"][0]["line"], 3, "{preview}");
    assert_eq!(preview["errors"][0]["problem"]["code"], "phone-not-a-number", "{preview}");
    assert_eq!(app.service.list_subscribers(Default::default(), 10, 0).await.unwrap().1, 0, "a preview writes nothing");
    assert_eq!(post(&app, &send, "/api/v1/import", &list, None).await.0, 403, "sending is not importing");
    let (status, done) = post(&app, &write, "/api/v1/import", &list, None).await;
    assert_eq!(
        (status, done["committed"].as_bool(), done["subscriptions"].as_i64()),
        (200, Some(true), Some(2)),
        "{done}"
    );

    let letter = json!({ "kind": "newsletter", "title": "Adventskonzert", "body": "Wir singen am **3. Advent**.", "channels": [ch.id.0] });
    let (status, b) = post(&app, &send, "/api/v1/broadcasts", &letter, None).await;
    assert_eq!((status, b["kind"].as_str(), b["counts"]["total"].as_i64()), (201, Some("newsletter"), Some(2)), "{b}");
}

/// A broadcast in two languages: German subscribers get the German text, English ones the English
/// text, by SMS through a real Kannel and on sandbox phones; the broadcast's report shows both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_subscriber_gets_the_broadcast_in_their_language() {
    let sendsms = free_port();
    let app = TestApp::spawn_with(|c| {
        let mut g = common::gateway(
            "kannel",
            GatewayKind::Kannel,
            &format!("http://127.0.0.1:{sendsms}"),
            "langHook0123456789",
        );
        g.sender = String::new();
        c.sms.gateways.push(g);
    })
    .await;
    let config = app.service.gateway_setup()[0].1.config();
    let kannel = Kannel::start(sendsms, &config[config.find("group = sms-service").unwrap()..]);
    let draft = common::draft("VEREIN", OptInMode::Single, &[Transport::Sandbox, Transport::Sms]);
    let ch = app.service.create_channel(&Actor::Cli, draft).await.unwrap();
    let (de_sms, en_sms) = ("+4915112345680", "+4915112345681");
    let (de_box, en_box) = ("+4915112345682", "+4915112345683");
    for (t, n, lang) in [
        (Transport::Sms, de_sms, "de"),
        (Transport::Sms, en_sms, "en"),
        (Transport::Sandbox, de_box, "de"),
        (Transport::Sandbox, en_box, "en"),
    ] {
        let id = common::subscriber(&app.service, t, n, ch.id).await;
        app.service.set_subscriber_language(&Actor::Cli, id, lang).await.unwrap();
    }
    let phone = kannel.phone(de_sms, None); // it receives for every number
    let send = token(&app, Scope::Send).await;
    let notice = json!({ "body": "Das Training fällt heute aus.", "channels": [ch.id.0],
        "translation": { "lang": "en", "body": "No training today." } });
    let (status, b) = post(&app, &send, "/api/v1/broadcasts", &notice, None).await;
    assert_eq!(status, 201, "{b}");
    phone.wait_for(2);
    assert_eq!(phone.received_by(de_sms), ["Das Training fällt heute aus."]);
    assert_eq!(phone.received_by(en_sms), ["No training today."]);
    let screen = |n: &'static str| {
        let s = app.service.clone();
        async move {
            let id = s.find_subscriber(n).await.unwrap().unwrap();
            s.sandbox_screen(id).await.unwrap().into_iter().filter(|l| !l.inbound).map(|l| l.text).collect::<Vec<_>>()
        }
    };
    let until = Instant::now() + Duration::from_secs(20);
    while screen(en_box).await.is_empty() || screen(de_box).await.is_empty() {
        assert!(Instant::now() < until, "the sandbox phones got nothing");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(screen(de_box).await, ["Das Training fällt heute aus."]);
    assert_eq!(screen(en_box).await, ["No training today."]);
    let bad = json!({ "body": "x", "channels": [ch.id.0], "translation": { "lang": "fr", "body": "y" } });
    assert_eq!(post(&app, &send, "/api/v1/broadcasts", &bad, None).await.0, 422, "a language herold does not speak");
}
