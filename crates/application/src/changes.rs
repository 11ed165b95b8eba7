//! Field-level before/after for audit records, with secrets always masked and personal data
//! masked when the tenant asks for it.

use serde::Serialize;
use serde_json::{Map, Value};
use tessera_domain::audit::FieldChange;

const MASK: &str = "********";
/// Fields whose values never appear in the audit trail.
const SECRET_MARKERS: &[&str] = &["secret", "password", "token", "hash", "master_key"];
/// Fields holding personal data, masked when the tenant sets `mask_pii_in_audit`.
const PII_FIELDS: &[&str] = &[
    "username",
    "emails",
    "phones",
    "profile.given_name",
    "profile.family_name",
    "profile.birthday",
    "profile.picture",
    "custom_attributes",
];
/// Bookkeeping fields that change on every write and say nothing.
const IGNORED: &[&str] = &["version", "updated_at", "created_at"];

fn flatten(prefix: &str, value: Value, out: &mut Map<String, Value>) {
    match value {
        // One level of nesting (profile.given_name) keeps records readable.
        Value::Object(map) if prefix.is_empty() || !prefix.contains('.') => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                if matches!(v, Value::Object(_)) && !prefix.is_empty() {
                    out.insert(key, v);
                } else {
                    flatten(&key, v, out);
                }
            }
        }
        other => {
            out.insert(prefix.to_owned(), other);
        }
    }
}

fn to_flat<T: Serialize>(value: Option<&T>) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(v) = value {
        flatten("", serde_json::to_value(v).unwrap_or(Value::Null), &mut out);
    }
    out
}

fn mask(field: &str, value: Value, mask_pii: bool) -> Value {
    if value.is_null() {
        return value;
    }
    let secret = SECRET_MARKERS.iter().any(|m| field.contains(m));
    let pii = mask_pii
        && PII_FIELDS
            .iter()
            .any(|p| field == *p || field.starts_with(&format!("{p}.")));
    if secret || pii {
        Value::String(MASK.to_owned())
    } else {
        value
    }
}

/// The fields that differ between `before` and `after` (either may be absent: creation,
/// erasure).
pub fn diff<T: Serialize>(
    before: Option<&T>,
    after: Option<&T>,
    mask_pii: bool,
) -> Vec<FieldChange> {
    let before = to_flat(before);
    let mut after = to_flat(after);
    let mut changes = Vec::new();
    for (field, b) in before {
        let a = after.remove(&field).unwrap_or(Value::Null);
        if a != b && !IGNORED.contains(&field.as_str()) {
            changes.push(FieldChange {
                before: mask(&field, b, mask_pii),
                after: mask(&field, a, mask_pii),
                field,
            });
        }
    }
    for (field, a) in after {
        if !a.is_null() && !IGNORED.contains(&field.as_str()) {
            changes.push(FieldChange {
                before: Value::Null,
                after: mask(&field, a, mask_pii),
                field,
            });
        }
    }
    changes.sort_by(|x, y| x.field.cmp(&y.field));
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_changed_fields_and_masks() {
        let before = json!({"username": "ann", "profile": {"given_name": "Ann", "locale": "en"}, "version": 1, "secret_hash": "abc"});
        let after = json!({"username": "ann", "profile": {"given_name": "Anna", "locale": "en"}, "version": 2, "secret_hash": "def"});
        let c = diff(Some(&before), Some(&after), false);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].field, "profile.given_name");
        assert_eq!(c[0].after, json!("Anna"));
        assert_eq!(c[1].field, "secret_hash");
        assert_eq!(c[1].after, json!(MASK));
        let masked = diff(Some(&before), Some(&after), true);
        assert_eq!(masked[0].after, json!(MASK));
    }

    #[test]
    fn creation_lists_set_fields_only() {
        let after = json!({"username": "ann", "profile": {"given_name": null}});
        let c = diff(None, Some(&after), false);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].before, Value::Null);
    }
}
