//! Kannel: sends through smsbox's `sendsms` (GET, `charset=UTF-8`, `coding` chosen here from the text),
//! asks for delivery reports through `dlr-url`, and reads its sms-service `post-url` (inbound) and
//! `dlr-url` (reports) callbacks, which carry the webhook secret as HTTP Basic credentials.

use crate::domain::Reason;
use base64::Engine;
use futures_util::future::BoxFuture;
use subtle::ConstantTimeEq;

use super::{GatewaySettings, number, request_failed, status_error};
use crate::domain::Message;
use crate::domain::hook::{HookError, HookEvent, HookRequest, SetupHint, SetupPart, Webhook};
use crate::domain::segments::Encoding;
use crate::transport::{OutboundMessage, Receipt, SendError, Transport};

/// Delivery report types Kannel sends (`%d`): 1 delivered, 2 failed, 4 buffered, 8 accepted by the
/// SMSC, 16 rejected by the SMSC. All five are asked for; 4 and 8 are interim.
const DLR_MASK: &str = "31";

pub struct Kannel {
    s: GatewaySettings,
    http: reqwest::Client,
}

impl Kannel {
    pub fn new(s: GatewaySettings) -> Self {
        let http = s.client();
        Self { s, http }
    }

    /// The callback URL with the webhook secret as Basic credentials (Kannel sends them as a header).
    fn callback(&self, endpoint: &str) -> String {
        let secret = self.s.webhook_secret.as_ref().map(|s| s.as_str()).unwrap_or_default();
        let base = &self.s.hook_base;
        let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
        format!("{scheme}://kannel:{secret}@{rest}/{endpoint}")
    }

    /// The `sms-service` group that sends inbound messages to herold (shown to the admin).
    fn service_snippet(&self) -> String {
        format!(
            "group = sms-service\nkeyword = default\ncatch-all = true\npost-url = \"{}?id=%I\"\nsend-sender = true\n\
             max-messages = 0\nconcatenation = true\n",
            self.callback("inbound")
        )
    }
}

impl Transport for Kannel {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            let to = number(msg)?;
            let seg = self.s.check_parts(msg)?;
            // Kannel does not choose UCS-2 by itself: non-GSM text would arrive as question marks.
            let coding = match seg.encoding {
                Encoding::Gsm7 => "0",
                Encoding::Ucs2 => "2",
            };
            let dlr_url = format!("{}?id={}&type=%d", self.callback("dlr"), msg.delivery_id);
            let mut query = vec![
                ("username", self.s.username.as_str()),
                ("password", self.s.password.as_str()),
                ("to", to),
                ("text", msg.text.as_str()),
                ("coding", coding),
                ("charset", "UTF-8"),
                ("dlr-mask", DLR_MASK),
                ("dlr-url", dlr_url.as_str()),
            ];
            if !self.s.sender.is_empty() {
                query.push(("from", self.s.sender.as_str()));
            }
            let resp = self
                .http
                .get(format!("{}/cgi-bin/sendsms", self.s.url))
                .query(&query)
                .send()
                .await
                .map_err(|e| request_failed(&self.s.name, &e))?;
            let status = resp.status();
            let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body = resp.text().await.unwrap_or_default();
            // 202 "0: Accepted for delivery"; 200 "3: Queued for later delivery" when the SMSC is down.
            if status.is_success() && (body.starts_with("0:") || body.starts_with("3:")) {
                return Ok(Receipt::new(format!("{}:{}", self.s.name, msg.delivery_id)));
            }
            if status.is_success() {
                return Err(SendError::Transient {
                    reason: Reason::GatewayUnreadable { gateway: self.s.name.clone(), detail: "not 0: or 3:".into() },
                    retry_after: None,
                });
            }
            Err(status_error(&self.s.name, status, retry.as_deref()))
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

/// What smsbox needs so that no inbound message is lost while herold is down or answers 503: UTF-8
/// text, and up to 30 more tries 10 s apart (five minutes) for a message herold did not take.
pub const SMSBOX_LINES: &str = "mo-recode = true\nhttp-request-retry = 30\nhttp-queue-delay = 10\n";

impl Webhook for Kannel {
    fn setup_hint(&self) -> SetupHint {
        SetupHint(vec![
            SetupPart::Say(Message::new("gw-hint-kannel").with("max", self.s.max_parts)),
            SetupPart::Say(Message::new("gw-hint-kannel-smsbox")),
            SetupPart::Copy(SMSBOX_LINES.to_string()),
            SetupPart::Say(Message::new("gw-hint-kannel-group")),
            SetupPart::Copy(self.service_snippet()),
        ])
    }

    fn read(&self, req: &HookRequest) -> Result<Vec<HookEvent>, HookError> {
        let secret = self.s.webhook_secret.as_ref().ok_or(HookError::Unauthorized("no webhook secret is set"))?;
        let given = req
            .header("authorization")
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
            .ok_or(HookError::Unauthorized("missing Basic credentials"))?;
        let expected = format!("kannel:{}", secret.as_str());
        if !bool::from(given.ct_eq(expected.as_bytes())) {
            return Err(HookError::Unauthorized("wrong credentials"));
        }
        match req.endpoint.as_str() {
            "inbound" => {
                let from = req.header("x-kannel-from").ok_or_else(|| missing("X-Kannel-From"))?;
                let text = String::from_utf8(req.body.clone())
                    .map_err(|_| HookError::Malformed("the text is not UTF-8 (set mo-recode = true)".into()))?;
                // `id=%I` in the post-url: Kannel's own id of the message, the same on a retry.
                let id = query_value(req, "id").ok_or_else(|| missing("id"))?;
                Ok(vec![HookEvent::Inbound { from: from.to_string(), text, id }])
            }
            "dlr" => {
                let id = query_value(req, "id").ok_or_else(|| missing("id"))?;
                let kind: u32 = query_value(req, "type").and_then(|t| t.parse().ok()).ok_or_else(|| missing("type"))?;
                let delivered = match kind {
                    1 => Some(true),
                    2 | 16 => Some(false),
                    _ => None,
                };
                // Kept as Kannel names it (its DLR type): worded by the reason it becomes.
                let error = (delivered == Some(false)).then(|| format!("DLR {kind}"));
                Ok(vec![HookEvent::Report { gateway_id: id, delivered, error }])
            }
            _ => Err(HookError::Malformed("unknown endpoint; Kannel uses inbound and dlr".into())),
        }
    }
}

fn query_value(req: &HookRequest, key: &str) -> Option<String> {
    req.query_pairs().into_iter().find(|(k, _)| k == key).map(|(_, v)| v).filter(|v| !v.is_empty())
}

fn missing(what: &str) -> HookError {
    HookError::Malformed(format!("{what} is missing"))
}
