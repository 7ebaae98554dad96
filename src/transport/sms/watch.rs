//! Whether an SMS gateway answers: every send through it tells, and while nothing is sent a
//! connection to its address is tried once a minute (a stopped Kannel shows as down before a
//! broadcast runs into it).

use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::domain::Reason;
use crate::domain::health::Health;
use crate::domain::hook::StatusSource;
use crate::transport::{Receipt, SendError};

/// A check is skipped while a send told within this many seconds.
const FRESH: i64 = 60;

pub struct Watch {
    name: String,
    /// Host and port of the gateway's API.
    address: Option<(String, u16)>,
    health: Mutex<Health>,
}

impl Watch {
    /// `url`: the gateway's API as configured (`http://host:port/…`).
    pub fn new(name: &str, url: &str) -> Self {
        let address =
            reqwest::Url::parse(url).ok().and_then(|u| Some((u.host_str()?.to_string(), u.port_or_known_default()?)));
        Self { name: name.to_string(), address, health: Mutex::new(Health::Unknown) }
    }

    fn set(&self, found: Result<(), Reason>) {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.health.lock().expect("gateway health lock").record(now, found);
    }

    /// Takes in what a send through the gateway found.
    pub fn sent(&self, result: &Result<Receipt, SendError>) {
        self.set(result.as_ref().map(|_| ()).or_else(|e| e.route_health()));
    }
}

impl StatusSource for Watch {
    fn health(&self) -> Health {
        self.health.lock().expect("gateway health lock").clone()
    }

    fn check(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            if let Health::Up { at } = self.health()
                && now - at < FRESH
            {
                return;
            }
            let unreachable = Reason::GatewayUnreachable { gateway: self.name.clone() };
            let Some((host, port)) = &self.address else {
                return self.set(Err(unreachable));
            };
            let connect = tokio::net::TcpStream::connect((host.as_str(), *port));
            let found = match tokio::time::timeout(Duration::from_secs(5), connect).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(_)) => Err(unreachable),
                Err(_) => Err(Reason::GatewayTimedOut { gateway: self.name.clone() }),
            };
            self.set(found);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_gateway_that_listens_is_up_and_one_that_does_not_is_down() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let w = Watch::new("kannel", &format!("http://127.0.0.1:{port}/cgi-bin/sendsms"));
        assert_eq!(w.health(), Health::Unknown);
        w.check().await;
        assert_eq!(w.health().up(), Some(true));
        drop(listener);
        // A send that found it gone tells at once; the next check does not contradict it.
        w.sent(&Err(SendError::Unreachable(Reason::GatewayUnreachable { gateway: "kannel".into() })));
        w.check().await;
        assert!(
            matches!(w.health(), Health::Down { reason: Reason::GatewayUnreachable { .. }, .. }),
            "{:?}",
            w.health()
        );
        // A gateway that refuses one message still answers.
        w.sent(&Err(SendError::Permanent(Reason::BadAddress)));
        assert_eq!(w.health().up(), Some(true));
    }
}
