//! How the domain's stored words (transports, kinds, modes, roles, states) and ids go into and come
//! out of SQLite: words as their lower-case text, checked when read; ids as their number; reasons
//! (their code with arguments) and a broadcast's second language as JSON.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::domain::state::{BroadcastState, DeliveryState, SubscriptionState};
use crate::domain::{
    BroadcastId, ChannelId, ChannelKind, ConsentKind, FrequencyPeriod, OptInMode, Reason, Role, SubscriberId, Transport,
};

macro_rules! stored_as_text {
    ($($t:ty),* $(,)?) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }
        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                <$t>::parse(value.as_str()?).map_err(|e| FromSqlError::Other(e.to_string().into()))
            }
        }
    )*};
}

/// Row ids go in and out as their number.
macro_rules! stored_as_integer {
    ($($t:ty),* $(,)?) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.0))
            }
        }
        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                value.as_i64().map(Self)
            }
        }
    )*};
}

stored_as_integer!(ChannelId, BroadcastId, SubscriberId, crate::domain::DraftId, crate::domain::ThreadId);

/// Values with several fields (a reason with its arguments, a broadcast's second language) go in and
/// out as JSON text.
macro_rules! stored_as_json {
    ($($t:ty),* $(,)?) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                serde_json::to_string(self)
                    .map(ToSqlOutput::from)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
            }
        }
        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                serde_json::from_str(value.as_str()?).map_err(|e| FromSqlError::Other(e.into()))
            }
        }
    )*};
}

stored_as_json!(Reason, super::broadcasts::Translation, crate::domain::quiet::QuietRule);

stored_as_text!(
    Transport,
    ChannelKind,
    OptInMode,
    FrequencyPeriod,
    crate::domain::channel::OverCap,
    Role,
    ConsentKind,
    BroadcastState,
    DeliveryState,
    SubscriptionState,
    crate::domain::DraftState,
    crate::domain::ThreadState,
    crate::domain::event::EventKind
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_the_code_does_not_know_is_an_error_not_a_default() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let t: Transport = c.query_row("SELECT ?1", [Transport::Matrix], |r| r.get(0)).unwrap();
        assert_eq!(t, Transport::Matrix);
        let s: BroadcastState = c.query_row("SELECT 'paused'", [], |r| r.get(0)).unwrap();
        assert_eq!(s, BroadcastState::Paused);
        assert!(c.query_row("SELECT 'gone'", [], |r| r.get::<_, DeliveryState>(0)).is_err());
    }
}
