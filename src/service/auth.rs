//! Admin accounts, first-owner setup, login with a dummy verify for unknown users, sessions, API tokens.

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Actor, Result, Service, ServiceError};
use crate::crypto::password;
use crate::domain::Problem;
use crate::domain::Role;
use crate::domain::audit::Action;
use crate::store::admins::{self, Admin};
use crate::store::audit;
use crate::store::tokens::{self, ApiToken, Scope};
use crate::store::{self, sessions};

/// Random bytes as URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn sha256(s: &str) -> Vec<u8> {
    Sha256::digest(s.as_bytes()).to_vec()
}

/// A session just created: the cookie value (shown once) and its CSRF token.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub admin: Admin,
}

/// Who a session or token belongs to.
#[derive(Debug, Clone)]
pub enum Principal {
    Admin { admin: Admin, csrf: String },
    Token(ApiToken),
}

impl Principal {
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Admin { admin, .. } => Actor::Admin { id: admin.id, username: admin.username.clone() },
            Principal::Token(t) => Actor::Token { id: t.id, name: t.name.clone() },
        }
    }
}

fn check_username(name: &str) -> Result<String> {
    let name = name.trim();
    let ok =
        (2..=64).contains(&name.chars().count()) && name.chars().all(|c| c.is_alphanumeric() || "._-@".contains(c));
    if ok { Ok(name.to_string()) } else { Err(ServiceError::Invalid(Problem::new("user-name-form"))) }
}

async fn hash_password(password: String) -> Result<String> {
    password::check_strength(&password).map_err(ServiceError::Invalid)?;
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .map_err(Into::into)
}

impl Service {
    pub async fn admin_count(&self) -> Result<i64> {
        Ok(self.store().call(|c| admins::count(c)).await?)
    }

    /// The one-time setup token, created on first call while no admin exists.
    pub async fn setup_token(&self) -> Result<Option<String>> {
        if self.admin_count().await? > 0 {
            return Ok(None);
        }
        let mut slot = self.inner.setup_token.lock().expect("setup token lock");
        Ok(Some(slot.get_or_insert_with(|| random_token(24)).clone()))
    }

    /// Checks a setup token without using it up.
    pub fn setup_token_valid(&self, token: &str) -> bool {
        use subtle::ConstantTimeEq;
        let slot = self.inner.setup_token.lock().expect("setup token lock");
        slot.as_deref().is_some_and(|t| t.len() == token.len() && bool::from(t.as_bytes().ct_eq(token.as_bytes())))
    }

    /// Creates the first owner with the setup token; the token is then gone.
    pub async fn create_first_owner(&self, token: &str, username: &str, password: String) -> Result<Admin> {
        if !self.setup_token_valid(token) {
            return Err(ServiceError::Invalid(Problem::new("setup-link-invalid")));
        }
        let name = check_username(username)?;
        let hash = hash_password(password).await?;
        let now = self.now();
        let admin = self
            .store()
            .call(move |c| {
                let tx = crate::store::write_tx(c)?;
                if admins::count(&tx)? > 0 {
                    return Err(store::StoreError::Conflict(Problem::new("owner-exists")));
                }
                let id = admins::insert(&tx, &name, &hash, Role::Owner, now)?;
                let a = admins::by_id(&tx, id)?;
                let actor = Actor::Admin { id, username: a.username.clone() };
                audit::append(
                    &tx,
                    actor.audit(
                        now,
                        Action::AdminAdded,
                        &a.username,
                        crate::domain::Message::new("audit-first-owner").stored(),
                    ),
                )?;
                tx.commit()?;
                Ok(a)
            })
            .await?;
        *self.inner.setup_token.lock().expect("setup token lock") = None;
        tracing::info!(admin = admin.id, "first owner created through the setup link");
        Ok(admin)
    }

    pub async fn add_admin(&self, actor: &Actor, username: &str, password: String, role: Role) -> Result<Admin> {
        let name = check_username(username)?;
        let hash = hash_password(password).await?;
        let (now, actor) = (self.now(), actor.clone());
        let a = self
            .audited(
                move |c| {
                    let id = admins::insert(c, &name, &hash, role, now)?;
                    admins::by_id(c, id)
                },
                move |a: &Admin| actor.audit(now, Action::AdminAdded, &a.username, a.role.as_str()),
            )
            .await?;
        tracing::info!(admin = a.id, role = a.role.as_str(), "admin added");
        Ok(a)
    }

    pub async fn list_admins(&self) -> Result<Vec<Admin>> {
        Ok(self.store().call(|c| admins::list(c)).await?)
    }

    pub async fn admin_by_name(&self, username: &str) -> Result<Admin> {
        let name = username.to_string();
        self.store().call(move |c| admins::by_username(c, &name)).await?.ok_or(ServiceError::NotFound)
    }

    pub async fn remove_admin(&self, actor: &Actor, id: i64) -> Result<Admin> {
        let (now, actor) = (self.now(), actor.clone());
        let a = self
            .audited(
                move |c| admins::remove(c, id),
                move |a: &Admin| actor.audit(now, Action::AdminRemoved, &a.username, ""),
            )
            .await?;
        tracing::info!(admin = id, "admin removed");
        Ok(a)
    }

    /// Sets a password and ends every session of that admin.
    pub async fn set_password(&self, actor: &Actor, id: i64, password: String) -> Result<()> {
        let hash = hash_password(password).await?;
        let (now, actor) = (self.now(), actor.clone());
        self.audited(
            move |c| {
                admins::set_password(c, id, &hash, now)?;
                admins::by_id(c, id)
            },
            move |a: &Admin| {
                actor.audit(
                    now,
                    Action::PasswordChanged,
                    &a.username,
                    crate::domain::Message::new("audit-sessions-ended").stored(),
                )
            },
        )
        .await?;
        tracing::info!(admin = id, "password changed; sessions ended");
        Ok(())
    }

    /// An admin's own time zone for the times they type and read (none: the installation's).
    pub async fn set_time_zone(&self, id: i64, zone: Option<String>) -> Result<()> {
        let zone = match zone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(z) => Some(crate::domain::zone::Zone::parse(z)?.name().to_string()),
        };
        Ok(self.store().call(move |c| admins::set_time_zone(c, id, zone.as_deref())).await?)
    }

    pub async fn set_language(&self, id: i64, language: Option<String>) -> Result<()> {
        if let Some(l) = &language
            && !["de", "en"].contains(&l.as_str())
        {
            return Err(ServiceError::Invalid(Problem::new("language-unknown")));
        }
        Ok(self.store().call(move |c| admins::set_language(c, id, language.as_deref())).await?)
    }

    /// Verifies a password (a full argon2 verify even for unknown users) and opens a session.
    pub async fn login(&self, username: &str, password: &str) -> Result<Option<NewSession>> {
        let name = username.trim().to_string();
        let admin = self.store().call(move |c| admins::by_username(c, &name)).await?;
        let stored = admin.as_ref().map(|a| a.password_hash.clone());
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || password::verify(&pw, stored.as_deref()))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let known = admin.is_some();
        let Some(admin) = admin.filter(|_| ok) else {
            tracing::info!("failed login");
            // The name is recorded only when it is an admin's: a mistyped password in the name field stays out.
            let target = if known {
                username.trim().to_string()
            } else {
                crate::domain::Message::new("audit-unknown-user").stored()
            };
            self.audit(&Actor::Anonymous, Action::LoginFailed, target, "").await?;
            return Ok(None);
        };
        let token = random_token(32);
        let csrf = random_token(24);
        let (hash, now, ttl) = (sha256(&token), self.now(), self.settings().session_ttl);
        let (id, c2) = (admin.id, csrf.clone());
        let actor = Actor::Admin { id, username: admin.username.clone() };
        self.audited(
            move |c| sessions::insert(c, &hash, id, &c2, now, now + ttl),
            move |_| actor.audit(now, Action::Login, "", ""),
        )
        .await?;
        tracing::info!(admin = admin.id, "login");
        Ok(Some(NewSession { token, csrf, admin }))
    }

    pub async fn session(&self, token: &str) -> Result<Option<Principal>> {
        let (hash, now) = (sha256(token), self.now());
        let found = self.store().call(move |c| sessions::lookup(c, &hash, now)).await?;
        Ok(found.map(|(admin, csrf)| Principal::Admin { admin, csrf }))
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        let hash = sha256(token);
        Ok(self.store().call(move |c| sessions::delete(c, &hash)).await?)
    }

    /// Creates an API token; the returned secret is shown once and stored only as a hash.
    pub async fn create_token(&self, actor: &Actor, by: i64, name: &str, scope: Scope) -> Result<(ApiToken, String)> {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(ServiceError::Invalid(Problem::new("token-name-length")));
        }
        let secret = format!("hrd_{}", random_token(32));
        let (hash, now) = (sha256(&secret), self.now());
        let actor = actor.clone();
        let tok = self
            .audited(
                move |c| {
                    let id = tokens::insert(c, &name, &hash, scope, by, now)?;
                    Ok(tokens::list(c)?.into_iter().find(|t| t.id == id).expect("just inserted"))
                },
                move |t: &ApiToken| actor.audit(now, Action::TokenCreated, &t.name, scope.as_str()),
            )
            .await?;
        tracing::info!(token = tok.id, scope = scope.as_str(), "API token created");
        Ok((tok, secret))
    }

    pub async fn list_tokens(&self) -> Result<Vec<ApiToken>> {
        Ok(self.store().call(|c| tokens::list(c)).await?)
    }

    pub async fn remove_token(&self, actor: &Actor, id: i64) -> Result<()> {
        let (now, actor) = (self.now(), actor.clone());
        self.audited(
            move |c| tokens::remove(c, id),
            move |_| actor.audit(now, Action::TokenRemoved, format!("token {id}"), ""),
        )
        .await?;
        tracing::info!(token = id, "API token removed");
        Ok(())
    }

    pub async fn authenticate_token(&self, secret: &str) -> Result<Option<Principal>> {
        let (hash, now) = (sha256(secret), self.now());
        Ok(self.store().call(move |c| tokens::authenticate(c, &hash, now)).await?.map(Principal::Token))
    }
}
