//! Keyword answers: what herold answers when someone sends a keyword ("TRAINING"), per channel or for
//! everyone, in German and English, with how often each was asked for.

use crate::domain::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, render, see_other};
use crate::domain::Channel;
use crate::domain::answer::{Answer, NewAnswer};
use crate::service::ServiceError;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "answers.html")]
struct AnswersPage {
    ctx: Ctx,
    answers: Vec<Answer>,
    channels: Vec<Channel>,
    f: AnswerForm,
    error: Option<Problem>,
}

impl AnswersPage {
    /// Whom an answer is for: a channel's name, or everyone.
    fn scope(&self, a: &Answer) -> String {
        match a.answer.channel {
            Some(id) => {
                self.channels.iter().find(|c| c.id == id).map_or_else(|| id.to_string(), |c| c.draft.name.clone())
            }
            None => self.ctx.t.get("an-everyone"),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AnswerForm {
    /// A channel id, or empty for everyone.
    #[serde(default)]
    channel: String,
    #[serde(default)]
    keyword: String,
    #[serde(default)]
    answer_de: String,
    #[serde(default)]
    answer_en: String,
}

async fn page(
    state: &AppState,
    me: &Me,
    f: AnswerForm,
    status: StatusCode,
    error: Option<Problem>,
) -> Result<HttpResponse, WebError> {
    let (answers, channels) = (state.service.keyword_answers().await?, state.service.channels().await?);
    render(status, &AnswersPage { ctx: Ctx::new(me)?, answers, channels, f, error })
}

pub async fn list(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    page(&state, &me, AnswerForm::default(), StatusCode::OK, None).await
}

pub async fn create(state: web::Data<AppState>, me: Me, f: web::Form<AnswerForm>) -> Result<HttpResponse, WebError> {
    let f = f.into_inner();
    let new = NewAnswer {
        channel: f.channel.parse().ok(),
        keyword: f.keyword.clone(),
        answer_de: f.answer_de.clone(),
        answer_en: f.answer_en.clone(),
    };
    match state.service.add_keyword_answer(&me.0.actor(), new).await {
        Ok(_) => Ok(see_other("/answers")),
        Err(ServiceError::Invalid(p) | ServiceError::Conflict(p)) => {
            page(&state, &me, f, StatusCode::BAD_REQUEST, Some(p)).await
        }
        Err(ServiceError::NotFound) => {
            page(&state, &me, f, StatusCode::BAD_REQUEST, Some(Problem::new("channels-missing"))).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn remove(state: web::Data<AppState>, me: Me, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    state.service.remove_keyword_answer(&me.0.actor(), *id).await?;
    Ok(see_other("/answers"))
}
