//! The audit log as the use cases write it: who did what to which id, never an address or a text.

use super::{Actor, Result, Service};
use crate::domain::audit::{Action, AuditEvent};
use crate::store::audit::{self, NewAudit};

impl Actor {
    /// The actor's stored id (`admin:3`) and name (the admin's user name or the token's name).
    fn parts(&self) -> (String, String) {
        let name = match self {
            Actor::Admin { username, .. } => username.clone(),
            Actor::Token { name, .. } => name.clone(),
            _ => String::new(),
        };
        (self.to_string(), name)
    }

    /// An audit entry by this actor, ready to append inside a transaction.
    pub(crate) fn audit(
        &self,
        at: i64,
        action: Action,
        target: impl Into<String>,
        detail: impl Into<String>,
    ) -> NewAudit {
        let (actor, actor_name) = self.parts();
        NewAudit { at, actor, actor_name, action: action.as_str().into(), target: target.into(), detail: detail.into() }
    }
}

impl Service {
    /// Records an action that made no other change in the database (a login, an export, a backup).
    pub async fn audit(
        &self,
        actor: &Actor,
        action: Action,
        target: impl Into<String>,
        detail: impl Into<String>,
    ) -> Result<()> {
        let entry = actor.audit(self.now(), action, target, detail);
        self.store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                audit::append(&tx, entry)?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// The audit log, newest first, with the number of entries.
    pub async fn audit_log(&self, limit: i64, offset: i64) -> Result<(Vec<AuditEvent>, i64)> {
        Ok(self.store().call(move |c| audit::page(c, limit, offset)).await?)
    }
}

impl Service {
    /// Runs `change` in one write transaction and appends the audit entry `describe` makes of its
    /// result in the same transaction: the action and its record commit together or not at all.
    pub(crate) async fn audited<T, F, D>(&self, change: F, describe: D) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> crate::store::Result<T> + Send + 'static,
        D: FnOnce(&T) -> NewAudit + Send + 'static,
    {
        Ok(self
            .store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                let value = change(&tx)?;
                audit::append(&tx, describe(&value))?;
                tx.commit()?;
                Ok(value)
            })
            .await?)
    }
}
