//! Importing an existing member list (CSV) whose consent was collected elsewhere: every row is read
//! and checked first (a preview with line numbers), then the good rows are added in one transaction.
//! An address herold knows gets the channels it lacks; one that left a channel is not added back.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::subscribers::AddSubscriber;
use super::{Actor, Result, Service, ServiceError};
use crate::domain::audit::Action;
use crate::domain::{ChannelId, ConsentKind, Message, Problem, SubscriptionState, Transport};
use crate::store::ledger::{self, NewEvent};
use crate::store::subscribers as subs;
use crate::store::{StoreError, channels};

/// Column names the address may have (lower case), and the language's.
const ADDRESS_COLUMNS: &[&str] =
    &["number", "phone", "mobile", "nummer", "telefon", "handy", "matrix", "address", "adresse"];
const LANGUAGE_COLUMNS: &[&str] = &["language", "lang", "sprache"];
/// Column names of a name or note, kept sealed with the subscriber.
const NOTE_COLUMNS: &[&str] = &["name", "note", "notiz", "bemerkung", "kommentar", "comment"];
/// Characters a name or note may have.
const NOTE_MAX: usize = 200;
/// Rows one import may have.
const MAX_ROWS: usize = 100_000;

/// An import: the file, the channels, and where and how the people agreed (kept sealed with each).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    pub channels: Vec<ChannelId>,
    /// UTF-8, `;` or `,` between columns, a header row naming an address column and optionally a
    /// language column.
    pub csv: String,
    /// Where and when they agreed, and what they were shown ("Mitgliederversammlung 3.5.2026,
    /// Formular v2: …").
    pub consent_source: String,
    #[serde(default)]
    pub mode: ImportMode,
}

/// Whether the people on the list agreed already, or are asked first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportMode {
    /// They agreed where the consent source says: subscribed now, with an import event each.
    #[default]
    Agreed,
    /// Each gets the channel's confirmation request and is subscribed only when they answer YES / JA
    /// (as after `START`; without an answer the request expires).
    Ask,
}

/// What an import will do (the preview) or did (the commit).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Data rows read (without the header).
    pub rows: usize,
    /// Addresses herold does not know yet: added with every channel.
    pub new: usize,
    /// Addresses herold knows: the channels they lack are added.
    pub known: usize,
    /// Subscriptions added (or to be added).
    pub subscriptions: usize,
    /// Known addresses already in every chosen channel: nothing to do.
    pub already: usize,
    /// Known addresses that left one of the channels before: not added back to it.
    pub left_before: usize,
    /// Lines repeating an address of an earlier line (counted once).
    pub duplicates: Vec<usize>,
    /// Lines that cannot be imported, and why.
    pub errors: Vec<RowError>,
    /// Whether the rows were written.
    pub committed: bool,
    /// Whether the people are asked to confirm (the subscriptions wait for their YES).
    pub asked: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub line: usize,
    pub problem: Problem,
}

/// One good row: its line and what to add.
struct Row {
    line: usize,
    request: AddSubscriber,
    note: Option<String>,
}

impl Service {
    /// Reads and checks an import without writing anything.
    pub async fn import_preview(&self, req: ImportRequest) -> Result<ImportReport> {
        self.import(&Actor::Anonymous, req, false).await
    }

    /// Adds the good rows of an import in one transaction (all of them or, on a failure, none).
    pub async fn import_commit(&self, actor: &Actor, req: ImportRequest) -> Result<ImportReport> {
        self.import(actor, req, true).await
    }

    async fn import(&self, actor: &Actor, req: ImportRequest, commit: bool) -> Result<ImportReport> {
        let source = req.consent_source.trim().to_string();
        if source.is_empty() || source.chars().count() > 1000 {
            return Err(ServiceError::Invalid(Problem::new("consent-source-needed")));
        }
        if req.channels.is_empty() {
            return Err(ServiceError::Invalid(Problem::new("channel-needed")));
        }
        let mut report = ImportReport { asked: req.mode == ImportMode::Ask, ..ImportReport::default() };
        // Phone numbers go by SMS; to channels that reach phones only through the sandbox, by sandbox.
        let ids = req.channels.clone();
        let chosen = self
            .store()
            .call(move |c| {
                ids.iter()
                    .map(|id| {
                        channels::by_id(c, *id).map_err(|e| match e {
                            StoreError::NotFound => {
                                StoreError::Refused(Problem::new("channel-missing").with("channel", id.to_string()))
                            }
                            e => e,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        let reaches = |t| chosen.iter().any(|ch| ch.draft.transports.contains(&t));
        let phones =
            if !reaches(Transport::Sms) && reaches(Transport::Sandbox) { Transport::Sandbox } else { Transport::Sms };
        let rows = self.read_csv(&req, &source, phones, &mut report)?;
        // Known or new, by blind index; duplicates in the file count once.
        let mut seen = HashSet::new();
        let mut fresh = Vec::new();
        let mut known = Vec::new();
        for row in rows {
            let p = match self.prepare(row.request, row.note.as_deref()) {
                Ok(p) => p,
                Err(ServiceError::Invalid(problem)) => {
                    report.errors.push(RowError { line: row.line, problem });
                    continue;
                }
                Err(e) => return Err(e),
            };
            if !seen.insert(p.row.blind_index.clone()) {
                report.duplicates.push(row.line);
                continue;
            }
            fresh.push((row.line, p));
        }
        report.errors.sort_by_key(|e| e.line);
        let index: Vec<Vec<u8>> = fresh.iter().map(|(_, p)| p.row.blind_index.clone()).collect();
        let existing = self
            .store()
            .call(move |c| index.iter().map(|bi| subs::find_by_index(c, bi)).collect::<Result<Vec<_>, _>>())
            .await?;
        let mut new_rows = Vec::new();
        for ((_, p), id) in fresh.into_iter().zip(existing) {
            match id {
                Some(id) => known.push((id, p.row.transport)),
                None => new_rows.push(p),
            }
        }
        let chosen = req.channels.clone();
        let plan = self.store().call(move |c| plan_known(c, &known, &chosen)).await?;
        report.new = new_rows.len();
        report.known = plan.adds.iter().map(|(s, _, _)| *s).collect::<HashSet<_>>().len();
        report.already = plan.already;
        report.left_before = plan.left_before;
        report.subscriptions = new_rows.len() * req.channels.len() + plan.adds.len();
        if !commit {
            return Ok(report);
        }
        let entry = actor.audit(
            self.now(),
            Action::SubscriberAdded,
            "",
            Message::new("audit-imported")
                .with("new", report.new)
                .with("known", report.known)
                .with("subscriptions", report.subscriptions)
                .stored(),
        );
        let (now, actor_name, vault) = (self.now(), actor.to_string(), self.vault().clone());
        let ask = (req.mode == ImportMode::Ask).then_some(self.settings().confirm_hours);
        let chosen = req.channels.clone();
        let keys: Vec<subs::NewSubscriber> = new_rows.iter().map(|p| p.row.clone()).collect();
        self.store()
            .call(move |c| {
                subs::insert_keys(c, &keys)?;
                let tx = crate::store::write_tx(c)?;
                let mut adds = plan.adds;
                for p in &new_rows {
                    subs::insert(&tx, &p.row, now)?;
                    adds.extend(chosen.iter().map(|ch| (p.row.id, *ch, p.row.transport)));
                }
                let written = subscribe(&tx, &vault, &adds, &source, now, ask, &actor_name)
                    .and_then(|()| crate::store::audit::append(&tx, entry).map(|_| ()));
                match written {
                    Ok(()) => tx.commit().map_err(StoreError::from),
                    Err(e) => {
                        drop(tx);
                        // Nothing refers to the new keys: take them out again (an orphan key is harmless).
                        let _ = subs::delete_keys(c, &keys.iter().map(|k| k.id).collect::<Vec<_>>());
                        Err(e)
                    }
                }
            })
            .await?;
        report.committed = true;
        if report.asked {
            self.wake_worker();
        }
        tracing::info!(
            new = report.new,
            known = report.known,
            subscriptions = report.subscriptions,
            "import committed"
        );
        Ok(report)
    }

    /// The rows of the file, each checked for its columns; errors go to the report with their line.
    fn read_csv(
        &self,
        req: &ImportRequest,
        source: &str,
        phones: Transport,
        report: &mut ImportReport,
    ) -> Result<Vec<Row>> {
        let text = req.csv.trim_start_matches('\u{feff}');
        let header = text.lines().next().unwrap_or("");
        let delimiter = if header.matches(';').count() > header.matches(',').count() { b';' } else { b',' };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let names: Vec<String> = reader
            .headers()
            .map_err(|_| ServiceError::Invalid(Problem::new("import-no-header")))?
            .iter()
            .map(|h| h.to_lowercase())
            .collect();
        let column = |wanted: &[&str]| names.iter().position(|n| wanted.contains(&n.as_str()));
        let address_at =
            column(ADDRESS_COLUMNS).ok_or(ServiceError::Invalid(Problem::new("import-no-address-column")))?;
        let language_at = column(LANGUAGE_COLUMNS);
        let note_at = column(NOTE_COLUMNS);
        let default_language = self.settings().default_language.clone();
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            report.rows += 1;
            if report.rows > MAX_ROWS {
                return Err(ServiceError::Invalid(Problem::new("import-too-many-rows").with("max", MAX_ROWS)));
            }
            let record = match record {
                Ok(r) => r,
                Err(_) => {
                    report.errors.push(RowError { line, problem: Problem::new("import-unreadable-row") });
                    continue;
                }
            };
            let address = record.get(address_at).unwrap_or("").to_string();
            if address.is_empty() {
                report.errors.push(RowError { line, problem: Problem::new("address-needed") });
                continue;
            }
            let transport = if address.starts_with('@') { Transport::Matrix } else { phones };
            let language = match language_at.and_then(|i| record.get(i)).filter(|l| !l.is_empty()) {
                Some(l) => l.to_lowercase(),
                None => default_language.clone(),
            };
            let note = note_at.and_then(|i| record.get(i)).filter(|n| !n.is_empty());
            if note.is_some_and(|n| n.chars().count() > NOTE_MAX) {
                report
                    .errors
                    .push(RowError { line, problem: Problem::new("import-note-too-long").with("max", NOTE_MAX) });
                continue;
            }
            let request = AddSubscriber {
                transport,
                address,
                language,
                channels: req.channels.clone(),
                consent_note: source.to_string(),
            };
            rows.push(Row { line, request, note: note.map(str::to_string) });
        }
        Ok(rows)
    }
}

/// What to do for addresses herold knows: (subscriber, channel, transport) to add.
struct KnownPlan {
    adds: Vec<(i64, ChannelId, Transport)>,
    already: usize,
    left_before: usize,
}

fn plan_known(
    c: &rusqlite::Connection,
    known: &[(i64, Transport)],
    chosen: &[ChannelId],
) -> Result<KnownPlan, StoreError> {
    let mut plan = KnownPlan { adds: Vec::new(), already: 0, left_before: 0 };
    for &(id, transport) in known {
        let had: HashMap<(ChannelId, Transport), SubscriptionState> =
            subs::subscriptions(c, id)?.into_iter().map(|s| ((s.channel_id, s.transport), s.state)).collect();
        let missing: Vec<ChannelId> =
            chosen.iter().copied().filter(|ch| !had.contains_key(&(*ch, transport))).collect();
        if had.iter().any(|((ch, t), s)| {
            chosen.contains(ch)
                && *t == transport
                && !matches!(s, SubscriptionState::Active | SubscriptionState::Pending)
        }) {
            plan.left_before += 1;
        } else if missing.is_empty() {
            plan.already += 1;
        }
        plan.adds.extend(missing.into_iter().map(|ch| (id, ch, transport)));
    }
    Ok(plan)
}

/// Subscribes each (subscriber, channel, transport). Without `ask`: active at once, with an import
/// event whose wording is the import's consent source (a new wording version of the channel). With
/// `ask` (hours), as `START` on a double opt-in channel does: a pending subscription that lapses after
/// that long, an opt-in request event (the channel's wording, the source sealed as its cause) and the
/// channel's confirmation request in their language, queued ahead of broadcasts.
fn subscribe(
    tx: &rusqlite::Transaction<'_>,
    vault: &crate::crypto::Vault,
    adds: &[(i64, ChannelId, Transport)],
    source: &str,
    now: i64,
    ask: Option<i64>,
    actor: &str,
) -> Result<(), StoreError> {
    // Each channel, with the wording its import events name: for "they agreed", the consent source as
    // a new wording version of the channel (written once per channel); for "ask them", the channel's
    // own wording, which their confirmation request shows.
    let mut chans: HashMap<ChannelId, (crate::domain::Channel, i64, Vec<u8>)> = HashMap::new();
    let mut keys: HashMap<i64, (crate::crypto::vault::DataKey, crate::i18n::Lang)> = HashMap::new();
    for &(id, ch, transport) in adds {
        let (channel, wording_version, wording_sha) = match chans.entry(ch) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let channel = channels::by_id(tx, ch)?;
                let (version, sha) = match ask {
                    Some(_) => (channel.wording_version, channel.draft.wording_sha256()),
                    None => {
                        let content = crate::domain::channel::import_wording(source, channel.wording_version);
                        channels::add_import_wording(tx, ch, &content, now)?
                    }
                };
                e.insert((channel, version, sha.to_vec()))
            }
        };
        let (key, lang) = match keys.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let wrapped = subs::wrapped_key(tx, id)?
                    .ok_or_else(|| StoreError::Corrupt("a subscriber has no data key".into()))?;
                let key = vault.unwrap_data_key(crate::domain::SubscriberId(id), &wrapped)?;
                let (language, _) = subs::language_and_since(tx, id)?;
                e.insert((key, crate::i18n::Lang::parse(&language).unwrap_or(crate::i18n::Lang::De)))
            }
        };
        // The source is the wording of an import event; a request names it as its cause, sealed.
        let (state, expires, kind, sealed) = match ask {
            Some(hours) => (
                SubscriptionState::Pending,
                Some(now + hours * 3600),
                ConsentKind::OptInRequested,
                Some(key.seal("inbound", source.as_bytes())),
            ),
            None => (SubscriptionState::Active, None, ConsentKind::Import, None),
        };
        subs::insert_subscription_until(tx, id, ch, transport, state, now, expires)?;
        ledger::append(
            tx,
            NewEvent {
                at: now,
                subscriber: id,
                channel: Some(ch),
                transport: Some(transport),
                kind,
                gateway_message_id: None,
                inbound_sealed: sealed,
                wording_version: Some(*wording_version),
                wording_sha256: Some(wording_sha.clone()),
                actor: actor.to_string(),
            },
        )?;
        if let Some(hours) = ask {
            let text = crate::i18n::replies::confirm_request(channel, *lang, hours);
            crate::store::outbox::enqueue_reply(tx, id, transport, None, &key.seal("reply", text.as_bytes()), now)?;
        }
    }
    Ok(())
}
