//! A stock of data keys written ahead for first contacts (see `store::spare_keys`): keys are generated,
//! written and synced to the keyring a batch at a time in the background, so that an opt-in from a new
//! number finds its key already on disk and does not wait for the keyring's fsync.

use std::sync::Mutex;

use super::Service;
use crate::domain::SubscriberId;
use crate::store::spare_keys;

/// Keys written per batch, and the stock below which the next batch is written.
const BATCH: usize = 4096;
const LOW: usize = 2048;

/// A spare: a subscriber id and its wrapped data key, already in the keyring.
pub(super) type Spare = (i64, Vec<u8>);

#[derive(Default)]
pub(super) struct KeyStock {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    spares: Vec<Spare>,
    /// Spares subscribers now use, whose listing the next batch removes.
    used: Vec<i64>,
    refilling: bool,
    /// Whether spares left by an earlier run have been read back.
    loaded: bool,
}

impl KeyStock {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A spare that was not used after all (the sender was known, or the message failed).
    pub(super) fn put_back(&self, spare: Spare) {
        self.lock().spares.push(spare);
    }

    /// A spare whose subscriber's rows are committed.
    pub(super) fn used(&self, id: i64) {
        self.lock().used.push(id);
    }
}

impl Service {
    /// A spare key for a possible first contact, if the stock has one; starts the next batch when the
    /// stock runs low (the first call of a run starts the first batch, and gets none).
    pub(super) fn take_spare(&self) -> Option<Spare> {
        let (spare, refill) = {
            let mut st = self.inner.key_stock.lock();
            let spare = st.spares.pop();
            let refill = st.spares.len() < LOW && !st.refilling;
            st.refilling |= refill;
            (spare, refill)
        };
        if refill && let Ok(rt) = tokio::runtime::Handle::try_current() {
            let me = self.clone();
            rt.spawn(async move { me.refill_spares().await });
        } else if refill {
            self.inner.key_stock.lock().refilling = false;
        }
        spare
    }

    /// How many keys are written ahead and ready for first contacts just now.
    pub fn spare_keys_ready(&self) -> usize {
        self.inner.key_stock.lock().spares.len()
    }

    pub(super) fn key_stock(&self) -> &KeyStock {
        &self.inner.key_stock
    }

    /// Writes the next batch of spares (and, the first time, reads back those an earlier run left).
    async fn refill_spares(&self) {
        let (loaded, used) = {
            let mut st = self.inner.key_stock.lock();
            (st.loaded, std::mem::take(&mut st.used))
        };
        let vault = self.vault().clone();
        let done = used.clone();
        let result = self
            .store()
            .call(move |c| {
                let mut spares = if loaded { Vec::new() } else { spare_keys::unused(c)? };
                let new: Vec<Spare> = (0..BATCH.saturating_sub(spares.len()))
                    .map(|_| {
                        let id = SubscriberId::fresh();
                        (id.0, vault.new_data_key(id).1)
                    })
                    .collect();
                spare_keys::add(c, &new, &done)?;
                spares.extend(new);
                Ok(spares)
            })
            .await;
        let mut st = self.inner.key_stock.lock();
        match result {
            Ok(spares) => {
                st.spares.extend(spares);
                st.loaded = true;
            }
            Err(e) => {
                // No harm: first contacts write their own key meanwhile; the next call tries again.
                tracing::warn!(error = %e, "spare data keys could not be written");
                st.used.extend(used);
            }
        }
        st.refilling = false;
    }
}
