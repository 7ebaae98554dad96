//! Drafts and review: a broadcast saved before it goes, edited, submitted for an owner's approval,
//! approved (then sent or scheduled) or sent back with a comment; a scheduled broadcast taken back
//! into the drafts; a test of the exact message. Every step is audited, never with the text.

use super::broadcasts::{Compose, MAX_BODY_CHARS};
use super::{Actor, Result, Service, ServiceError};
use crate::domain::audit::Action;
use crate::domain::draft::{Draft, Written};
use crate::domain::{BroadcastId, DraftId, DraftState, Message, Problem};
use crate::store::{audit, broadcasts, drafts};

/// An owner's comment when sending a draft back is at most this long.
const MAX_COMMENT: usize = 1000;

/// A draft is sent under this idempotency key: once, however often "send" is pressed.
fn draft_key(id: DraftId) -> String {
    format!("draft-{id}")
}

fn check(w: &Written) -> Result<()> {
    let long = |t: &str| t.chars().count() > MAX_BODY_CHARS;
    if long(&w.body) || w.translation.as_ref().is_some_and(|t| long(&t.body)) {
        return Err(ServiceError::Invalid(Problem::new("message-too-long").with("max", MAX_BODY_CHARS)));
    }
    if w.title.chars().count() > 200 {
        return Err(ServiceError::Invalid(Problem::new("title-too-long")));
    }
    Ok(())
}

impl Service {
    /// Every draft, those waiting for approval first.
    pub async fn drafts(&self) -> Result<Vec<Draft>> {
        Ok(self.store().call(|c| drafts::list(c)).await?)
    }

    pub async fn draft(&self, id: DraftId) -> Result<Draft> {
        Ok(self.store().call(move |c| drafts::get(c, id)).await?)
    }

    /// How many drafts wait for an owner's approval.
    pub async fn drafts_waiting(&self) -> Result<i64> {
        Ok(self.store().call(|c| drafts::waiting(c)).await?)
    }

    /// Saves what was written as a new draft or over draft `id`. Unchanged, nothing is written. An
    /// editor who needs approval and changes a submitted draft takes it back (it must be submitted
    /// again); an owner's change keeps it where it is.
    pub async fn save_draft(&self, actor: &Actor, id: Option<DraftId>, w: Written) -> Result<DraftId> {
        check(&w)?;
        let revise = self.needs_approval(actor).await?;
        let (now, actor) = (self.now(), actor.clone());
        Ok(self
            .store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                let id = match id {
                    Some(id) => {
                        let d = drafts::get(&tx, id)?;
                        if d.written == w {
                            return Ok(id);
                        }
                        let state =
                            if revise && d.state == DraftState::Submitted { DraftState::Draft } else { d.state };
                        drafts::update(&tx, id, &w, state, now)?;
                        id
                    }
                    None => drafts::insert(&tx, &w, &actor.to_string(), now)?,
                };
                audit::append(&tx, actor.audit(now, Action::DraftSaved, format!("draft {id}"), ""))?;
                tx.commit()?;
                Ok(id)
            })
            .await?)
    }

    /// Submits a draft for an owner's approval.
    pub async fn submit_draft(&self, actor: &Actor, id: DraftId) -> Result<()> {
        let d = self.draft(id).await?;
        if d.written.body.trim().is_empty() {
            return Err(ServiceError::Invalid(Problem::new("message-empty")));
        }
        if d.written.channels.is_empty() {
            return Err(ServiceError::Invalid(Problem::new("channel-needed")));
        }
        self.move_draft(actor, id, &[DraftState::Draft, DraftState::Returned], DraftState::Submitted, None).await
    }

    /// An owner sends a submitted draft back to its author with a comment.
    pub async fn return_draft(&self, actor: &Actor, id: DraftId, comment: &str) -> Result<()> {
        self.check_owner(actor, "approval-owner").await?;
        let comment = comment.trim().to_string();
        if comment.is_empty() || comment.chars().count() > MAX_COMMENT {
            return Err(ServiceError::Invalid(Problem::new("comment-length").with("max", MAX_COMMENT)));
        }
        self.move_draft(actor, id, &[DraftState::Submitted], DraftState::Returned, Some(comment)).await
    }

    async fn move_draft(
        &self,
        actor: &Actor,
        id: DraftId,
        from: &'static [DraftState],
        to: DraftState,
        comment: Option<String>,
    ) -> Result<()> {
        let (now, actor) = (self.now(), actor.clone());
        let action = if to == DraftState::Returned { Action::DraftReturned } else { Action::DraftSubmitted };
        self.store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                drafts::transition(&tx, id, from, to, comment.as_deref(), now)?;
                audit::append(&tx, actor.audit(now, action, format!("draft {id}"), ""))?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        tracing::info!(draft = %id, state = to.as_str(), "draft moved");
        Ok(())
    }

    /// Sends (or schedules) a draft: an editor's own when no approval is needed, or any by an owner —
    /// for a submitted one that is its approval, audited as such. Sent once however often it is
    /// asked (the draft's id is the broadcast's idempotency key); the draft is gone afterwards.
    pub async fn send_draft(&self, actor: &Actor, id: DraftId) -> Result<super::Broadcast> {
        if self.needs_approval(actor).await? {
            return Err(ServiceError::Invalid(Problem::new("approval-needed")));
        }
        let d = self.draft(id).await?;
        let approved = d.state == DraftState::Submitted;
        let author = d.author.clone();
        let compose = Compose::from_written(d.written, draft_key(id));
        let (b, _) = self.insert_broadcast(actor, compose, Some(author.clone())).await?;
        let (now, actor, bid) = (self.now(), actor.clone(), b.id);
        self.store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                match drafts::delete(&tx, id) {
                    Ok(()) | Err(crate::store::StoreError::NotFound) => {}
                    Err(e) => return Err(e),
                }
                if approved {
                    // The author by name (an admin removed since stays as their id).
                    let name = author
                        .strip_prefix("admin:")
                        .and_then(|a| a.parse().ok())
                        .and_then(|a| crate::store::admins::by_id(&tx, a).ok())
                        .map_or(author, |a| a.username);
                    let detail = Message::new("audit-draft-approved").with("draft", id.0).with("author", name);
                    audit::append(
                        &tx,
                        actor.audit(now, Action::DraftApproved, format!("broadcast {bid}"), detail.stored()),
                    )?;
                }
                tx.commit()?;
                Ok(())
            })
            .await?;
        Ok(b)
    }

    /// The broadcast a draft became, once it was sent (a second click on "send" finds it).
    pub async fn sent_draft(&self, id: DraftId) -> Result<Option<BroadcastId>> {
        Ok(self.store().call(move |c| broadcasts::by_key(c, &draft_key(id))).await?)
    }

    pub async fn delete_draft(&self, actor: &Actor, id: DraftId) -> Result<()> {
        let (now, actor) = (self.now(), actor.clone());
        Ok(self
            .store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                drafts::delete(&tx, id)?;
                audit::append(&tx, actor.audit(now, Action::DraftDeleted, format!("draft {id}"), ""))?;
                tx.commit()?;
                Ok(())
            })
            .await?)
    }

    /// Takes a scheduled broadcast that has not started back into the drafts, to edit it (and, where
    /// editors need approval, to have it approved again). Refused once it has started.
    pub async fn unschedule(&self, actor: &Actor, id: BroadcastId) -> Result<DraftId> {
        let (now, actor) = (self.now(), actor.clone());
        Ok(self
            .store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                let author = broadcasts::get(&tx, id)?.created_by;
                let written = broadcasts::unschedule(&tx, id)?;
                let draft = drafts::insert(&tx, &written, &author, now)?;
                let detail = Message::new("audit-unscheduled").with("draft", draft.0).stored();
                audit::append(&tx, actor.audit(now, Action::BroadcastUnscheduled, format!("broadcast {id}"), detail))?;
                tx.commit()?;
                Ok(draft)
            })
            .await?)
    }
}
