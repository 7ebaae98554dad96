//! Composition root: config → vault → store → service → web; graceful shutdown.

use std::net::TcpListener;
use std::sync::Arc;

use anyhow::Context;

use std::collections::HashMap;

use crate::config::{Config, GatewayKind, Routing};
use crate::domain::Transport as Kind;
use crate::domain::hook::Webhook;
use crate::domain::quota::QuotaBook;
use crate::domain::{Clock, SystemClock};
use crate::service::backup::BackupPlan;
use crate::service::gateways::RouteSource;
use crate::service::{Service, Settings};
use crate::store::{self, DataPaths};
use crate::transport::sandbox::Sandbox;
use crate::transport::sms::android::Android;
use crate::transport::sms::kannel::Kannel;
use crate::transport::sms::twilio::Twilio;
use crate::transport::sms::{self, GatewaySettings, Router};
use crate::transport::{Tester, Transport};
use crate::web::{self, AppState, WebSettings};
use crate::worker::{Worker, WorkerSettings, event_hooks, housekeeping};

/// Opens the data directory (creating it on first start when `create`) and builds the service.
pub fn open_service(cfg: &Config, create: bool) -> anyhow::Result<Service> {
    open_service_with_clock(cfg, create, Arc::new(SystemClock))
}

/// [`open_service`] with a clock of the caller's (tests move time instead of sleeping).
pub fn open_service_with_clock(cfg: &Config, create: bool, clock: Arc<dyn Clock>) -> anyhow::Result<Service> {
    let paths = DataPaths::new(&cfg.data_dir, cfg.key_file.as_deref());
    let source = cfg.key_source()?;
    let (store, vault) = store::open(&paths, &source, create, cfg.pool_size)?;
    let settings = Settings {
        default_country: cfg.sms.default_country.clone(),
        zone: crate::domain::zone::Zone::parse(&cfg.time_zone)
            .map_err(|_| anyhow::anyhow!("time_zone = {:?} is not an IANA time zone", cfg.time_zone))?,
        session_ttl: i64::from(cfg.admin.session_hours) * 3600,
        default_language: cfg.conversation.default_language.clone(),
        confirm_hours: i64::from(cfg.conversation.confirm_hours),
        auto_reply: cfg.conversation.auto_reply,
        retention: cfg.retention,
        notice: crate::service::privacy::NoticeSettings {
            controller: cfg.privacy.controller.clone(),
            contact: cfg.privacy.contact.clone(),
            backup_days: if cfg.backup.every_hours > 0 { cfg.backup.keep_days } else { 0 },
            keyring_backup_days: cfg.backup.keyring_keep_days,
        },
        signup: crate::service::channels::SignupSettings {
            sms_number: cfg.sms.public_number.trim().to_string(),
            matrix_user: cfg.matrix.as_ref().map(|m| m.user_id.clone()).unwrap_or_default(),
        },
        quiet: crate::service::QuietSettings {
            hours: Some(crate::domain::quiet::QuietHours {
                from: cfg.quiet_hours.from,
                until: cfg.quiet_hours.until,
                sundays: cfg.quiet_hours.sundays,
            }),
            transports: cfg.quiet_hours.transports.clone(),
        },
        cap: cfg.delivery.max_per_person,
        approval: cfg.admin.editors_need_approval,
        hand_off: crate::service::HandOff {
            first_answer: cfg.conversation.first_answer,
            office_hours: cfg.conversation.office_hours,
            open_for_team: cfg.conversation.open_for_team,
        },
    };
    let service = Service::new(store, vault, clock, settings);
    service.set_public_url(&cfg.public_url());
    Ok(service)
}

/// What the app builds from the configuration: the transports by kind, the SMS gateways' webhook
/// readers by gateway name, and the Android gateways (their webhooks are registered at start).
pub struct Transports {
    pub senders: HashMap<Kind, Arc<dyn Transport>>,
    pub webhooks: HashMap<String, Arc<dyn Webhook>>,
    pub android: Vec<Arc<Android>>,
    /// Each SMS gateway by name, for the test send on the gateways page.
    pub testers: Vec<(String, Arc<dyn crate::domain::hook::TestSend>)>,
    /// Whether each SMS gateway answers, by name.
    pub watches: Vec<(String, Arc<sms::watch::Watch>)>,
}

/// Every SMS gateway's quotas, counted on `clock` in the installation's zone.
pub fn quota_book(cfg: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<QuotaBook>> {
    let zone = crate::domain::zone::Zone::parse(&cfg.time_zone).map_err(|e| anyhow::anyhow!("time_zone: {}", e.0))?;
    let limits = cfg.sms.gateways.iter().map(|g| (g.name.clone(), g.limits())).collect();
    Ok(Arc::new(QuotaBook::new(clock, zone, limits)))
}

/// Builds the transports. Only here are concrete transports named. `quotas`: the gateways'
/// quotas, shared with the use cases (see [`quota_book`]).
pub fn transports(cfg: &Config, public_url: &str, quotas: Arc<QuotaBook>) -> anyhow::Result<Transports> {
    let mut senders: HashMap<Kind, Arc<dyn Transport>> = HashMap::new();
    let mut sandbox = Sandbox::new(cfg.delivery.sandbox_per_second);
    if let Some(p) = &cfg.delivery.sandbox_log {
        sandbox = sandbox.with_log(p).with_context(|| format!("opening delivery.sandbox_log {}", p.display()))?;
    }
    senders.insert(Kind::Sandbox, Arc::new(sandbox));
    let mut webhooks: HashMap<String, Arc<dyn Webhook>> = HashMap::new();
    let mut android = Vec::new();
    let mut testers: Vec<(String, Arc<dyn crate::domain::hook::TestSend>)> = Vec::new();
    let mut gateways = cfg.sms.gateways.clone();
    gateways.sort_by_key(|g| g.priority);
    let mut routes = Vec::new();
    let mut watches = Vec::new();
    for g in &gateways {
        let settings = GatewaySettings {
            name: g.name.clone(),
            url: g.url.trim_end_matches('/').to_string(),
            username: g.username.clone(),
            password: g.password()?.unwrap_or_default(),
            webhook_secret: g.webhook_secret()?,
            sender: g.sender.clone(),
            max_parts: g.max_parts,
            timeout: std::time::Duration::from_secs(u64::from(g.timeout_seconds)),
            hook_base: format!("{public_url}/hooks/sms/{}", g.name),
            sim_number: g.sim_number,
        };
        let rate = g.per_second()?;
        let gateway: Arc<dyn Transport> = match g.kind {
            GatewayKind::Kannel => {
                let k = Arc::new(Kannel::new(settings));
                webhooks.insert(g.name.clone(), k.clone());
                k
            }
            GatewayKind::Android => {
                let a = Arc::new(Android::new(settings));
                webhooks.insert(g.name.clone(), a.clone());
                android.push(a.clone());
                a
            }
            GatewayKind::Twilio => {
                let t = Arc::new(Twilio::new(settings));
                webhooks.insert(g.name.clone(), t.clone());
                t
            }
        };
        testers.push((g.name.clone(), Arc::new(Tester::new(Kind::Sms, gateway.clone()))));
        let watch = Arc::new(sms::watch::Watch::new(&g.name, &g.url));
        watches.push((g.name.clone(), watch.clone()));
        routes.push(sms::Gateway { name: g.name.clone(), transport: gateway, rate, watch });
    }
    if !routes.is_empty() {
        let routing = match cfg.sms.routing {
            Routing::Priority => sms::Routing::Priority,
            Routing::RoundRobin => sms::Routing::RoundRobin,
            Routing::Capacity => sms::Routing::Capacity,
        };
        senders.insert(Kind::Sms, Arc::new(Router::new(routes, routing, quotas)));
    }
    Ok(Transports { senders, webhooks, android, testers, watches })
}

/// Messages in flight at once in each delivery lane.
pub const LANE_CONCURRENCY: usize = 32;

pub fn worker_settings(cfg: &Config) -> WorkerSettings {
    WorkerSettings {
        batch: cfg.delivery.batch as usize,
        lease: std::time::Duration::from_secs(u64::from(cfg.delivery.lease_seconds)),
        max_attempts: i64::from(cfg.delivery.max_attempts),
        concurrency: LANE_CONCURRENCY,
    }
}

/// A built, bound, not yet running application.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    /// `/metrics` on an address of its own (`metrics.listen`).
    metrics_server: Option<actix_web::dev::Server>,
    service: Service,
    worker: Worker,
    setup_url: Option<String>,
    backup: BackupPlan,
    #[cfg(feature = "matrix")]
    matrix: Option<Arc<crate::transport::matrix::Matrix>>,
}

/// The Matrix bot, its store in `<data_dir>/matrix` encrypted with a key derived from the keyring.
#[cfg(feature = "matrix")]
fn matrix_bot(
    cfg: &Config,
    m: &crate::config::MatrixConfig,
    service: &Service,
) -> anyhow::Result<crate::transport::matrix::Matrix> {
    use crate::transport::matrix::{Matrix, MatrixSettings};
    Ok(Matrix::new(MatrixSettings {
        homeserver: m.homeserver.trim_end_matches('/').to_string(),
        user_id: m.user_id.clone(),
        password: m.password()?.unwrap_or_default(),
        device_name: m.device_name.clone(),
        store_dir: cfg.data_dir.join("matrix"),
        store_passphrase: service.vault().matrix_store_passphrase(),
        per_second: m.per_second()?,
    }))
}

/// `herold matrix recover`: signs the bot's (new) device with the recovery key. Returns the device id.
pub async fn matrix_recover(cfg: &Config, key: &str) -> anyhow::Result<String> {
    #[cfg(feature = "matrix")]
    {
        let m = cfg.matrix.as_ref().context("no [matrix] section in the configuration")?;
        let service = open_service(cfg, false)?;
        let device = matrix_bot(cfg, m, &service)?.recover(key).await?;
        let action = crate::domain::audit::Action::MatrixRecovered;
        service
            .audit(
                &crate::service::Actor::Cli,
                action,
                "Matrix",
                crate::domain::Message::new("audit-bot-signed").stored(),
            )
            .await?;
        Ok(device)
    }
    #[cfg(not(feature = "matrix"))]
    {
        let _ = (cfg, key);
        anyhow::bail!("this herold was built without the matrix feature")
    }
}

/// Hands what the Matrix bot hears to the service. A failed store is tried again (the event is
/// gone from the sync once read), up to a minute, then logged by its kind only.
#[cfg(feature = "matrix")]
async fn pump_matrix_events(
    service: Service,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<crate::domain::hook::HookEvent>,
) {
    while let Some(ev) = rx.recv().await {
        let mut delay = 1;
        loop {
            match service.transport_event(Kind::Matrix, ev.clone()).await {
                Ok(()) => break,
                Err(crate::service::ServiceError::Invalid(_)) => break,
                Err(e) if delay <= 32 => {
                    tracing::warn!(error = %e, "a Matrix event could not be stored; trying again");
                    tokio::time::sleep(std::time::Duration::from_secs(delay)).await;
                    delay *= 2;
                }
                Err(e) => {
                    tracing::error!(error = %e, "a Matrix event could not be stored and is dropped");
                    break;
                }
            }
        }
    }
}

impl Application {
    /// Opens the data, binds the listener (port 0 picks a free one) and prepares the server.
    pub async fn build(cfg: &Config) -> anyhow::Result<Self> {
        // The key is checked (and the data opened) before anything else, the port included.
        let service = open_service(cfg, true)?;
        service.startup_check().await?;
        service.reclaim_leases_at_start().await?;
        let listener = TcpListener::bind(&cfg.listen).with_context(|| format!("listening on {}", cfg.listen))?;
        let scrapers = cfg.metrics.enabled.then(|| cfg.metrics.token().map(|token| web::metrics::Scrapers { token }));
        let scrapers = scrapers.transpose()?;
        let metrics_server = match (&scrapers, &cfg.metrics.listen) {
            (Some(who), Some(addr)) => {
                let l = TcpListener::bind(addr).with_context(|| format!("listening on metrics.listen {addr}"))?;
                Some(web::metrics::server(l, service.clone(), who.clone())?)
            }
            _ => None,
        };
        let port = listener.local_addr()?.port();
        let public_url = match &cfg.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}:{port}", listener.local_addr()?.ip()),
        };
        service.set_public_url(&public_url);
        let setup_url = service.setup_token().await?.map(|t| format!("{public_url}/setup?token={t}"));
        let settings = WebSettings {
            public_url: public_url.clone(),
            public_url_set: cfg.public_url.is_some(),
            trust_proxy: cfg.trust_proxy,
            login_per_ip_per_minute: cfg.admin.login_per_ip_per_minute,
            login_per_account_per_hour: cfg.admin.login_per_account_per_hour,
            metrics: scrapers.filter(|_| cfg.metrics.listen.is_none()),
        };
        let server = web::server(listener, AppState::new(service.clone(), &settings))?;
        service.set_sms_max_parts(
            cfg.sms.gateways.iter().min_by_key(|g| g.max_parts).map(|g| (g.name.clone(), g.max_parts)),
        );
        let quotas = quota_book(cfg, service.clock())?;
        service.set_quotas(quotas.clone()).await?;
        let built = transports(cfg, &public_url, quotas)?;
        service.set_webhooks(built.webhooks);
        #[cfg_attr(not(feature = "matrix"), allow(unused_mut))]
        let mut testers = built.testers;
        for a in built.android {
            // The phone may be off just now: a failure is reported, not fatal.
            tokio::spawn(async move {
                if let Err(e) = a.register_webhooks().await {
                    tracing::warn!(error = %e, "could not register herold's webhooks on the Android gateway");
                }
            });
        }
        #[cfg_attr(not(feature = "matrix"), allow(unused_mut))]
        let mut senders = built.senders;
        #[cfg_attr(not(feature = "matrix"), allow(unused_mut))]
        let mut sources: Vec<RouteSource> =
            built.watches.into_iter().map(|(name, w)| RouteSource { name, transport: Kind::Sms, source: w }).collect();
        #[cfg(feature = "matrix")]
        let matrix = match &cfg.matrix {
            Some(m) => {
                let bot = Arc::new(matrix_bot(cfg, m, &service)?);
                senders.insert(Kind::Matrix, bot.clone());
                sources.push(RouteSource { name: "Matrix".into(), transport: Kind::Matrix, source: bot.clone() });
                service.set_room_host(bot.clone());
                testers.push(("Matrix".into(), Arc::new(Tester::new(Kind::Matrix, bot.clone()))));
                Some(bot)
            }
            None => None,
        };
        service.set_testers(testers);
        service.set_status_sources(sources);
        let worker = Worker::new(service.clone(), senders, worker_settings(cfg));
        let backup = BackupPlan {
            dir: cfg.backup.dir.clone().unwrap_or_else(|| cfg.data_dir.join("backups")),
            every_hours: cfg.backup.every_hours,
            keep_days: cfg.backup.keep_days,
            keyring_keep_days: cfg.backup.keyring_keep_days,
        };
        Ok(Self {
            port,
            server,
            metrics_server,
            service,
            worker,
            setup_url,
            backup,
            #[cfg(feature = "matrix")]
            matrix,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Stops the server gracefully when told (then `run_until_stopped` returns): for embedding and tests.
    pub fn stop_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// The one-time link that creates the first owner, while no admin exists.
    pub fn setup_url(&self) -> Option<&str> {
        self.setup_url.as_deref()
    }

    /// Runs the web server and the delivery worker until SIGINT/SIGTERM (actix drains requests; the
    /// worker finishes its round, and anything it leased but did not record is leased again later).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let housekeeping = tokio::spawn(housekeeping::run(self.service.clone(), self.backup, stopped.clone()));
        let hooks = tokio::spawn(event_hooks::run(self.service.clone(), stopped.clone()));
        #[cfg(feature = "matrix")]
        let matrix = self.matrix.map(|bot| {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(pump_matrix_events(self.service.clone(), rx));
            tokio::spawn(crate::transport::matrix::run(bot, tx, stopped.clone()))
        });
        let worker = tokio::spawn(self.worker.run(stopped));
        let metrics = self.metrics_server.map(|s| {
            let handle = s.handle();
            (tokio::spawn(s), handle)
        });
        let result = self.server.await;
        if let Some((server, handle)) = metrics {
            handle.stop(true).await;
            let _ = server.await;
        }
        let _ = stop.send(true);
        let _ = worker.await;
        let _ = housekeeping.await;
        let _ = hooks.await;
        #[cfg(feature = "matrix")]
        if let Some(m) = matrix {
            let _ = m.await;
        }
        result?;
        Ok(())
    }
}
