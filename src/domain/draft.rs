//! A broadcast as written, before it is sent: what a draft keeps (and what the compose form, the
//! API and the test send carry).

use serde::{Deserialize, Serialize};

use super::keywords::Lang;
use super::{ChannelId, ChannelKind, DraftId, DraftState};

/// The second language's version of a broadcast as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComposeTranslation {
    pub lang: Lang,
    #[serde(default)]
    pub title: String,
    pub body: String,
}

/// What an editor wrote: text, channels and times (Unix seconds), without the key that makes sending
/// it once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    pub kind: ChannelKind,
    #[serde(default)]
    pub title: String,
    pub body: String,
    pub channels: Vec<ChannelId>,
    pub send_at: Option<i64>,
    pub deadline: Option<i64>,
    #[serde(default)]
    pub translation: Option<ComposeTranslation>,
}

/// A stored draft.
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub id: DraftId,
    pub state: DraftState,
    pub written: Written,
    /// Who wrote it (`admin:<id>`, as audit entries name actors).
    pub author: String,
    /// An owner's comment when they sent it back.
    pub comment: String,
    pub created_at: i64,
    pub updated_at: i64,
}
