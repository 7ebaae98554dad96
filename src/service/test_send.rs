//! Test sends: from the gateways page, one message to an address an owner types, through one named
//! SMS gateway or the Matrix bot, outside the outbox; from the compose page, the exact broadcast
//! (each language, in the form the transport gets) to a sandbox phone or an address typed for a
//! gateway or the bot. Nothing about a typed address is stored; the audit log records the route
//! and the outcome.

use std::sync::Arc;
use std::time::Duration;

use super::{Actor, Result, Service, ServiceError};
use crate::domain::hook::TestSend;
use crate::domain::{Address, Reason, Transport, audit::Action};

/// A test send waits at most this long for the gateway's answer.
const TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How a test send went, safe to show (no address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestOutcome {
    /// The gateway took the message; its id for it.
    Sent(String),
    /// The gateway refused or could not be reached; why.
    Failed(Reason),
}

impl Service {
    /// Installs the gateways offered for a test send (done once by the app).
    pub fn set_testers(&self, testers: Vec<(String, Arc<dyn TestSend>)>) {
        *self.inner.testers.lock().expect("testers lock") = testers;
    }

    /// The gateways offered for a test send: name and the kind of address each takes.
    pub fn testers(&self) -> Vec<(String, Transport)> {
        let t = self.inner.testers.lock().expect("testers lock");
        t.iter().map(|(n, s)| (n.clone(), s.transport())).collect()
    }

    /// Sends a short test message through the gateway `name` to `to` (a phone number or Matrix id as
    /// typed). An address that does not parse is `Invalid`; a gateway that refuses is a `Failed`
    /// outcome, not an error. Audited with the gateway and the outcome, never the address.
    pub async fn test_send(&self, actor: &Actor, name: &str, to: &str) -> Result<TestOutcome> {
        let tester = {
            let t = self.inner.testers.lock().expect("testers lock");
            t.iter().find(|(n, _)| n == name).map(|(_, s)| s.clone())
        };
        let tester = tester.ok_or(ServiceError::NotFound)?;
        let address = Address::parse(tester.transport(), to.trim(), &self.settings().default_country)?;
        let text = test_text(name, &self.settings().notice.controller);
        let outcome = match tokio::time::timeout(TEST_TIMEOUT, tester.test_send(&address, &text, None)).await {
            Ok(Ok(id)) => TestOutcome::Sent(id),
            Ok(Err(reason)) => TestOutcome::Failed(reason),
            Err(_) => TestOutcome::Failed(Reason::NoAnswer { seconds: TEST_TIMEOUT.as_secs() }),
        };
        let detail = match &outcome {
            TestOutcome::Sent(id) => crate::domain::Message::new("audit-test-sent").with("id", id).stored(),
            TestOutcome::Failed(reason) => serde_json::to_string(reason).unwrap_or_default(),
        };
        tracing::info!(gateway = name, sent = matches!(outcome, TestOutcome::Sent(_)), "test send");
        self.audit(actor, Action::GatewayTested, name, &detail).await?;
        Ok(outcome)
    }
}

/// The test message: in both languages, short enough for one GSM-7 segment with a usual name.
fn test_text(gateway: &str, controller: &str) -> String {
    let from = if controller.trim().is_empty() { "herold".to_string() } else { controller.trim().to_string() };
    format!("Test von/from {from} via {gateway}: herold erreicht dich. herold reaches you.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_text_fits_one_sms_with_a_usual_name() {
        let t = test_text("kannel", "Sportverein Musterstadt e.V.");
        let c = crate::domain::segments::count(&t);
        assert_eq!((c.parts, c.encoding), (1, crate::domain::segments::Encoding::Gsm7), "{t}");
        assert_eq!(
            test_text("android", "  "),
            "Test von/from herold via android: herold erreicht dich. herold reaches you."
        );
    }
}

/// Where "send me a test" of a broadcast goes.
#[derive(Debug, Clone)]
pub enum TestTo {
    /// One of the sandbox phones (its messages show on its screen).
    SandboxPhone(crate::domain::SubscriberId),
    /// A number or Matrix id as typed, through the gateway or bot named `route`.
    Typed { route: String, address: String },
}

impl Service {
    /// Sends a test of a broadcast as written: the main text and the second language's, each in the
    /// form the route gets (SMS text; on Matrix its HTML). Outcomes per message, in that order.
    pub async fn test_broadcast(
        &self,
        actor: &Actor,
        w: &crate::domain::draft::Written,
        to: TestTo,
    ) -> Result<Vec<TestOutcome>> {
        let mut versions = vec![super::broadcasts::render(w.kind, &w.title, &w.body)];
        if let Some(t) = w.translation.as_ref().filter(|t| !t.body.trim().is_empty()) {
            versions.push(super::broadcasts::render(w.kind, &t.title, &t.body));
        }
        if w.body.trim().is_empty() {
            return Err(ServiceError::Invalid(crate::domain::Problem::new("message-empty")));
        }
        let (route, outcomes) = match to {
            TestTo::SandboxPhone(phone) => {
                let (vault, now) = (self.vault().clone(), self.now());
                let texts: Vec<String> = versions.into_iter().map(|(text, _)| text).collect();
                let n = texts.len();
                self.store()
                    .call(move |c| {
                        let tx = crate::store::write_tx(c)?;
                        let Some(stored) =
                            crate::store::subscribers::key_and_address(&tx, phone.0, Transport::Sandbox)?
                        else {
                            return Err(crate::store::StoreError::NotFound);
                        };
                        let key = vault.unwrap_data_key(phone, &stored.wrapped_key)?;
                        for text in &texts {
                            let sealed = key.seal("reply", text.as_bytes());
                            crate::store::outbox::enqueue_reply(&tx, phone.0, Transport::Sandbox, None, &sealed, now)?;
                        }
                        tx.commit()?;
                        Ok(())
                    })
                    .await?;
                self.wake_worker();
                ("sandbox".to_string(), vec![TestOutcome::Sent("sandbox".into()); n])
            }
            TestTo::Typed { route, address } => {
                let tester = {
                    let t = self.inner.testers.lock().expect("testers lock");
                    t.iter().find(|(n, _)| *n == route).map(|(_, s)| s.clone())
                };
                let tester = tester.ok_or(ServiceError::NotFound)?;
                let address = Address::parse(tester.transport(), address.trim(), &self.settings().default_country)?;
                let mut outcomes = Vec::new();
                for (text, html) in &versions {
                    let html = html.as_deref().filter(|_| tester.transport() == Transport::Matrix);
                    let sent = tokio::time::timeout(TEST_TIMEOUT, tester.test_send(&address, text, html)).await;
                    outcomes.push(match sent {
                        Ok(Ok(id)) => TestOutcome::Sent(id),
                        Ok(Err(reason)) => TestOutcome::Failed(reason),
                        Err(_) => TestOutcome::Failed(Reason::NoAnswer { seconds: TEST_TIMEOUT.as_secs() }),
                    });
                }
                (route, outcomes)
            }
        };
        let sent = outcomes.iter().filter(|o| matches!(o, TestOutcome::Sent(_))).count();
        let detail = crate::domain::Message::new("audit-test-broadcast")
            .with("sent", sent)
            .with("count", outcomes.len())
            .stored();
        tracing::info!(route = %route, sent, "test of a broadcast sent");
        self.audit(actor, Action::BroadcastTested, route, &detail).await?;
        Ok(outcomes)
    }
}
