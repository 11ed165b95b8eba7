//! Permission templates: named bundles of permissions, carrying the tenant's menu, granted to
//! roles or directly to users.

use super::permission::Permission;
use super::roles::RoleRef;
use crate::{TenantId, UserId, ValidationError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// The largest number of permissions in one template, and of items in one menu.
pub const MAX_TEMPLATE_PERMISSIONS: usize = 1_000;
pub const MAX_MENU_ITEMS: usize = 500;
/// The deepest menu.
pub const MAX_MENU_DEPTH: usize = 6;

/// One entry of a menu. It is shown to a caller holding every permission of `requires`;
/// an item whose children are all hidden and that has no `path` of its own is hidden too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuItem {
    pub key: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default)]
    pub requires: Vec<Permission>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<MenuItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub tenant_id: TenantId,
    /// 1-64 characters of a-z, 0-9, `_`, `-`, starting with a letter.
    pub key: String,
    pub name: String,
    pub description: String,
    pub permissions: BTreeSet<Permission>,
    pub menu: Vec<MenuItem>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

impl Template {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !super::valid_key(&self.key) {
            return Err(ValidationError::new(
                "key",
                "invalid_key",
                "a template key has 1 to 64 characters of a-z, 0-9, _ and -, starting with a letter",
            ));
        }
        super::check_name(&self.name)?;
        super::check_description(&self.description)?;
        if self.permissions.len() > MAX_TEMPLATE_PERMISSIONS {
            return Err(ValidationError::new(
                "permissions",
                "too_many",
                format!("a template holds at most {MAX_TEMPLATE_PERMISSIONS} permissions"),
            ));
        }
        let mut count = 0;
        check_menu(&self.menu, 1, &mut count)
    }
}

fn check_menu(items: &[MenuItem], depth: usize, count: &mut usize) -> Result<(), ValidationError> {
    if depth > MAX_MENU_DEPTH {
        return Err(ValidationError::new(
            "menu",
            "too_deep",
            format!("a menu is at most {MAX_MENU_DEPTH} levels deep"),
        ));
    }
    for item in items {
        *count += 1;
        if *count > MAX_MENU_ITEMS {
            return Err(ValidationError::new(
                "menu",
                "too_many",
                format!("a menu has at most {MAX_MENU_ITEMS} items"),
            ));
        }
        if !super::valid_key(&item.key) || item.label.trim().is_empty() || item.label.len() > 200 {
            return Err(ValidationError::new(
                "menu",
                "invalid_item",
                format!(
                    "menu item `{}`: a key of a-z, 0-9, _ and - and a label of 1 to 200 characters",
                    item.key.chars().take(64).collect::<String>()
                ),
            ));
        }
        if item
            .path
            .as_ref()
            .is_some_and(|p| p.len() > 2_000 || !p.starts_with('/'))
        {
            return Err(ValidationError::new(
                "menu",
                "invalid_path",
                format!("menu item `{}`: a path starts with `/`", item.key),
            ));
        }
        check_menu(&item.children, depth + 1, count)?;
    }
    Ok(())
}

/// Filters a menu for a caller: `holds` answers whether they hold a permission.
pub fn visible_menu(items: &[MenuItem], holds: &dyn Fn(&Permission) -> bool) -> Vec<MenuItem> {
    items
        .iter()
        .filter(|i| i.requires.iter().all(holds))
        .filter_map(|i| {
            let children = visible_menu(&i.children, holds);
            (i.path.is_some() || !children.is_empty()).then(|| MenuItem {
                children,
                ..i.clone()
            })
        })
        .collect()
}

/// Who a template is granted to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum GrantTarget {
    Role(RoleRef),
    User(UserId),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateGrant {
    pub template: String,
    pub target: GrantTarget,
    pub granted_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str, path: Option<&str>, requires: &[&str], children: Vec<MenuItem>) -> MenuItem {
        MenuItem {
            key: key.into(),
            label: key.into(),
            path: path.map(Into::into),
            requires: requires
                .iter()
                .filter_map(|r| Permission::parse(r).ok())
                .collect(),
            children,
        }
    }

    #[test]
    fn menu_is_filtered() {
        let menu = vec![
            item("users", Some("/users"), &["users:read"], vec![]),
            item(
                "sales",
                None,
                &[],
                vec![
                    item("orders", Some("/orders"), &["orders:read"], vec![]),
                    item("refunds", Some("/refunds"), &["orders:refund"], vec![]),
                ],
            ),
        ];
        let held = [Permission::parse("orders:read").ok()];
        let holds = |p: &Permission| held.iter().flatten().any(|h| h.grants(p));
        let shown = visible_menu(&menu, &holds);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].key, "sales");
        assert_eq!(shown[0].children.len(), 1);
        assert_eq!(shown[0].children[0].key, "orders");
        let none = |_: &Permission| false;
        assert!(visible_menu(&menu, &none).is_empty());
    }
}
