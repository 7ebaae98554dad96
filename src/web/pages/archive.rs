//! The public newsletter archive of a channel: past issues, no cookies, no tracking.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::ok;
use crate::domain::Channel;
use crate::service::Broadcast;
use crate::web::AppState;
use crate::web::error::WebError;

#[derive(Template)]
#[template(path = "archive.html")]
struct ArchivePage {
    ch: Channel,
    issues: Vec<Broadcast>,
    zone: crate::domain::zone::Zone,
}

#[derive(Template)]
#[template(path = "archive_issue.html")]
struct IssuePage {
    ch: Channel,
    issue: Broadcast,
    zone: crate::domain::zone::Zone,
}

pub async fn list(state: web::Data<AppState>, keyword: web::Path<String>) -> Result<HttpResponse, WebError> {
    let (ch, issues) = state.service.archive(&keyword).await?;
    ok(&ArchivePage { ch, issues, zone: state.service.settings().zone.clone() })
}

pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<(String, crate::domain::BroadcastId)>,
) -> Result<HttpResponse, WebError> {
    let (keyword, id) = path.into_inner();
    let (ch, issues) = state.service.archive(&keyword).await?;
    let issue = issues.into_iter().find(|b| b.id == id).ok_or(WebError::NotFound)?;
    ok(&IssuePage { ch, issue, zone: state.service.settings().zone.clone() })
}
