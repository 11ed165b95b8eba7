//! Authorization use cases: roles with priorities, templates and menus, resource types,
//! Cedar policy sets, the compiled permission graph (cached per tenant epoch), the admin
//! API's guard, the check API (AuthZEN) and policy simulation.

pub(crate) mod evaluate;
pub(crate) mod graph;
pub(crate) mod guard;
pub(crate) mod menu;
pub(crate) mod policies;
pub(crate) mod roles;
pub(crate) mod simulate;
pub(crate) mod templates;
