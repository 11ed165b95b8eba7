//! The audit trail: every state change writes an [`AuditDraft`] in the same transaction as the
//! change; the store seals it into an [`AuditEvent`] that carries the hash of its predecessor,
//! forming one hash chain per tenant. [`ChainVerifier`] detects an edited, deleted or
//! reordered event and names the first bad one.

use crate::{AuditEventId, TenantId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The `prev_hash` of the first event of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// An admin API key.
    ApiKey,
    /// A signed-in user.
    User,
    /// The command line (`tessera bootstrap`, `tessera migrate`...).
    Cli,
    /// Tessera itself (schedulers, automatic transitions).
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::User => "user",
            Self::Cli => "cli",
            Self::System => "system",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::ApiKey, Self::User, Self::Cli, Self::System]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

/// Who did it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// The id of the key or user, when there is one.
    pub id: Option<String>,
    /// The tenant the actor belongs to (an operator key of `system` acting on another tenant).
    pub tenant_id: Option<TenantId>,
}

impl Actor {
    pub fn cli() -> Self {
        Self {
            kind: ActorKind::Cli,
            id: None,
            tenant_id: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "success" => Some(Self::Success),
            "failure" => Some(Self::Failure),
            _ => None,
        }
    }
}

/// One changed field, before and after (already masked where needed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// Where the request came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// An audit record before the store numbers, timestamps and chains it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDraft {
    pub id: AuditEventId,
    /// When it happened (from the application's clock).
    pub at: OffsetDateTime,
    /// The chain the event is appended to.
    pub tenant_id: TenantId,
    pub actor: Actor,
    /// Dotted verb, for example `user.created`, `user.state_changed`, `tenant.disabled`.
    pub action: String,
    /// What the event is about: a kind (`user`, `tenant`...) and an id.
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub outcome: Outcome,
    pub origin: Origin,
    pub changes: Vec<FieldChange>,
}

/// A sealed audit record as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub tenant_id: TenantId,
    /// Position in the tenant's chain, from 1, without gaps.
    pub seq: i64,
    pub id: AuditEventId,
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub outcome: Outcome,
    pub origin: Origin,
    pub changes: Vec<FieldChange>,
    pub prev_hash: String,
    pub hash: String,
}

/// The fields covered by the hash, in a fixed order (the JSON of this struct is canonical:
/// struct fields serialise in declaration order and `serde_json::Value` maps are sorted).
#[derive(Serialize)]
struct Hashed<'a> {
    tenant_id: &'a TenantId,
    seq: i64,
    id: &'a AuditEventId,
    at_unix_micros: i128,
    actor: &'a Actor,
    action: &'a str,
    subject_kind: &'a Option<String>,
    subject_id: &'a Option<String>,
    outcome: Outcome,
    origin: &'a Origin,
    changes: &'a [FieldChange],
    prev_hash: &'a str,
}

/// Truncates a time to the microsecond: the precision every store keeps.
pub fn truncate_to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let nanos = at.nanosecond();
    at.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(at)
}

impl AuditEvent {
    /// Seals a draft as event number `seq` of its tenant's chain, after the event whose hash is
    /// `prev_hash`.
    pub fn seal(draft: AuditDraft, seq: i64, prev_hash: String) -> Self {
        let mut event = Self {
            tenant_id: draft.tenant_id,
            seq,
            id: draft.id,
            at: truncate_to_micros(draft.at),
            actor: draft.actor,
            action: draft.action,
            subject_kind: draft.subject_kind,
            subject_id: draft.subject_id,
            outcome: draft.outcome,
            origin: draft.origin,
            changes: draft.changes,
            prev_hash,
            hash: String::new(),
        };
        event.hash = event.compute_hash();
        event
    }

    /// The hash this event should carry given its content.
    pub fn compute_hash(&self) -> String {
        let hashed = Hashed {
            tenant_id: &self.tenant_id,
            seq: self.seq,
            id: &self.id,
            at_unix_micros: self.at.unix_timestamp_nanos() / 1_000,
            actor: &self.actor,
            action: &self.action,
            subject_kind: &self.subject_kind,
            subject_id: &self.subject_id,
            outcome: self.outcome,
            origin: &self.origin,
            changes: &self.changes,
            prev_hash: &self.prev_hash,
        };
        // Serialising plain data (strings, numbers, maps with string keys) cannot fail.
        let bytes = serde_json::to_vec(&hashed).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))
    }
}

/// The first event that breaks a chain, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    /// The event's id; empty when the break is not one event (a missing tail).
    pub id: String,
    pub reason: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "audit chain broken at event #{}", self.seq)?;
        if !self.id.is_empty() {
            write!(f, " ({})", self.id)?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for ChainBreak {}

/// Walks a tenant's events in `seq` order and reports the first one that does not fit.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
        }
    }
}

impl ChainVerifier {
    /// Checks the next event of the chain.
    pub fn check(&mut self, event: &AuditEvent) -> Result<(), ChainBreak> {
        let brk = |reason: String| ChainBreak {
            seq: event.seq,
            id: event.id.to_string(),
            reason,
        };
        if event.seq != self.expected_seq {
            return Err(brk(format!(
                "expected event #{} here: an event was deleted or reordered",
                self.expected_seq
            )));
        }
        if event.prev_hash != self.prev_hash {
            return Err(brk(
                "its link to the previous event does not match: an earlier event was changed, deleted or reordered".to_owned(),
            ));
        }
        if event.compute_hash() != event.hash {
            return Err(brk(
                "its content does not match its hash: the event was edited".to_owned(),
            ));
        }
        self.expected_seq += 1;
        self.prev_hash.clone_from(&event.hash);
        Ok(())
    }

    /// Checks that the chain ends where the store's head says it ends (detects a removed tail).
    pub fn finish(&self, head: Option<(i64, &str)>) -> Result<u64, ChainBreak> {
        let seen = self.expected_seq - 1;
        match head {
            None if seen == 0 => Ok(0),
            Some((seq, hash)) if seq == seen && hash == self.prev_hash => Ok(seen.unsigned_abs()),
            Some((seq, _)) if seq == seen => Err(ChainBreak {
                seq,
                id: String::new(),
                reason: "the chain head's hash does not match the last event: the head or the last event was altered".to_owned(),
            }),
            Some((seq, _)) => Err(ChainBreak {
                seq: seen + 1,
                id: String::new(),
                reason: format!(
                    "the chain ends at #{seen} but its head records #{seq}: events were removed from the end"
                ),
            }),
            None => Err(ChainBreak {
                seq: 1,
                id: String::new(),
                reason: "events exist but the chain has no head".to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn chain(n: i64) -> Vec<AuditEvent> {
        let tenant = TenantId::from_uuid(Uuid::from_u128(7));
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let draft = AuditDraft {
                    id: AuditEventId::from_uuid(Uuid::from_u128(seq as u128)),
                    at: OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(seq),
                    tenant_id: tenant,
                    actor: Actor::cli(),
                    action: format!("test.{seq}"),
                    subject_kind: None,
                    subject_id: None,
                    outcome: Outcome::Success,
                    origin: Origin::default(),
                    changes: vec![],
                };
                let e = AuditEvent::seal(draft, seq, prev.clone());
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    fn verify(events: &[AuditEvent], head: Option<(i64, &str)>) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in events {
            v.check(e)?;
        }
        v.finish(head)
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, Some((5, &c[4].hash))), Ok(5));
    }

    #[test]
    fn edit_delete_reorder_and_truncation_are_detected() {
        let c = chain(5);
        let head = Some((5, c[4].hash.as_str()));
        let mut edited = c.clone();
        edited[2].action = "test.forged".into();
        assert_eq!(verify(&edited, head).unwrap_err().seq, 3);

        let mut deleted = c.clone();
        deleted.remove(1);
        assert_eq!(verify(&deleted, head).unwrap_err().seq, 3);

        let mut reordered = c.clone();
        reordered.swap(1, 2);
        reordered[1].seq = 2;
        reordered[2].seq = 3;
        assert_eq!(verify(&reordered, head).unwrap_err().seq, 2);

        assert_eq!(verify(&c[..4], head).unwrap_err().seq, 5);
    }
}
