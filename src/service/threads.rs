//! Conversations and keyword answers: one thread per subscriber and transport with their messages
//! and every answer (keyword answers, the first answer, the team's replies, each with its author),
//! open or done, taken by an admin; the keywords editors define and how often each was asked for.

use serde::Serialize;

use super::{Actor, Result, Service, ServiceError};
use crate::domain::answer::{Answer, NewAnswer};
use crate::domain::audit::Action;
use crate::domain::{Problem, SubscriberId, ThreadId, ThreadState};
use crate::store::threads;
pub use crate::store::threads::{Filter, Thread};
use crate::store::{answers, audit, subscribers as subs};

/// The additional data an answer kept in a conversation is sealed with.
pub(crate) const ANSWER_AAD: &str = "answer";

/// How many messages a conversation's page shows (the newest).
const SHOWN: i64 = 200;

/// A conversation with its messages opened, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadView {
    pub thread: Thread,
    /// The subscriber's pseudonymous id.
    pub subscriber: String,
    pub messages: Vec<ThreadMessage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ThreadMessage {
    pub at: i64,
    /// Who answered (`admin:<id>`, `keyword:<id>`, `herold`); none: the subscriber wrote it.
    pub author: Option<String>,
    pub text: String,
}

impl Service {
    /// A page of conversations (newest activity first) and how many the filter has.
    pub async fn threads(&self, filter: Filter, limit: i64, offset: i64) -> Result<(Vec<Thread>, i64)> {
        Ok(self.store().call(move |c| threads::list(c, filter, limit, offset)).await?)
    }

    /// How many conversations wait for the team.
    pub async fn open_threads(&self) -> Result<i64> {
        Ok(self.store().call(|c| threads::open_count(c)).await?)
    }

    /// The conversation with a subscriber on a transport, if any (their page links it).
    pub async fn thread_of(
        &self,
        subscriber: SubscriberId,
        transport: crate::domain::Transport,
    ) -> Result<Option<ThreadId>> {
        Ok(self.store().call(move |c| threads::of(c, subscriber.0, transport)).await?)
    }

    /// A conversation with its newest messages opened with the subscriber's key.
    pub async fn thread(&self, id: ThreadId) -> Result<ThreadView> {
        let vault = self.vault().clone();
        Ok(self
            .store()
            .call(move |c| {
                let thread = threads::get(c, id)?;
                let who = SubscriberId(thread.subscriber_id);
                let wrapped = subs::wrapped_key(c, thread.subscriber_id)?.ok_or(crate::store::StoreError::NotFound)?;
                let key = vault.unwrap_data_key(who, &wrapped)?;
                let messages = threads::messages(c, thread.subscriber_id, thread.transport, SHOWN)?
                    .into_iter()
                    .map(|m| {
                        let aad = if m.author.is_some() { ANSWER_AAD } else { "inbound" };
                        let text = key.open_string(aad, &m.text).map(|t| t.to_string()).unwrap_or_default();
                        ThreadMessage { at: m.at, author: m.author, text }
                    })
                    .collect();
                Ok(ThreadView { thread, subscriber: who.to_string(), messages })
            })
            .await?)
    }

    /// Answers in a conversation: over its transport (into the same Matrix DM), ahead of broadcasts,
    /// kept in the conversation with the admin as its author. Refused once the person has left or was
    /// erased since they last wrote.
    pub async fn reply_in_thread(&self, actor: &Actor, id: ThreadId, text: &str) -> Result<()> {
        let t = self.store().call(move |c| threads::get(c, id)).await?;
        let last = self
            .store()
            .call(move |c| crate::store::conversation::last_inbox_id(c, t.subscriber_id, t.transport))
            .await?
            .ok_or(ServiceError::Conflict(Problem::new("thread-nothing-to-answer")))?;
        self.reply_to_inbox(actor, last, text).await
    }

    /// Takes a conversation (`admin`), or gives it back (none). Audited.
    pub async fn assign_thread(&self, actor: &Actor, id: ThreadId, admin: Option<i64>) -> Result<()> {
        let (now, actor) = (self.now(), actor.clone());
        self.store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                threads::assign(&tx, id, admin)?;
                let detail = match admin {
                    Some(a) => crate::domain::Message::new("audit-thread-assigned")
                        .with("admin", crate::store::admins::by_id(&tx, a)?.username),
                    None => crate::domain::Message::new("audit-thread-unassigned"),
                }
                .stored();
                audit::append(&tx, actor.audit(now, Action::ThreadAssigned, format!("thread {id}"), detail))?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// Marks a conversation done, or open again. Audited.
    pub async fn set_thread_state(&self, actor: &Actor, id: ThreadId, state: ThreadState) -> Result<()> {
        let (now, actor) = (self.now(), actor.clone());
        let action = if state == ThreadState::Done { Action::ThreadClosed } else { Action::ThreadReopened };
        self.store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                threads::set_state(&tx, id, state, now)?;
                audit::append(&tx, actor.audit(now, action, format!("thread {id}"), ""))?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// Every keyword answer with its count.
    pub async fn keyword_answers(&self) -> Result<Vec<Answer>> {
        Ok(self.store().call(|c| answers::list(c)).await?)
    }

    /// Defines a keyword answer; a keyword the grammar reads as a command is refused.
    pub async fn add_keyword_answer(&self, actor: &Actor, a: NewAnswer) -> Result<i64> {
        let a = a.validate()?;
        let (now, actor) = (self.now(), actor.clone());
        Ok(self
            .store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                if let Some(ch) = a.channel {
                    crate::store::channels::by_id(&tx, ch)?;
                }
                let id = answers::insert(&tx, &a, now)?;
                audit::append(&tx, actor.audit(now, Action::KeywordAnswerAdded, a.keyword.clone(), ""))?;
                tx.commit()?;
                Ok(id)
            })
            .await?)
    }

    pub async fn remove_keyword_answer(&self, actor: &Actor, id: i64) -> Result<()> {
        let (now, actor) = (self.now(), actor.clone());
        self.store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                let a = answers::delete(&tx, id)?;
                audit::append(&tx, actor.audit(now, Action::KeywordAnswerRemoved, a.answer.keyword, ""))?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        Ok(())
    }
}
