//! Admin roles and what each may do.

use serde::{Deserialize, Serialize};

/// Ordered: an owner may do everything an editor may, an editor everything a viewer may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Owner => "owner",
        }
    }
    pub fn parse(s: &str) -> Result<Self, super::Invalid> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "owner" => Ok(Role::Owner),
            _ => Err(super::Invalid::new("role-unknown")),
        }
    }
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}
