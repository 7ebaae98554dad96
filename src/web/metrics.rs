//! `/metrics`: the Prometheus scrape, off unless configured, then behind a bearer token of its own
//! on the main address, or on an address of its own (with the token checked too, when one is set).

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::service::Service;
use crate::web::AppState;

/// Who may scrape: a caller with this bearer token (`None`: anyone who reaches the address).
#[derive(Clone)]
pub struct Scrapers {
    pub token: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Scrapers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.token.is_some() { "Scrapers(token)" } else { "Scrapers(anyone)" })
    }
}

/// The answer to a scrape: 401 without the right token, 503 when the data cannot be read.
async fn scrape(service: &Service, who: &Scrapers, req: &HttpRequest) -> HttpResponse {
    if let Some(token) = &who.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            return HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"herold metrics\""))
                .content_type("text/plain")
                .body("a bearer token is needed (metrics.token)");
        }
    }
    match service.metrics_snapshot().await {
        Ok(now) => HttpResponse::Ok().content_type(crate::metrics::CONTENT_TYPE).body(service.metrics().render(&now)),
        Err(e) => {
            tracing::error!(error = %e, "metrics could not be read");
            HttpResponse::ServiceUnavailable().content_type("text/plain").body("unavailable")
        }
    }
}

/// `/metrics` on the main address: herold's own "not found" unless it is served here.
pub async fn on_main(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match &state.metrics {
        Some(who) => scrape(&state.service, who, &req).await,
        None => super::pages::misc::not_found(req).await,
    }
}

/// A server of its own for `/metrics` (`metrics.listen`); everything else there is 404.
pub fn server(listener: TcpListener, service: Service, who: Scrapers) -> std::io::Result<Server> {
    let state = web::Data::new((service, who));
    Ok(HttpServer::new(move || {
        App::new().app_data(state.clone()).route(
            "/metrics",
            web::get().to(|s: web::Data<(Service, Scrapers)>, req: HttpRequest| async move {
                scrape(&s.0, &s.1, &req).await
            }),
        )
    })
    .workers(1)
    .listen(listener)?
    .shutdown_timeout(5)
    .run())
}
