//! The sandbox phone: act as any number of test phones, type messages to herold, see its answers live.

use crate::domain::Problem;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, ok, see_other};
use crate::domain::{SubscriberId, Transport};
use crate::service::ServiceError;
use crate::service::conversation::{Inbound, ScreenLine};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "sandbox.html")]
struct SandboxPage {
    ctx: Ctx,
    phones: Vec<(String, String)>,
    selected: Option<String>,
    number: String,
    screen: Vec<ScreenLine>,
    error: Option<Problem>,
}

#[derive(Template)]
#[template(path = "sandbox_screen.html")]
struct ScreenPartial {
    ctx: Ctx,
    screen: Vec<ScreenLine>,
}

#[derive(Debug, Deserialize)]
pub struct PhoneQuery {
    #[serde(default)]
    phone: String,
}

pub async fn show(state: web::Data<AppState>, me: Me, q: web::Query<PhoneQuery>) -> Result<HttpResponse, WebError> {
    let phones = state.service.sandbox_phones().await?;
    let selected = phones.iter().find(|(id, _)| *id == q.phone).cloned();
    let screen = match &selected {
        Some((id, _)) => state.service.sandbox_screen(id.parse().map_err(|_| WebError::NotFound)?).await?,
        None => vec![],
    };
    let (selected, number) = selected.map(|(i, n)| (Some(i), n)).unwrap_or((None, String::new()));
    ok(&SandboxPage { ctx: Ctx::new(&me)?, phones, selected, number, screen, error: None })
}

/// The screen alone, for the page's live update.
pub async fn screen(state: web::Data<AppState>, me: Me, q: web::Query<PhoneQuery>) -> Result<HttpResponse, WebError> {
    let id: SubscriberId = q.phone.parse().map_err(|_| WebError::NotFound)?;
    ok(&ScreenPartial { ctx: Ctx::new(&me)?, screen: state.service.sandbox_screen(id).await? })
}

#[derive(Debug, Deserialize)]
pub struct TypeForm {
    number: String,
    text: String,
}

pub async fn type_message(
    state: web::Data<AppState>,
    me: Me,
    f: web::Form<TypeForm>,
) -> Result<HttpResponse, WebError> {
    let f = f.into_inner();
    let msg = Inbound {
        transport: Transport::Sandbox,
        from: f.number.clone(),
        text: f.text,
        gateway_message_id: None,
        room: None,
    };
    match state.service.receive(msg).await {
        Ok(r) => Ok(see_other(&format!("/sandbox?phone={}", r.subscriber))),
        Err(ServiceError::Invalid(m)) => {
            let phones = state.service.sandbox_phones().await?;
            let page = SandboxPage {
                ctx: Ctx::new(&me)?,
                phones,
                selected: None,
                number: String::new(),
                screen: vec![],
                error: Some(m),
            };
            super::render(actix_web::http::StatusCode::BAD_REQUEST, &page)
        }
        Err(e) => Err(e.into()),
    }
}
