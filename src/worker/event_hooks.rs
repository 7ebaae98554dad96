//! The webhook worker: posts queued events to other systems' endpoints, signed the Standard Webhooks
//! way, and tries a failed one again with backoff until it is taken or its endpoint is switched off.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;

use crate::crypto::signing;
use crate::domain::Reason;
use crate::service::Service;
use crate::service::event_hooks::HookSend;

/// Seconds before the 2nd, 3rd, … attempt; then every hour until the endpoint takes it or has
/// failed for a day (see [`crate::service::event_hooks::DISABLE_AFTER`]).
pub const BACKOFF: [i64; 6] = [5, 30, 120, 600, 1800, 3600];
/// How long an endpoint may take to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Events leased at once, and posted at once.
const BATCH: i64 = 32;
const IN_FLIGHT: usize = 8;

/// Seconds to wait after the `attempts`-th attempt failed.
pub fn backoff(attempts: i64) -> i64 {
    BACKOFF[(attempts.max(1) as usize - 1).min(BACKOFF.len() - 1)]
}

/// Runs until `stop` turns true: leases what is due, posts it, records each answer.
pub async fn run(service: Service, mut stop: watch::Receiver<bool>) {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("herold/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("an HTTP client with these settings");
    if let Err(e) = service.release_webhook_leases().await {
        tracing::error!(error = %e, "webhook leases could not be given back; they are retried at the next start");
    }
    let mut last_prune = 0;
    loop {
        let sent = match service.claim_webhooks(BATCH).await {
            Ok(due) if !due.is_empty() => {
                let n = due.len();
                futures_util::stream::iter(due)
                    .for_each_concurrent(IN_FLIGHT, |send| {
                        let (service, client) = (&service, &client);
                        async move { post(service, client, send).await }
                    })
                    .await;
                n
            }
            Ok(_) => 0,
            Err(e) => {
                tracing::error!(error = %e, "webhook events could not be leased; trying again");
                0
            }
        };
        if service.now() - last_prune > 3600 {
            last_prune = service.now();
            if let Err(e) = service.prune_webhook_log().await {
                tracing::warn!(error = %e, "the webhook log could not be pruned");
            }
        }
        if sent == 0 {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => {}
            }
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Posts one event and records what the endpoint answered.
async fn post(service: &Service, client: &reqwest::Client, send: HookSend) {
    let msg_id = format!("msg_{}", send.id);
    let timestamp = service.now();
    let answer = client
        .post(&send.url)
        .header("content-type", "application/json")
        .header("webhook-id", &msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signing::sign(&send.secret, &msg_id, timestamp, &send.payload))
        .body(send.payload.clone())
        .send()
        .await;
    let recorded = match answer {
        Ok(r) if r.status().is_success() => service.webhook_delivered(send.id, r.status().as_u16()).await,
        Ok(r) => {
            let status = r.status().as_u16();
            let reason = Reason::EndpointAnswered { status };
            service.webhook_failed(&send, Some(status), reason, backoff(send.attempts)).await
        }
        Err(e) => {
            let reason = if e.is_timeout() { Reason::EndpointTimedOut } else { Reason::EndpointUnreachable };
            service.webhook_failed(&send, None, reason, backoff(send.attempts)).await
        }
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, webhook = send.endpoint, "a webhook answer could not be recorded; it is sent again");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_stays_at_an_hour() {
        assert_eq!(backoff(1), 5);
        assert_eq!(backoff(2), 30);
        assert_eq!(backoff(6), 3600);
        assert_eq!(backoff(60), 3600);
    }
}
