//! The import page: paste or choose a member list (CSV), name where its people agreed, see what will
//! happen line by line, then import.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Ctx, ok, render};
use crate::domain::{Channel, ChannelId, Problem};
use crate::service::ServiceError;
use crate::service::import::{ImportMode, ImportReport, ImportRequest};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    ctx: Ctx,
    channels: Vec<Channel>,
    f: ImportForm,
    report: Option<ImportReport>,
    error: Option<Problem>,
}

#[derive(Debug, Default)]
struct ImportForm {
    channels: Vec<ChannelId>,
    csv: String,
    consent_source: String,
    mode: ImportMode,
}

impl ImportForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> (Self, bool) {
        let mut f = Self::default();
        let mut commit = false;
        for (k, v) in pairs {
            match k.as_str() {
                "channel" => f.channels.extend(v.parse::<ChannelId>().ok()),
                "csv" => f.csv = v,
                "consent_source" => f.consent_source = v,
                "mode" => f.mode = if v == "ask" { ImportMode::Ask } else { ImportMode::Agreed },
                "action" => commit = v == "commit",
                _ => {}
            }
        }
        (f, commit)
    }

    fn has(&self, id: &ChannelId) -> bool {
        self.channels.contains(id)
    }
}

pub async fn form(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    let channels = state.service.channels().await?;
    ok(&ImportPage { ctx: Ctx::new(&me)?, channels, f: ImportForm::default(), report: None, error: None })
}

/// Preview (the default) or commit, as the pressed button says.
pub async fn submit(
    state: web::Data<AppState>,
    me: Me,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let (f, commit) = ImportForm::from_pairs(form.into_inner());
    let req = ImportRequest {
        channels: f.channels.clone(),
        csv: f.csv.clone(),
        consent_source: f.consent_source.clone(),
        mode: f.mode,
    };
    let result = if commit {
        state.service.import_commit(&me.0.actor(), req).await
    } else {
        state.service.import_preview(req).await
    };
    let (status, report, error) = match result {
        Ok(r) => (StatusCode::OK, Some(r), None),
        Err(ServiceError::Invalid(p) | ServiceError::Conflict(p)) => (StatusCode::BAD_REQUEST, None, Some(p)),
        Err(e) => return Err(e.into()),
    };
    let channels = state.service.channels().await?;
    render(status, &ImportPage { ctx: Ctx::new(&me)?, channels, f, report, error })
}
