//! SMS Gateway for Android and Twilio, which cannot run here: each test runs a local HTTP server that
//! implements the provider's documented send API and sends herold webhooks signed as the provider
//! documents them. Reproduced fields are listed at each mock. Forged, replayed and oversized webhooks
//! are refused and store nothing.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use common::TestApp;
use herold::config::GatewayKind;
use herold::domain::{OptInMode, Reason, Transport};
use herold::service::Actor;
use hmac::{Hmac, Mac};

const PHONE: &str = "+4915112345678";
const BLOCKED: &str = "+4915187654321";
const KEY: &str = "androidSigningKey0123456789";

/// What the mock gateway was asked and answered: (path, Authorization header, body, answer).
pub(crate) type Seen = Arc<Mutex<Vec<(String, String, String, serde_json::Value)>>>;

/// Starts a mock provider on a free loopback port; `answer` maps (path, body) to (status, JSON).
pub(crate) fn mock(answer: fn(&str, &str) -> (u16, serde_json::Value)) -> (String, Seen) {
    mock_at("127.0.0.1:0", answer)
}

/// The same on a given address (a gateway that comes up late).
fn mock_at(addr: &str, answer: fn(&str, &str) -> (u16, serde_json::Value)) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let server = HttpServer::new(move || {
        let log = log.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let log = log.clone();
            async move {
                let body = String::from_utf8_lossy(&body).to_string();
                let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let (status, json) = answer(req.path(), &body);
                log.lock().unwrap().push((req.path().to_string(), auth, body, json.clone()));
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(json)
            }
        }))
    })
    .workers(1)
    .bind(addr)
    .unwrap();
    let url = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    (url, seen)
}

async fn wait_for(seen: &Seen, path_part: &str, n: usize) -> Vec<String> {
    for _ in 0..300 {
        let bodies: Vec<String> =
            seen.lock().unwrap().iter().filter(|(p, ..)| p.contains(path_part)).map(|(_, _, b, _)| b.clone()).collect();
        if bodies.len() >= n {
            return bodies;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gateway did not get {n} requests to {path_part}: {:?}", seen.lock().unwrap());
}

/// Signs like the Android app: hex HMAC-SHA256 over the raw body followed by X-Timestamp.
fn android_signature(body: &[u8], ts: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(body);
    mac.update(ts.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn android_hook(app: &TestApp, body: &serde_json::Value, ts: i64, sig: Option<&str>) -> u16 {
    let raw = serde_json::to_vec(body).unwrap();
    let ts = ts.to_string();
    let sig = sig.map(str::to_string).unwrap_or_else(|| android_signature(&raw, &ts));
    let r = reqwest::Client::new()
        .post(app.url("/hooks/sms/phone/events"))
        .header("content-type", "application/json")
        .header("X-Timestamp", ts)
        .header("X-Signature", sig)
        .body(raw)
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

/// The envelope of the app's webhooks (docs: deviceId, event, id, webhookId, payload).
fn envelope(event: &str, payload: serde_json::Value) -> serde_json::Value {
    serde_json::json!({ "deviceId": "dev1", "event": event, "id": "d1", "webhookId": "w1", "payload": payload })
}

fn received(id: &str, text: &str) -> serde_json::Value {
    envelope(
        "sms:received",
        serde_json::json!({ "messageId": id, "message": text, "sender": PHONE, "recipient": null, "simNumber": 1,
                             "receivedAt": "2026-11-23T15:46:11.000+01:00" }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn android_gateway_sends_receives_signed_webhooks_and_refuses_forged_replayed_and_oversized_ones() {
    // POST /messages answers 202 with the message state (docs: id, deviceId, state, recipients);
    // POST /webhooks answers 201 with the registration.
    let (url, seen) = mock(|path, body| match path {
        "/messages" => {
            let b: serde_json::Value = serde_json::from_str(body).unwrap();
            let id = b["id"].as_str().unwrap().to_string();
            (
                202,
                serde_json::json!({ "id": id, "deviceId": "dev1", "state": "Pending",
                                      "recipients": [{ "phoneNumber": b["phoneNumbers"][0], "state": "Pending" }] }),
            )
        }
        "/webhooks" => (201, serde_json::json!({ "id": "w1" })),
        _ => (404, serde_json::json!({})),
    });
    let app = TestApp::spawn_with(|c| {
        let mut g = common::gateway("phone", GatewayKind::Android, &url, KEY);
        g.sim_number = Some(2);
        c.sms.gateways.push(g);
    })
    .await;
    let ch = app
        .service
        .create_channel(&herold::service::Actor::Cli, common::draft("NEWS", OptInMode::Double, &[Transport::Sms]))
        .await
        .unwrap();

    // herold registers its four webhooks on the phone at start, with Basic credentials.
    let hooks = wait_for(&seen, "/webhooks", 4).await;
    for event in ["sms:received", "sms:sent", "sms:delivered", "sms:failed"] {
        assert!(hooks.iter().any(|h| h.contains(event) && h.contains("/hooks/sms/phone/events")), "{event}: {hooks:?}");
    }
    assert!(seen.lock().unwrap().iter().all(|(_, auth, ..)| auth.starts_with("Basic ")));

    let now = app.service.now();
    // Forged, replayed (outside the 5-minute window) and oversized: refused, nothing stored.
    assert_eq!(android_hook(&app, &received("m1", "START NEWS"), now, Some(&"0".repeat(64))).await, 401);
    assert_eq!(android_hook(&app, &received("m1", "START NEWS"), now - 3600, None).await, 401);
    let huge = received("m1", &"x".repeat(70_000));
    assert_eq!(android_hook(&app, &huge, now, None).await, 413);
    assert_eq!(app.service.list_subscribers(Default::default(), 10, 0).await.unwrap().1, 0, "nothing stored");

    // START → the confirmation request goes out through POST /messages; the same webhook again
    // (the app retries) changes nothing.
    assert_eq!(android_hook(&app, &received("m1", "START NEWS"), now, None).await, 200);
    assert_eq!(android_hook(&app, &received("m1", "START NEWS"), now, None).await, 200);
    let sent = wait_for(&seen, "/messages", 1).await;
    let first: serde_json::Value = serde_json::from_str(&sent[0]).unwrap();
    assert_eq!(first["phoneNumbers"][0], PHONE);
    assert_eq!(first["withDeliveryReport"], true);
    assert_eq!(first["simNumber"], 2, "sent from the SIM configured");
    assert!(first["textMessage"]["text"].as_str().unwrap().contains("JA"));
    assert_eq!(android_hook(&app, &received("m2", "JA"), now, None).await, 200);
    wait_for(&seen, "/messages", 2).await;
    let sub = app.service.find_subscriber(PHONE).await.unwrap().unwrap();
    let detail = app.service.subscriber_detail(sub).await.unwrap();
    let kinds: Vec<&str> = detail.consent.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["optin_requested", "optin_confirmed"], "one event per message, none for the retry");

    // A broadcast goes out; the phone's sms:delivered webhook counts it.
    let (b, _) = app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, "Probe", "a1")).await.unwrap();
    let sent = wait_for(&seen, "/messages", 3).await;
    let msg: serde_json::Value = serde_json::from_str(&sent[2]).unwrap();
    assert_eq!(msg["textMessage"]["text"], "Probe");
    let id = msg["id"].as_str().unwrap();
    let delivered = envelope(
        "sms:delivered",
        serde_json::json!({ "messageId": id, "phoneNumber": PHONE,
                                                                  "deliveredAt": "2026-11-23T15:47:00.000+01:00" }),
    );
    for _ in 0..2 {
        // One webhook per part; a second one is no second delivery.
        assert_eq!(android_hook(&app, &delivered, now, None).await, 200);
    }
    let b = wait_counted(&app, b.id).await;
    assert_eq!((b.sent, b.delivered), (1, 1));
}

async fn wait_counted(app: &TestApp, id: herold::domain::BroadcastId) -> herold::service::Broadcast {
    for _ in 0..200 {
        let b = app.service.broadcast(id).await.unwrap();
        if b.state == herold::domain::BroadcastState::Done && b.delivered > 0 {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("broadcast {id} was not counted as delivered")
}

async fn twilio_hook(app: &TestApp, endpoint: &str, form: &[(&str, &str)], token: &str) -> reqwest::Response {
    let url = app.url(&format!("/hooks/sms/twilio/{endpoint}"));
    let params: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let sig = herold::transport::sms::twilio::signature(token, &url, &params);
    reqwest::Client::new().post(&url).header("X-Twilio-Signature", sig).form(form).send().await.unwrap()
}

/// Twilio's send API: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form To/From/Body/
/// StatusCallback, answers 201 with sid, status, num_segments; a number that opted out with Twilio
/// gets 400 with code 21610.
fn twilio_api(path: &str, body: &str) -> (u16, serde_json::Value) {
    if !path.ends_with("/Messages.json") {
        return (404, serde_json::json!({}));
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap();
    let to = form.iter().find(|(k, _)| k == "To").map(|(_, v)| v.as_str()).unwrap_or("");
    if to == BLOCKED {
        return (
            400,
            serde_json::json!({ "code": 21610, "message": "Attempt to send to unsubscribed recipient",
                                         "status": 400 }),
        );
    }
    let sid = format!("SM{:032x}", rand::random::<u128>());
    (201, serde_json::json!({ "sid": sid, "status": "queued", "num_segments": "1" }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_style_provider_sends_with_status_callbacks_verifies_signatures_and_21610_opts_out() {
    let (url, seen) = mock(twilio_api);
    // For Twilio the password is the Auth Token, which also signs the webhooks.
    let app =
        TestApp::spawn_with(|c| c.sms.gateways.push(common::gateway("twilio", GatewayKind::Twilio, &url, KEY))).await;
    let token = "s3cret";
    let ch = app
        .service
        .create_channel(&herold::service::Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sms]))
        .await
        .unwrap();

    // A forged signature, and a valid one over other parameters than the ones sent: refused.
    let inbound = [
        ("MessageSid", "SM1"),
        ("AccountSid", "broadcaster"),
        ("From", PHONE),
        ("To", "+4930123456"),
        ("Body", "START NEWS"),
        ("NumMedia", "0"),
    ];
    assert_eq!(twilio_hook(&app, "inbound", &inbound, "not-the-token").await.status(), 401);
    let url_in = app.url("/hooks/sms/twilio/inbound");
    let signed_other = herold::transport::sms::twilio::signature(token, &url_in, &[("Body".into(), "HELP".into())]);
    let r = reqwest::Client::new().post(&url_in).header("X-Twilio-Signature", signed_other).form(&inbound).send();
    assert_eq!(r.await.unwrap().status(), 401);
    assert_eq!(app.service.list_subscribers(Default::default(), 10, 0).await.unwrap().1, 0);

    // Signed: stored, answered with empty TwiML; the welcome goes out with a StatusCallback.
    let r = twilio_hook(&app, "inbound", &inbound, token).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<Response></Response>"));
    let sent = wait_for(&seen, "/Messages.json", 1).await;
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&sent[0]).unwrap();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
    assert_eq!((get("To").as_str(), get("From").as_str()), (PHONE, "+4930123456"));
    assert!(get("StatusCallback").ends_with("/hooks/sms/twilio/status"));
    assert!(seen.lock().unwrap()[0].1.starts_with("Basic "));

    // A broadcast, and its status callback.
    let (b, _) = app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, "Probe", "t1")).await.unwrap();
    wait_for(&seen, "/Messages.json", 2).await;
    let report = loop {
        let p = app.service.progress(b.id).await.unwrap();
        if p.broadcast.sent == 1 {
            break p;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(report.broadcast.state, herold::domain::BroadcastState::Done);
    // Twilio posts the message's status to the StatusCallback, signed.
    let sid = seen.lock().unwrap()[1].3["sid"].as_str().unwrap().to_string();
    let status = [
        ("MessageSid", sid.as_str()),
        ("MessageStatus", "delivered"),
        ("AccountSid", "broadcaster"),
        ("From", "+4930123456"),
        ("To", PHONE),
        ("ApiVersion", "2010-04-01"),
    ];
    assert_eq!(twilio_hook(&app, "status", &status, "forged").await.status(), 401);
    for _ in 0..2 {
        assert_eq!(twilio_hook(&app, "status", &status, token).await.status(), 200);
    }
    let b = wait_counted(&app, b.id).await;
    assert_eq!((b.sent, b.delivered), (1, 1), "a repeated callback counts once");

    // A number that opted out with the provider: the send fails with 21610, and herold ends the
    // subscription with a ledger event by the provider.
    let blocked = app
        .service
        .add_subscriber(
            &Actor::Cli,
            herold::service::subscribers::AddSubscriber {
                transport: Transport::Sms,
                address: BLOCKED.into(),
                language: "de".into(),
                channels: vec![ch.id],
                consent_note: "paper form".into(),
            },
        )
        .await
        .unwrap();
    let (b2, _) = app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, "Zweite", "t2")).await.unwrap();
    assert_eq!(b2.total, 2);
    // The opt-out is committed first; the failed delivery is recorded with the worker's next batch.
    for _ in 0..200 {
        let d = app.service.subscriber_detail(blocked).await.unwrap();
        let p = app.service.progress(b2.id).await.unwrap();
        if d.consent.last().is_some_and(|e| e.kind == "optout") && p.broadcast.failed == 1 {
            assert!(d.subscriptions.iter().all(|s| s.state == herold::domain::SubscriptionState::Unsubscribed));
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("error 21610 did not end the subscription and fail its delivery");
}

/// A server that reads each request and resets the connection (RST) instead of answering.
async fn resetting_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            s.set_zero_linger().unwrap();
            drop(s);
        }
    });
    url
}

/// A gateway that fails: 500, 429 with Retry-After, 403, a garbage 200, an answer slower than the
/// timeout, a slow one within it, nobody listening, and a connection reset. Each becomes the right
/// class of error, naming no number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_failures_are_classed_for_retry_pause_or_failure() {
    use herold::transport::sms::GatewaySettings;
    use herold::transport::sms::kannel::Kannel;
    use herold::transport::{OutboundMessage, SendError, Transport as _};
    let server = HttpServer::new(|| {
        App::new().default_service(web::to(|req: HttpRequest| async move {
            match req.path().split('/').nth(1).unwrap_or("") {
                "e500" => HttpResponse::InternalServerError().body("oops"),
                "e429" => HttpResponse::TooManyRequests().insert_header(("Retry-After", "7")).body("slow down"),
                "e403" => HttpResponse::Forbidden().body("Authorization failed for sendsms"),
                "garbage" => HttpResponse::Ok().body("<html>captive portal</html>"),
                "slowish" => {
                    tokio::time::sleep(Duration::from_millis(600)).await;
                    HttpResponse::Accepted().body("0: Accepted for delivery")
                }
                _ => {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    HttpResponse::Accepted().body("0: Accepted for delivery")
                }
            }
        }))
    })
    .workers(2)
    .bind("127.0.0.1:0")
    .unwrap();
    let base = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    let dead = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    let to = herold::domain::Address::parse(Transport::Sms, PHONE, "DE").unwrap();
    let msg = OutboundMessage::new(1, to, "Hallo".into(), None, None);
    let settings = |url: String| GatewaySettings {
        name: "k".into(),
        url,
        username: "u".into(),
        password: "p".to_string().into(),
        webhook_secret: None,
        sender: String::new(),
        max_parts: 2,
        timeout: Duration::from_secs(1),
        hook_base: "http://127.0.0.1:1/hooks/sms/k".into(),
        sim_number: None,
    };
    let send = |url: String| {
        let msg = msg.clone();
        async move {
            let k = Kannel::new(settings(url));
            k.send(&msg).await.unwrap_err()
        }
    };
    let e = send(format!("{base}/e500")).await;
    assert!(matches!(e, SendError::Transient { retry_after: None, .. }), "{e:?}");
    let e = send(format!("{base}/e429")).await;
    assert!(matches!(e, SendError::Transient { retry_after: Some(d), .. } if d == Duration::from_secs(7)), "{e:?}");
    assert!(matches!(send(format!("{base}/e403")).await, SendError::Misconfigured(_)));
    assert!(matches!(send(format!("{base}/garbage")).await, SendError::Transient { .. }));
    let e = send(format!("{base}/slow")).await;
    assert!(
        matches!(&e, SendError::Transient { reason, .. } if matches!(reason, Reason::GatewayTimedOut { .. })),
        "{e:?}"
    );
    // Slow but within the timeout (1 s): sent.
    let k = Kannel::new(settings(format!("{base}/slowish")));
    assert!(k.send(&msg).await.is_ok());
    // Nobody listening: the gateway is down, the message never reached it (not counted as an attempt).
    let e = send(dead).await;
    assert!(matches!(&e, SendError::Unreachable(Reason::GatewayUnreachable { .. })), "{e:?}");
    assert!(!e.to_string().contains("151"), "no number in errors: {e}");
    // A connection reset after the request went out: the gateway may have sent it, so an attempt.
    let e = send(resetting_server().await).await;
    assert!(
        matches!(&e, SendError::Transient { reason, .. } if matches!(reason, Reason::GatewayFailed { .. })),
        "{e:?}"
    );
    assert!(!e.to_string().contains("151"), "no number in errors: {e}");
    // A text longer than the gateway's max_parts is refused, not cut short by the gateway.
    let long = OutboundMessage::new(2, msg.to.clone(), "ä🎉".repeat(100), None, None);
    let k = Kannel::new(settings(base.clone()));
    let e = k.send(&long).await.unwrap_err();
    assert!(matches!(&e, SendError::Permanent(Reason::TooManyParts { parts: 3.., max: 2, .. })), "{e:?}");
}

/// A gateway that is down when a broadcast starts: the sends wait for it without using up attempts
/// or failing anyone, the broadcast page says why, and everything goes out once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_is_down_is_waited_for_and_the_broadcast_completes_when_it_is_back() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{addr}");
    let app =
        TestApp::spawn_with(|c| c.sms.gateways.push(common::gateway("twilio", GatewayKind::Twilio, &url, KEY))).await;
    let ch = app
        .service
        .create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sms]))
        .await
        .unwrap();
    let reqs = (0..5)
        .map(|i| herold::service::subscribers::AddSubscriber {
            transport: Transport::Sms,
            address: format!("+4915112345{i:03}"),
            language: "de".into(),
            channels: vec![ch.id],
            consent_note: "test".into(),
        })
        .collect();
    app.service.add_subscribers(&Actor::Cli, reqs).await.unwrap();
    let (b, _) = app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, "Hallo", "down")).await.unwrap();
    // Longer than the first tries and one retry round (5 s apart): still waiting, nobody failed.
    let mut waiting = None;
    for _ in 0..140 {
        let p = app.service.progress(b.id).await.unwrap();
        assert_eq!(p.broadcast.failed, 0, "an unreachable gateway fails nobody");
        waiting = waiting.or(p.waiting);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let waiting = waiting.expect("the broadcast page says it is waiting");
    assert!(matches!(waiting.reason, Reason::GatewayUnreachable { .. }), "{waiting:?}");
    assert!(!waiting.reason.to_string().contains("151"), "no number on the page: {waiting:?}");
    // The gateway comes up: all five go out (retries every 5 s), none failed.
    let (_, seen) = mock_at(&addr.to_string(), twilio_api);
    let mut done = None;
    for _ in 0..300 {
        let p = app.service.progress(b.id).await.unwrap();
        if p.broadcast.state == herold::domain::BroadcastState::Done {
            done = Some(p.broadcast);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let done = done.expect("the broadcast completes within 15 s of the gateway's return");
    assert_eq!((done.sent, done.failed), (5, 0));
    assert_eq!(wait_for(&seen, "/Messages.json", 5).await.len(), 5, "each message sent once");
}

/// The phone reports a sending limit (Android's `RESULT_ERROR_LIMIT_EXCEEDED`) for a message it had
/// taken: the message goes back to the queue and waits, the broadcast runs again and says why; any
/// other failure is a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_that_reports_its_sending_limit_gets_the_message_again_later_not_failed() {
    let (url, seen) = mock(|path, body| match path {
        "/messages" => {
            let b: serde_json::Value = serde_json::from_str(body).unwrap();
            (202, serde_json::json!({ "id": b["id"], "state": "Pending", "recipients": [] }))
        }
        _ => (201, serde_json::json!({})),
    });
    let app =
        TestApp::spawn_with(|c| c.sms.gateways.push(common::gateway("phone", GatewayKind::Android, &url, KEY))).await;
    let ch = app
        .service
        .create_channel(&Actor::Cli, common::draft("NEWS", OptInMode::Single, &[Transport::Sms]))
        .await
        .unwrap();
    common::subscriber(&app.service, Transport::Sms, PHONE, ch.id).await;
    common::subscriber(&app.service, Transport::Sms, BLOCKED, ch.id).await;
    let (b, _) = app.service.create_broadcast(&Actor::Cli, common::compose_now(ch.id, "Probe", "l1")).await.unwrap();
    let sent = wait_for(&seen, "/messages", 2).await;
    for _ in 0..200 {
        if app.service.broadcast(b.id).await.unwrap().sent == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.service.broadcast(b.id).await.unwrap().sent, 2);
    let ids: Vec<(String, String)> = sent
        .iter()
        .map(|s| {
            let v: serde_json::Value = serde_json::from_str(s).unwrap();
            (v["id"].as_str().unwrap().to_string(), v["phoneNumbers"][0].as_str().unwrap().to_string())
        })
        .collect();
    let now = app.service.now();
    for (id, to) in &ids {
        let reason = if to == PHONE { "RESULT_ERROR_LIMIT_EXCEEDED" } else { "RESULT_ERROR_NO_SERVICE" };
        let failed = envelope(
            "sms:failed",
            serde_json::json!({ "messageId": id, "phoneNumber": to, "failedAt": "2026-12-05T01:00:00.000+01:00", "reason": reason }),
        );
        assert_eq!(android_hook(&app, &failed, now, None).await, 200);
    }
    let p = app.service.progress(b.id).await.unwrap();
    assert_eq!((p.broadcast.sent, p.broadcast.failed), (0, 1), "{:?}", p.broadcast);
    assert_eq!(p.broadcast.state, herold::domain::BroadcastState::Sending, "running again for the held one");
    let waiting = p.waiting.expect("the page says why it waits");
    assert_eq!(waiting.reason, Reason::GatewayLimitReached { gateway: "phone".into() });
    assert!((waiting.until - now - 900).abs() <= 5, "a quarter of an hour: {}", waiting.until - now);
    assert_eq!(p.queued, 1);
}
