//! actix routes: the admin UI (askama), the JSON API, public pages; sessions, CSRF, rate limits, security headers.
//! `web` talks only to `service`; it never runs SQL.

pub mod api;
pub mod assets;
pub mod chart;
pub mod error;
pub mod guard;
pub mod hooks;
pub mod logins;
pub mod metrics;
pub use crate::i18n;
pub mod pages;
pub mod qr;
pub mod routes;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};

use crate::service::Service;

pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; \
                       report-uri /csp-report";

/// Shared by every request.
pub struct AppState {
    pub service: Service,
    /// `scheme://host[:port]` of `public_url`, for the Origin check and links.
    pub public_origin: String,
    pub public_url: String,
    /// Whether cookies get `Secure` (public_url is https).
    pub secure_cookies: bool,
    /// Forms are accepted only from `public_origin` (public_url was configured and no proxy is
    /// trusted); otherwise also from the address the browser used (the sandbox tour on localhost).
    pub origin_strict: bool,
    pub trust_proxy: bool,
    pub logins: Arc<logins::LoginLimits>,
    /// Who may scrape `/metrics` on this address (`None`: it is not served here).
    pub metrics: Option<metrics::Scrapers>,
}

/// Web settings taken from the configuration.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub public_url: String,
    /// `public_url` was configured (not derived from `listen`).
    pub public_url_set: bool,
    pub trust_proxy: bool,
    pub login_per_ip_per_minute: u32,
    pub login_per_account_per_hour: u32,
    /// `/metrics` on this address, for callers with this bearer token.
    pub metrics: Option<metrics::Scrapers>,
}

impl AppState {
    pub fn new(service: Service, s: &WebSettings) -> Self {
        let origin: String = s.public_url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        Self {
            service,
            secure_cookies: s.public_url.starts_with("https://"),
            origin_strict: s.public_url_set && !s.trust_proxy,
            public_origin: origin,
            public_url: s.public_url.clone(),
            trust_proxy: s.trust_proxy,
            logins: logins::LoginLimits::new(s.login_per_ip_per_minute, s.login_per_account_per_hour),
            metrics: s.metrics.clone(),
        }
    }
}

/// Builds the HTTP server on an already bound listener (tests bind port 0).
pub fn server(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    // Behind https, browsers are told to use nothing else for a year (HSTS).
    let hsts = state.secure_cookies.then_some(("Strict-Transport-Security", "max-age=31536000"));
    let server = HttpServer::new(move || {
        let mut headers = DefaultHeaders::new()
            .add(("Content-Security-Policy", CSP))
            .add(("X-Content-Type-Options", "nosniff"))
            .add(("X-Frame-Options", "DENY"))
            .add(("Referrer-Policy", "same-origin"))
            .add(("Cross-Origin-Opener-Policy", "same-origin"))
            .add(("Permissions-Policy", "camera=(), microphone=(), geolocation=()"));
        if let Some(h) = hsts {
            headers = headers.add(h);
        }
        App::new()
            .app_data(state.clone())
            .app_data(web::FormConfig::default().limit(256 * 1024))
            .app_data(web::JsonConfig::default().limit(256 * 1024).error_handler(error::json_error))
            .app_data(web::QueryConfig::default().error_handler(|_, req| {
                error::extractor_error(actix_web::http::StatusCode::BAD_REQUEST, "query-malformed", req)
            }))
            .app_data(web::PathConfig::default().error_handler(|_, req| {
                error::extractor_error(actix_web::http::StatusCode::NOT_FOUND, "not-found", req)
            }))
            .app_data(web::PayloadConfig::default().limit(256 * 1024))
            .wrap(from_fn(guard::guard))
            .wrap(headers)
            .wrap(tracing_actix_web::TracingLogger::<RedactedRootSpan>::new())
            .configure(routes::configure)
            .default_service(web::to(pages::misc::not_found))
    })
    .listen(listener)?
    .shutdown_timeout(10)
    .run();
    Ok(server)
}

/// Request spans carry the route pattern, never the full URL with its query.
pub struct RedactedRootSpan;

impl tracing_actix_web::RootSpanBuilder for RedactedRootSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let route = request.match_pattern().unwrap_or_else(|| "unmatched".into());
        tracing::info_span!("http", method = %request.method(), route = %route, status = tracing::field::Empty)
    }
    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        if let Ok(r) = outcome {
            span.record("status", r.status().as_u16());
        }
    }
}
