//! SMS Gateway for Android (capcom6), local server or cloud: sends through its REST API
//! (`POST /messages`), registers herold's webhooks on the phone, and reads the signed webhooks
//! (`X-Signature` = hex HMAC-SHA256 over the raw body followed by `X-Timestamp`, within 5 minutes).

use crate::domain::Reason;
use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;

use super::{GatewaySettings, json_problem, number, request_failed, status_error};
use crate::domain::Message;
use crate::domain::hook::{HookError, HookEvent, HookRequest, SetupHint, SetupPart, Webhook};
use crate::transport::{OutboundMessage, Receipt, SendError, Transport};

/// How far a webhook's timestamp may be from our clock.
pub const WINDOW_SECONDS: i64 = 300;
/// The events herold registers on the phone.
pub const EVENTS: [&str; 4] = ["sms:received", "sms:sent", "sms:delivered", "sms:failed"];

pub struct Android {
    s: GatewaySettings,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Sent {
    id: String,
}

#[derive(Deserialize)]
struct Envelope {
    event: String,
    #[serde(default)]
    payload: Payload,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Payload {
    message_id: Option<String>,
    message: Option<String>,
    sender: Option<String>,
    /// Why `sms:failed` (Android's result code, e.g. `RESULT_ERROR_LIMIT_EXCEEDED`); only its kind is
    /// read, it is never kept.
    reason: Option<String>,
}

impl Android {
    pub fn new(s: GatewaySettings) -> Self {
        let http = s.client();
        Self { s, http }
    }

    /// Registers (or updates: the ids are fixed) one webhook per event on the phone or cloud account.
    pub async fn register_webhooks(&self) -> Result<(), String> {
        for event in EVENTS {
            let body = json!({
                "id": format!("herold-{}", event.replace(':', "-")),
                "url": format!("{}/events", self.s.hook_base),
                "event": event,
            });
            let resp = self
                .http
                .post(format!("{}/webhooks", self.s.url))
                .basic_auth(&self.s.username, Some(self.s.password.as_str()))
                .json(&body)
                .send()
                .await
                .map_err(|e| request_failed(&self.s.name, &e).to_string())?;
            if !resp.status().is_success() {
                return Err(format!("gateway {} refused the webhook for {event} ({})", self.s.name, resp.status()));
            }
        }
        Ok(())
    }
}

impl Transport for Android {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            let to = number(msg)?;
            self.s.check_parts(msg)?;
            let mut body = json!({
                "id": format!("herold-{}", msg.delivery_id),
                "textMessage": { "text": msg.text },
                "phoneNumbers": [to],
                "withDeliveryReport": true,
            });
            if let Some(sim) = self.s.sim_number {
                body["simNumber"] = json!(sim);
            }
            let resp = self
                .http
                .post(format!("{}/messages", self.s.url))
                .basic_auth(&self.s.username, Some(self.s.password.as_str()))
                .json(&body)
                .send()
                .await
                .map_err(|e| request_failed(&self.s.name, &e))?;
            let status = resp.status();
            if !status.is_success() {
                let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
                return Err(status_error(&self.s.name, status, retry.as_deref()));
            }
            let sent: Sent = resp.json().await.map_err(|_| SendError::Transient {
                reason: Reason::GatewayUnreadable { gateway: self.s.name.clone(), detail: "no message id".into() },
                retry_after: None,
            })?;
            Ok(Receipt::new(format!("{}:{}", self.s.name, sent.id)))
        })
    }

    fn segments_per_second(&self) -> Option<f64> {
        None
    }

    /// The router that holds this gateway paces it (its bucket).
    fn reserve(&self, _: &OutboundMessage) -> Result<crate::transport::Slot, crate::transport::Hold> {
        Ok(crate::transport::Slot::default())
    }
}

/// The signature the app puts in `X-Signature`.
pub fn sign(key: &[u8], body: &[u8], timestamp: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body);
    mac.update(timestamp.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl Webhook for Android {
    fn setup_hint(&self) -> SetupHint {
        let url = format!("{}/events", self.s.hook_base);
        SetupHint(vec![SetupPart::Say(
            Message::new("gw-hint-android").with("events", EVENTS.join(", ")).with("url", url),
        )])
    }

    fn read(&self, req: &HookRequest) -> Result<Vec<HookEvent>, HookError> {
        let key = self.s.webhook_secret.as_ref().ok_or(HookError::Unauthorized("no webhook secret is set"))?;
        let ts = req.header("x-timestamp").ok_or(HookError::Unauthorized("X-Timestamp is missing"))?;
        let sig = req.header("x-signature").ok_or(HookError::Unauthorized("X-Signature is missing"))?;
        let sig = hex::decode(sig.trim()).map_err(|_| HookError::Unauthorized("X-Signature is not hex"))?;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
        mac.update(&req.body);
        mac.update(ts.as_bytes());
        mac.verify_slice(&sig).map_err(|_| HookError::Unauthorized("wrong signature"))?;
        let at: i64 = ts.trim().parse().map_err(|_| HookError::Unauthorized("X-Timestamp is not a number"))?;
        if (req.now - at).abs() > WINDOW_SECONDS {
            return Err(HookError::Unauthorized("X-Timestamp is outside the 5-minute window (a replay?)"));
        }
        let env: Envelope = serde_json::from_slice(&req.body)
            .map_err(|e| HookError::Malformed(format!("not a webhook envelope: {}", json_problem(&e))))?;
        let p = env.payload;
        let id = || p.message_id.clone().ok_or_else(|| HookError::Malformed("payload.messageId is missing".into()));
        let report = |delivered: Option<bool>, error: Option<&str>| -> Result<Vec<HookEvent>, HookError> {
            Ok(vec![HookEvent::Report { gateway_id: id()?, delivered, error: error.map(Into::into) }])
        };
        match env.event.as_str() {
            "sms:received" => Ok(vec![HookEvent::Inbound {
                from: p.sender.clone().ok_or_else(|| HookError::Malformed("payload.sender is missing".into()))?,
                text: p.message.clone().ok_or_else(|| HookError::Malformed("payload.message is missing".into()))?,
                id: id()?,
            }]),
            "sms:sent" => report(None, None),
            "sms:delivered" => report(Some(true), None),
            // A sending limit (Android's 30 a minute, or the app's own) is a wait, not a failure.
            "sms:failed" if p.reason.as_deref().is_some_and(is_limit) => {
                Ok(vec![HookEvent::Held { gateway_id: id()? }])
            }
            // The phone's reason text may name the number; it is not kept.
            "sms:failed" => report(Some(false), Some("sms:failed")),
            _ => Ok(vec![]),
        }
    }
}

/// Whether the phone's failure reason is a sending limit (`RESULT_ERROR_LIMIT_EXCEEDED`, or the app's
/// own limits).
fn is_limit(reason: &str) -> bool {
    let r = reason.to_ascii_uppercase();
    r.contains("LIMIT_EXCEEDED") || r.contains("LIMIT EXCEEDED")
}
