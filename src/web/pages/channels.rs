//! Channel pages: list, detail, create and edit.

use crate::domain::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, ok, render, see_other};
use crate::domain::{
    Channel, ChannelDraft, ChannelId, ChannelKind, Frequency, FrequencyPeriod, OptInMode, Texts, Transport,
    channel::{OverCap, OwnTexts},
    quiet::{ClockTime, QuietHours, QuietRule},
};
use crate::i18n::Lang;
use crate::service::ServiceError;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::guard::Me;

#[derive(Template)]
#[template(path = "channels.html")]
struct ListPage {
    ctx: Ctx,
    channels: Vec<Channel>,
}

#[derive(Template)]
#[template(path = "channel.html")]
struct ShowPage {
    ctx: Ctx,
    ch: Channel,
    room: Option<crate::service::rooms::RoomInfo>,
    quiet: Option<QuietHours>,
    /// The channel's keyword answers and how often each was asked for.
    answers: Vec<crate::domain::answer::Answer>,
    /// A Matrix bot is configured (an announcement room needs one).
    bot: bool,
    /// What keeps the channel's transports from reaching people (text keys).
    gaps: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "channel_form.html")]
struct FormPage {
    ctx: Ctx,
    action: String,
    f: ChannelForm,
    error: Option<Problem>,
    /// What the installation reaches people with: a transport without a route says so beside it.
    reach: crate::service::channels::Reach,
}

/// The channel form as posted (checkboxes arrive as optional fields).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChannelForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub keyword: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub opt_in: String,
    #[serde(default)]
    pub t_sandbox: Option<String>,
    #[serde(default)]
    pub t_sms: Option<String>,
    #[serde(default)]
    pub t_matrix: Option<String>,
    #[serde(default)]
    pub freq_max: String,
    #[serde(default)]
    pub freq_period: String,
    #[serde(default)]
    pub public_archive: Option<String>,
    /// `installation`, `own` or `urgent`.
    #[serde(default)]
    pub quiet: String,
    #[serde(default)]
    pub quiet_from: String,
    #[serde(default)]
    pub quiet_until: String,
    #[serde(default)]
    pub quiet_sundays: Option<String>,
    /// `wait` or `skip`.
    #[serde(default)]
    pub over_cap: String,
    /// The channel's own texts, `welcome_<language>` and `confirm_<language>` (and anything else the
    /// form sends, which is ignored).
    #[serde(flatten)]
    pub texts: std::collections::BTreeMap<String, String>,
}

impl ChannelForm {
    /// The form's `which` text (welcome, confirm) in `lang`.
    pub fn text(&self, which: &str, lang: &Lang) -> &str {
        self.texts.get(&format!("{which}_{}", lang.code())).map_or("", String::as_str)
    }

    fn from_channel(c: &Channel) -> Self {
        let d = &c.draft;
        let has = |t| d.transports.contains(&t).then(|| "on".to_string());
        Self {
            name: d.name.clone(),
            keyword: d.keyword.clone(),
            description: d.description.clone(),
            kind: d.kind.as_str().into(),
            opt_in: d.opt_in.as_str().into(),
            t_sandbox: has(Transport::Sandbox),
            t_sms: has(Transport::Sms),
            t_matrix: has(Transport::Matrix),
            freq_max: d.frequency.map(|f| f.max.to_string()).unwrap_or_default(),
            freq_period: d.frequency.map(|f| f.period.as_str().to_string()).unwrap_or_else(|| "week".into()),
            texts: Lang::ALL
                .iter()
                .flat_map(|l| {
                    [
                        (format!("welcome_{}", l.code()), d.texts.welcome(*l).to_string()),
                        (format!("confirm_{}", l.code()), d.texts.confirm(*l).to_string()),
                    ]
                })
                .collect(),
            public_archive: d.public_archive.then(|| "on".to_string()),
            quiet: d.quiet.as_str().into(),
            quiet_from: own_hours(&d.quiet).from.to_string(),
            quiet_until: own_hours(&d.quiet).until.to_string(),
            quiet_sundays: own_hours(&d.quiet).sundays.then(|| "on".to_string()),
            over_cap: d.over_cap.as_str().into(),
        }
    }

    fn blank() -> Self {
        Self {
            kind: "broadcast".into(),
            opt_in: "double".into(),
            t_sandbox: Some("on".into()),
            freq_period: "week".into(),
            quiet: QuietRule::Installation.as_str().into(),
            quiet_from: QuietHours::default().from.to_string(),
            quiet_until: QuietHours::default().until.to_string(),
            over_cap: OverCap::Wait.as_str().into(),
            ..Default::default()
        }
    }

    fn to_draft(&self) -> Result<ChannelDraft, Problem> {
        let mut transports = Vec::new();
        for (on, t) in
            [(&self.t_sandbox, Transport::Sandbox), (&self.t_sms, Transport::Sms), (&self.t_matrix, Transport::Matrix)]
        {
            if on.is_some() {
                transports.push(t);
            }
        }
        let frequency = match self.freq_max.trim() {
            "" => None,
            n => Some(Frequency {
                max: n.parse().map_err(|_| Problem::new("frequency-number"))?,
                period: FrequencyPeriod::parse(&self.freq_period).map_err(|e| e.0)?,
            }),
        };
        Ok(ChannelDraft {
            name: self.name.clone(),
            keyword: self.keyword.clone(),
            description: self.description.clone(),
            kind: ChannelKind::parse(&self.kind).map_err(|e| e.0)?,
            opt_in: OptInMode::parse(&self.opt_in).map_err(|e| e.0)?,
            texts: {
                let mut texts = Texts::default();
                for l in Lang::ALL {
                    texts.set(
                        *l,
                        OwnTexts { welcome: self.text("welcome", l).into(), confirm: self.text("confirm", l).into() },
                    );
                }
                texts
            },
            transports,
            frequency,
            public_archive: self.public_archive.is_some(),
            quiet: match self.quiet.as_str() {
                "own" => QuietRule::Own(QuietHours {
                    from: ClockTime::parse(&self.quiet_from).map_err(|e| e.0)?,
                    until: ClockTime::parse(&self.quiet_until).map_err(|e| e.0)?,
                    sundays: self.quiet_sundays.is_some(),
                }),
                "urgent" => QuietRule::Urgent,
                _ => QuietRule::Installation,
            },
            over_cap: if self.over_cap.is_empty() {
                OverCap::Wait
            } else {
                OverCap::parse(&self.over_cap).map_err(|e| e.0)?
            },
        })
    }
}

/// The channel's own quiet hours, or the usual night for the form to start from.
fn own_hours(rule: &QuietRule) -> QuietHours {
    match rule {
        QuietRule::Own(q) => *q,
        _ => QuietHours::default(),
    }
}

pub async fn list(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    ok(&ListPage { ctx: Ctx::new(&me)?, channels: state.service.channels().await? })
}

pub async fn show(state: web::Data<AppState>, me: Me, id: web::Path<ChannelId>) -> Result<HttpResponse, WebError> {
    let room = state.service.announcement_room(*id).await?;
    let ch = state.service.channel(*id).await?;
    let quiet = state.service.settings().quiet.shown(&ch.draft.quiet);
    let answers =
        state.service.keyword_answers().await?.into_iter().filter(|a| a.answer.channel == Some(ch.id)).collect();
    let bot = state.service.has_matrix_bot();
    let gaps = state.service.reach().gaps(&ch.draft.transports);
    ok(&ShowPage { ctx: Ctx::new(&me)?, ch, room, quiet, answers, bot, gaps })
}

/// Creates the channel's Matrix announcement room (one room for all: members see each other).
pub async fn create_room(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<ChannelId>,
) -> Result<HttpResponse, WebError> {
    state.service.create_announcement_room(&me.0.actor(), *id).await?;
    Ok(see_other(&format!("/channels/{id}")))
}

/// Stops posting to the channel's announcement room.
pub async fn drop_room(state: web::Data<AppState>, me: Me, id: web::Path<ChannelId>) -> Result<HttpResponse, WebError> {
    state.service.drop_announcement_room(&me.0.actor(), *id).await?;
    Ok(see_other(&format!("/channels/{id}")))
}

pub async fn new_form(state: web::Data<AppState>, me: Me) -> Result<HttpResponse, WebError> {
    let reach = state.service.reach();
    ok(&FormPage { ctx: Ctx::new(&me)?, action: "/channels".into(), f: ChannelForm::blank(), error: None, reach })
}

pub async fn edit_form(state: web::Data<AppState>, me: Me, id: web::Path<ChannelId>) -> Result<HttpResponse, WebError> {
    let ch = state.service.channel(*id).await?;
    ok(&FormPage {
        ctx: Ctx::new(&me)?,
        action: format!("/channels/{}", ch.id),
        f: ChannelForm::from_channel(&ch),
        error: None,
        reach: state.service.reach(),
    })
}

async fn save(state: &AppState, me: &Me, id: Option<ChannelId>, f: ChannelForm) -> Result<HttpResponse, WebError> {
    let action = id.map(|i| format!("/channels/{i}")).unwrap_or_else(|| "/channels".into());
    let result: Result<(), Problem> = match f.to_draft() {
        Err(msg) => Err(msg),
        Ok(draft) => {
            let r = match id {
                Some(i) => state.service.update_channel(&me.0.actor(), i, draft).await,
                None => state.service.create_channel(&me.0.actor(), draft).await,
            };
            match r {
                Ok(ch) => return Ok(see_other(&format!("/channels/{}", ch.id))),
                Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => Err(m),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let error = result.err();
    let reach = state.service.reach();
    render(StatusCode::BAD_REQUEST, &FormPage { ctx: Ctx::new(me)?, action, f, error, reach })
}

pub async fn create(state: web::Data<AppState>, me: Me, f: web::Form<ChannelForm>) -> Result<HttpResponse, WebError> {
    save(&state, &me, None, f.into_inner()).await
}

pub async fn update(
    state: web::Data<AppState>,
    me: Me,
    id: web::Path<ChannelId>,
    f: web::Form<ChannelForm>,
) -> Result<HttpResponse, WebError> {
    save(&state, &me, Some(*id), f.into_inner()).await
}
