//! Authorization: roles, permissions, resource types, templates (with menus), policy sets,
//! simulations, and the check API (OpenID AuthZEN shape).

use crate::common::double_option;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleRequest {
    /// 1-64 characters of a-z, 0-9, `_`, `-`; never a system role's key.
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// 1-99, below your own priority.
    pub priority: u32,
    /// A system or custom role whose permissions this one inherits (at or below its priority).
    pub parent: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoleRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub priority: Option<u32>,
    /// `null` removes the parent.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub parent: Option<Option<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RoleResponse {
    pub key: String,
    pub name: String,
    pub description: String,
    pub priority: u32,
    pub parent: Option<String>,
    /// One of the eight fixed system roles (not editable).
    pub system: bool,
    /// Holders must pass a second factor.
    pub administrative: bool,
    pub built_in_permissions: Vec<String>,
    pub templates: Vec<String>,
    pub version: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RoleList {
    pub roles: Vec<RoleResponse>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RoleAssignmentResponse {
    pub role: String,
    /// `tenant`, `self` or `unit:<id>`.
    pub scope: String,
    #[serde(with = "time::serde::rfc3339")]
    pub granted_at: OffsetDateTime,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RolesResponse {
    /// Keys of the roles held (any scope).
    pub roles: Vec<String>,
    pub assignments: Vec<RoleAssignmentResponse>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PermissionResponse {
    pub permission: String,
    pub description: String,
    pub built_in: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PermissionList {
    pub permissions: Vec<PermissionResponse>,
}

/// A kind of resource of the tenant's applications.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceTypeBody {
    #[serde(default)]
    pub description: String,
    /// Action name → description; each registers the permission `<type>:<action>`.
    pub actions: BTreeMap<String, String>,
    /// Attribute name → `string`, `long`, `bool`, `string_set`, `user` or `org_unit`; policies
    /// may read them from the request's resource properties.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ResourceTypeResponse {
    pub name: String,
    pub description: String,
    pub actions: BTreeMap<String, String>,
    pub attributes: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ResourceTypeList {
    pub resource_types: Vec<ResourceTypeResponse>,
}

/// One menu entry.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MenuItemBody {
    pub key: String,
    pub label: String,
    pub path: Option<String>,
    /// Shown only to callers holding every one of these.
    #[serde(default)]
    pub requires: Vec<String>,
    #[serde(default)]
    #[schema(no_recursion)]
    pub children: Vec<MenuItemBody>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub permissions: Vec<String>,
    #[serde(default)]
    pub menu: Vec<MenuItemBody>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateGrantResponse {
    /// `role` or `user`.
    pub kind: String,
    /// The role key or the user id.
    pub target: String,
    #[serde(with = "time::serde::rfc3339")]
    pub granted_at: OffsetDateTime,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateResponse {
    pub key: String,
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
    pub menu: Vec<MenuItemBody>,
    pub grants: Vec<TemplateGrantResponse>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateList {
    pub templates: Vec<TemplateResponse>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MenuResponse {
    pub items: Vec<MenuItemBody>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavePoliciesRequest {
    /// Cedar policies. They must validate against `GET .../policies/schema`.
    pub policies: String,
    #[serde(default)]
    pub comment: String,
    /// The version you edited (0 for none yet): a concurrent save answers 409.
    pub expected_version: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicySetResponse {
    pub version: i64,
    pub policies: String,
    pub comment: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicySetList {
    /// Newest first; the first is in force.
    pub versions: Vec<PolicySetResponse>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicySchemaResponse {
    /// The Cedar schema, in Cedar's schema syntax.
    pub schema: String,
}

// --- AuthZEN ------------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectBody {
    /// `user`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    /// Accepted and ignored: the subject's attributes come from Tessera.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// A permission, `resource:action`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceBody {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    /// `unit` (an organization unit id) and `owner` (a user id) drive scopes; the other
    /// properties are the attributes declared by the resource type.
    #[serde(default)]
    pub properties: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationRequest {
    pub subject: SubjectBody,
    pub action: ActionBody,
    pub resource: ResourceBody,
    #[serde(default)]
    pub context: Map<String, Value>,
}

/// One evaluation of a batch: fields left out come from the batch's defaults.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartialEvaluation {
    pub subject: Option<SubjectBody>,
    pub action: Option<ActionBody>,
    pub resource: Option<ResourceBody>,
    pub context: Option<Map<String, Value>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchOptions {
    /// `execute_all` (default), `deny_on_first_deny` or `permit_on_first_permit`.
    pub evaluations_semantic: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationsRequest {
    pub subject: Option<SubjectBody>,
    pub action: Option<ActionBody>,
    pub resource: Option<ResourceBody>,
    pub context: Option<Map<String, Value>>,
    pub evaluations: Vec<PartialEvaluation>,
    #[serde(default)]
    pub options: BatchOptions,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ExplanationBody {
    pub roles: Vec<String>,
    pub templates: Vec<String>,
    pub policies: Vec<String>,
    pub scope: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionContext {
    /// A stable code: `allowed_by_role`, `allowed_by_policy`, `forbidden_by_policy`,
    /// `no_permission`, `out_of_scope`, `subject_inactive`, `unknown_subject`, `policy_error`.
    pub reason: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<ExplanationBody>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct EvaluationResponse {
    pub decision: bool,
    pub context: DecisionContext,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct EvaluationsResponse {
    pub evaluations: Vec<EvaluationResponse>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct GrantBody {
    pub permission: String,
    pub scope: String,
    /// `system_role`, `role_template` or `user_template`.
    pub source: String,
    pub role: Option<String>,
    pub template: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HeldRoleBody {
    pub role: String,
    pub priority: u32,
    pub scope: String,
    pub inherited_through: Option<String>,
}

/// A subject's compiled permission graph.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SubjectPermissionsResponse {
    pub subject: Uuid,
    pub state: String,
    pub epoch: i64,
    pub priority: u32,
    pub bypasses_filters: bool,
    pub roles: Vec<HeldRoleBody>,
    pub permissions: Vec<GrantBody>,
}

/// A proposed change to simulate: exactly one of the fields.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposedChangeBody {
    /// A new policy set text.
    pub policies: Option<String>,
    /// A custom role created or changed.
    pub role: Option<ProposedRole>,
    /// A template created or changed.
    pub template: Option<ProposedTemplate>,
    /// A role granted or revoked.
    pub assignment: Option<ProposedAssignment>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposedRole {
    pub key: String,
    pub priority: u32,
    pub parent: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposedTemplate {
    pub key: String,
    pub permissions: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposedAssignment {
    pub user_id: Uuid,
    pub role: String,
    #[serde(default = "tenant_scope")]
    pub scope: String,
    pub grant: bool,
}

fn tenant_scope() -> String {
    "tenant".to_owned()
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationRequest {
    pub change: ProposedChangeBody,
    /// Requests to replay; when absent, the newest `recent` entries of the decision log.
    pub requests: Option<Vec<EvaluationRequest>>,
    /// How many logged decisions to replay (default 100, at most 1000).
    pub recent: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OutcomeBody {
    pub decision: bool,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangedDecisionBody {
    /// Position in the replayed list.
    pub index: usize,
    #[schema(value_type = Object)]
    pub request: Value,
    pub before: OutcomeBody,
    pub after: OutcomeBody,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SimulationResponse {
    pub evaluated: usize,
    pub changed: Vec<ChangedDecisionBody>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionLogEntry {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    #[schema(value_type = Object)]
    pub request: Value,
    pub decision: bool,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionLog {
    pub decisions: Vec<DecisionLogEntry>,
}

/// `/.well-known/authzen-configuration` (AuthZEN PDP metadata).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuthzenConfiguration {
    pub policy_decision_point: String,
    pub access_evaluation_endpoint: String,
    pub access_evaluations_endpoint: String,
    pub subject_permissions_endpoint: String,
    pub max_evaluations: usize,
    pub subject_types_supported: Vec<String>,
    pub evaluations_semantics_supported: Vec<String>,
}
