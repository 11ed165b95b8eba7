//! The fixed system roles, ordered by priority. Holding an administrative role makes a second
//! factor mandatory. (Custom roles, permissions and scopes build on this catalogue.)

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// A system role. Higher priority outranks lower; nobody grants a role of priority equal to or
/// above their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemRole {
    Guest,
    Customer,
    Employee,
    Cashier,
    Owner,
    Operator,
    Admin,
    SuperAdmin,
}

impl SystemRole {
    pub const ALL: [SystemRole; 8] = [
        SystemRole::SuperAdmin,
        SystemRole::Admin,
        SystemRole::Operator,
        SystemRole::Owner,
        SystemRole::Cashier,
        SystemRole::Employee,
        SystemRole::Customer,
        SystemRole::Guest,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::SuperAdmin => "super_admin",
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Owner => "owner",
            Self::Cashier => "cashier",
            Self::Employee => "employee",
            Self::Customer => "customer",
            Self::Guest => "guest",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Self::SuperAdmin => "Super Admin",
            Self::Admin => "Admin",
            Self::Operator => "Operator",
            Self::Owner => "Owner",
            Self::Cashier => "Cashier",
            Self::Employee => "Employee",
            Self::Customer => "Customer",
            Self::Guest => "Guest",
        }
    }

    /// Priority: 100 for Super Admin down to 10 for Guest. Cashier and Employee share a tier.
    pub fn priority(self) -> u32 {
        match self {
            Self::SuperAdmin => 100,
            Self::Admin => 90,
            Self::Operator => 80,
            Self::Owner => 70,
            Self::Cashier | Self::Employee => 50,
            Self::Customer => 20,
            Self::Guest => 10,
        }
    }

    /// Administrative roles need a second factor.
    pub fn is_administrative(self) -> bool {
        matches!(
            self,
            Self::SuperAdmin | Self::Admin | Self::Operator | Self::Owner
        )
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|r| r.key() == raw)
            .ok_or_else(|| {
                ValidationError::new(
                    "role",
                    "unknown_role",
                    format!(
                        "unknown role `{raw}`: one of {}",
                        Self::ALL.map(Self::key).join(", ")
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue() {
        for r in SystemRole::ALL {
            assert_eq!(SystemRole::parse(r.key()).ok(), Some(r));
        }
        assert!(SystemRole::parse("root").is_err());
        assert!(SystemRole::SuperAdmin.priority() > SystemRole::Admin.priority());
        assert_eq!(
            SystemRole::Cashier.priority(),
            SystemRole::Employee.priority()
        );
        let admins: Vec<_> = SystemRole::ALL
            .into_iter()
            .filter(|r| r.is_administrative())
            .collect();
        assert_eq!(admins.len(), 4);
    }
}
