//! Admin UI pages: one file per area, each with its askama page structs beside its handlers.

pub mod account;
pub mod admins;
pub mod answers;
pub mod archive;
pub mod audit;
pub mod broadcasts;
pub mod channels;
pub mod dashboard;
pub mod gateways;
pub mod import;
pub mod inbox;
pub mod login;
pub mod misc;
pub mod privacy;
mod quota_text;
pub mod sandbox;
pub mod signup;
pub mod subscribers;
pub mod tokens;
pub mod webhooks;

use crate::domain::Problem;
use crate::domain::Reason;
use actix_web::HttpResponse;
use actix_web::http::header;

use super::error::WebError;
use super::guard::Me;
use super::i18n::{Lang, Texts, texts};
use crate::domain::Role;

/// What every logged-in page's layout needs.
pub struct Ctx {
    pub username: String,
    pub role: Role,
    pub csrf: String,
    /// The admin's language (their choice, else the browser's) and its strings.
    pub lang: Lang,
    pub t: &'static Texts,
    /// The admin's time zone (their own, else the installation's): every time on a page is local.
    pub zone: crate::domain::zone::Zone,
    /// Conversations waiting for the team (the navigation shows them).
    pub open_threads: i64,
}

impl Ctx {
    pub fn new(me: &Me) -> Result<Self, WebError> {
        let admin = me.admin()?;
        let lang = admin.language.as_deref().and_then(Lang::parse).unwrap_or(me.1);
        Ok(Self {
            username: admin.username.clone(),
            role: admin.role,
            csrf: me.csrf(),
            lang,
            t: texts(lang),
            zone: me.2.clone(),
            open_threads: me.3,
        })
    }
    /// Why a form was refused, in this admin's language.
    pub fn problem(&self, p: &Problem) -> String {
        crate::web::i18n::problem(self.lang, p)
    }
    /// Why deliveries wait or a broadcast paused, in this admin's language.
    pub fn reason(&self, r: &Reason) -> String {
        crate::web::i18n::reason(self.lang, r)
    }
    /// Why deliveries wait, and until when.
    pub fn waiting(&self, w: &crate::service::broadcasts::Waiting) -> String {
        let until = self.zone.when(w.until);
        self.t.with2("reason-waiting-until", "reason", self.reason(&w.reason), "until", until)
    }
    /// Whether a gateway or the bot answers, in a few words.
    pub fn health(&self, h: &crate::domain::health::Health) -> String {
        use crate::domain::health::Health;
        match h {
            Health::Unknown => self.t.get("health-unknown"),
            Health::Up { at } => self.t.with("health-up", "at", self.zone.when(*at)),
            Health::Down { since, reason } => {
                self.t.with2("health-down", "since", self.zone.when(*since), "reason", self.reason(reason))
            }
        }
    }
    /// The CSS class a route's health is shown with.
    pub fn health_class(&self, h: &crate::domain::health::Health) -> &'static str {
        match h.up() {
            Some(true) => "health-up",
            Some(false) => "health-down",
            None => "health-unknown",
        }
    }
    /// A time as people read it here: `2026-12-24 18:00 CET`.
    pub fn when(&self, ts: &i64) -> String {
        self.zone.when(*ts)
    }
    /// An RFC 3339 time of the export (kept as it is for the JSON download) the way pages show times.
    pub fn when_stamp(&self, stamp: &str) -> String {
        time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)
            .map(|t| self.zone.when(t.unix_timestamp()))
            .unwrap_or_else(|_| stamp.to_string())
    }
    pub fn is_editor(&self) -> bool {
        self.role.allows(Role::Editor)
    }
    pub fn is_owner(&self) -> bool {
        self.role.allows(Role::Owner)
    }
}

/// How a message on a page looks: done (green), nothing there (amber), refused (red).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Done,
    Missing,
    Refused,
}

impl Tone {
    /// The CSS class it is shown with.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Done => "notice",
            Tone::Missing => "warning",
            Tone::Refused => "error",
        }
    }
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// Renders a page with a status (400 for a form with errors), no caching.
pub fn render<T: askama::Template>(status: actix_web::http::StatusCode, page: &T) -> Result<HttpResponse, WebError> {
    let body = page.render().map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

pub fn ok<T: askama::Template>(page: &T) -> Result<HttpResponse, WebError> {
    render(actix_web::http::StatusCode::OK, page)
}
