//! Composition root: config → vault → store → service → web; graceful shutdown.

use std::net::TcpListener;
use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use crate::domain::{Clock, SystemClock};
use crate::service::{Service, Settings};
use crate::store::{self, DataPaths};
use crate::web::{self, AppState, WebSettings};

/// Opens the data directory (creating it on first start when `create`) and builds the service.
pub fn open_service(cfg: &Config, create: bool) -> anyhow::Result<Service> {
    let paths = DataPaths::new(&cfg.data_dir, cfg.key_file.as_deref());
    let source = cfg.key_source()?;
    let (store, vault) = store::open(&paths, &source, create, cfg.pool_size)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let settings = Settings {
        default_country: cfg.sms.default_country.clone(),
        session_ttl: i64::from(cfg.admin.session_hours) * 3600,
    };
    Ok(Service::new(store, vault, clock, settings))
}

/// A built, bound, not yet running application.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    service: Service,
    setup_url: Option<String>,
}

impl Application {
    /// Opens the data, binds the listener (port 0 picks a free one) and prepares the server.
    pub async fn build(cfg: &Config) -> anyhow::Result<Self> {
        let service = open_service(cfg, true)?;
        let listener = TcpListener::bind(&cfg.listen).with_context(|| format!("listening on {}", cfg.listen))?;
        let port = listener.local_addr()?.port();
        let public_url = match &cfg.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}:{port}", listener.local_addr()?.ip()),
        };
        let setup_url = service.setup_token().await?.map(|t| format!("{public_url}/setup?token={t}"));
        let settings = WebSettings {
            public_url,
            trust_proxy: cfg.trust_proxy,
            login_per_ip_per_minute: cfg.admin.login_per_ip_per_minute,
            login_per_account_per_hour: cfg.admin.login_per_account_per_hour,
        };
        let server = web::server(listener, AppState::new(service.clone(), &settings))?;
        Ok(Self { port, server, service, setup_url })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    /// The one-time link that creates the first owner, while no admin exists.
    pub fn setup_url(&self) -> Option<&str> {
        self.setup_url.as_deref()
    }

    /// Runs until SIGINT/SIGTERM (actix handles both and drains requests).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.await?;
        Ok(())
    }
}
