//! Twilio's Messages API and the providers that copy it: sends with a `StatusCallback`, reads the
//! inbound and status webhooks after checking `X-Twilio-Signature` (base64 HMAC-SHA1 with the Auth
//! Token over the URL as called, then each POST parameter sorted by name as name + value). Error
//! 21610 on send means the recipient opted out with the provider.

use crate::domain::Reason;
use base64::Engine;
use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use serde::Deserialize;

use super::{GatewaySettings, number, request_failed, status_error};
use crate::domain::Message;
use crate::domain::hook::{HookError, HookEvent, HookRequest, SetupHint, SetupPart, Webhook};
use crate::transport::{OutboundMessage, Receipt, SendError, Transport};

/// Twilio's "Attempt to send to unsubscribed recipient".
pub const OPTED_OUT: u32 = 21610;
const TWIML_EMPTY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

pub struct Twilio {
    s: GatewaySettings,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Created {
    sid: String,
}

#[derive(Deserialize)]
struct ApiError {
    code: Option<u32>,
}

impl Twilio {
    pub fn new(s: GatewaySettings) -> Self {
        let http = s.client();
        Self { s, http }
    }
}

/// `X-Twilio-Signature` for a request to `url` with these form parameters.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

impl Transport for Twilio {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            let to = number(msg)?;
            self.s.check_parts(msg)?;
            let callback = format!("{}/status", self.s.hook_base);
            let form = [("To", to), ("From", &self.s.sender), ("Body", &msg.text), ("StatusCallback", &callback)];
            let resp = self
                .http
                .post(format!("{}/2010-04-01/Accounts/{}/Messages.json", self.s.url, self.s.username))
                .basic_auth(&self.s.username, Some(self.s.password.as_str()))
                .form(&form)
                .send()
                .await
                .map_err(|e| request_failed(&self.s.name, &e))?;
            let status = resp.status();
            if status.is_success() {
                let created: Created = resp.json().await.map_err(|_| SendError::Transient {
                    reason: Reason::GatewayUnreadable { gateway: self.s.name.clone(), detail: "no message id".into() },
                    retry_after: None,
                })?;
                return Ok(Receipt::new(format!("{}:{}", self.s.name, created.sid)));
            }
            let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let code = resp.json::<ApiError>().await.ok().and_then(|e| e.code);
            if code == Some(OPTED_OUT) {
                return Err(SendError::OptedOut(Reason::OptedOutWithProvider { gateway: self.s.name.clone() }));
            }
            match status_error(&self.s.name, status, retry.as_deref()) {
                SendError::Permanent(Reason::GatewayRefusedMessage { gateway, detail }) if code.is_some() => {
                    let detail = format!("{detail}, error {}", code.unwrap_or_default());
                    Err(SendError::Permanent(Reason::GatewayRefusedMessage { gateway, detail }))
                }
                e => Err(e),
            }
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

impl Webhook for Twilio {
    fn setup_hint(&self) -> SetupHint {
        SetupHint(vec![SetupPart::Say(Message::new("gw-hint-twilio").with("base", &self.s.hook_base))])
    }

    fn read(&self, req: &HookRequest) -> Result<Vec<HookEvent>, HookError> {
        let given = req.header("x-twilio-signature").ok_or(HookError::Unauthorized("X-Twilio-Signature is missing"))?;
        let params: Vec<(String, String)> = if req.method == "POST" {
            serde_urlencoded::from_bytes(&req.body)
                .map_err(|_| HookError::Malformed("the body is not form-encoded".into()))?
        } else {
            vec![]
        };
        let expected = signature(&self.s.password, &req.url, &params);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(given.trim().as_bytes(), expected.as_bytes())) {
            return Err(HookError::Unauthorized("wrong signature"));
        }
        let all: Vec<(String, String)> = params.into_iter().chain(req.query_pairs()).collect();
        let get = |k: &str| all.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let need = |k: &str| get(k).ok_or_else(|| HookError::Malformed(format!("{k} is missing")));
        match req.endpoint.as_str() {
            "inbound" => {
                Ok(vec![HookEvent::Inbound { from: need("From")?, text: need("Body")?, id: need("MessageSid")? }])
            }
            "status" => {
                let state = need("MessageStatus")?;
                let delivered = match state.as_str() {
                    "delivered" => Some(true),
                    "failed" | "undelivered" => Some(false),
                    _ => None,
                };
                let error =
                    (delivered == Some(false)).then(|| format!("{state}, {}", get("ErrorCode").unwrap_or_default()));
                Ok(vec![HookEvent::Report { gateway_id: need("MessageSid")?, delivered, error }])
            }
            _ => Err(HookError::Malformed("unknown endpoint; Twilio uses inbound and status".into())),
        }
    }

    fn success(&self) -> (&'static str, &'static str) {
        ("text/xml; charset=utf-8", TWIML_EMPTY)
    }
}

#[cfg(test)]
mod tests {
    /// Twilio's documented example (its security documentation).
    #[test]
    fn reproduces_twilios_documented_signature() {
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        let params = [
            p("CallSid", "CA1234567890ABCDE"),
            p("Caller", "+12349013030"),
            p("Digits", "1234"),
            p("From", "+12349013030"),
            p("To", "+18005551212"),
        ];
        let sig = super::signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &params);
        assert_eq!(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    }
}
