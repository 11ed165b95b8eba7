//! The tenant's Cedar policy set (versioned), its schema, the decision log and simulations.

use crate::authz_convert::{evaluation, permissions, policy_response, scope};
use crate::caller::Caller;
use crate::errors::ApiResult;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tessera_api_types::authz::{
    ChangedDecisionBody, DecisionLog, DecisionLogEntry, OutcomeBody, PolicySchemaResponse,
    PolicySetList, PolicySetResponse, SavePoliciesRequest, SimulationRequest, SimulationResponse,
};
use tessera_application::{Error, ProposedChange, Replay};
use tessera_domain::authz::{RoleKey, RoleRef};
use tessera_domain::{UserId, ValidationError};
use tessera_http_kit::{JsonBody, PathParam, QueryParams};
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LimitParams {
    /// 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

/// Every version of the policy set, newest (in force) first.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/policies", tag = "policies", params(("t" = String, Path)),
    responses((status = 200, body = PolicySetList), (status = 403)), security(("api_key" = []), ("user" = [])))]
pub async fn list(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
) -> ApiResult<Json<PolicySetList>> {
    let versions = s.app.policy_versions(&ctx, &t).await?;
    Ok(Json(PolicySetList {
        versions: versions.into_iter().map(policy_response).collect(),
    }))
}

/// Save a new version. Policies that do not parse or validate are refused (422, with Cedar's
/// message) and nothing is saved.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/policies", tag = "policies", params(("t" = String, Path)), request_body = SavePoliciesRequest,
    responses((status = 201, body = PolicySetResponse), (status = 403), (status = 409), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn save(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<SavePoliciesRequest>,
) -> ApiResult<(StatusCode, Json<PolicySetResponse>)> {
    let set = s
        .app
        .save_policies(&ctx, &t, body.policies, body.comment, body.expected_version)
        .await?;
    Ok((StatusCode::CREATED, Json(policy_response(set))))
}

/// One version.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/policies/versions/{version}", tag = "policies", params(("t" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = PolicySetResponse), (status = 403), (status = 404)), security(("api_key" = []), ("user" = [])))]
pub async fn version(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, version)): PathParam<(String, i64)>,
) -> ApiResult<Json<PolicySetResponse>> {
    Ok(Json(policy_response(
        s.app.policy_version(&ctx, &t, version).await?,
    )))
}

/// The Cedar schema policies are validated against (derived from Tessera's entity types and
/// the tenant's resource types).
#[utoipa::path(get, path = "/api/v1/tenants/{t}/policies/schema", tag = "policies", params(("t" = String, Path)),
    responses((status = 200, body = PolicySchemaResponse), (status = 403)), security(("api_key" = []), ("user" = [])))]
pub async fn schema(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
) -> ApiResult<Json<PolicySchemaResponse>> {
    Ok(Json(PolicySchemaResponse {
        schema: s.app.policy_schema(&ctx, &t).await?,
    }))
}

/// The newest sampled decisions (`settings.authz.decision_log_rate`).
#[utoipa::path(get, path = "/api/v1/tenants/{t}/decisions", tag = "policies", params(("t" = String, Path), LimitParams),
    responses((status = 200, body = DecisionLog), (status = 403)), security(("api_key" = []), ("user" = [])))]
pub async fn decisions(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    QueryParams(q): QueryParams<LimitParams>,
) -> ApiResult<Json<DecisionLog>> {
    let list = s
        .app
        .recent_decisions(&ctx, &t, q.limit.unwrap_or(100))
        .await?;
    Ok(Json(DecisionLog {
        decisions: list
            .into_iter()
            .map(|d| DecisionLogEntry {
                id: d.id,
                at: d.at,
                request: d.request,
                decision: d.allowed,
                reason: d.reason,
            })
            .collect(),
    }))
}

fn one_change(body: tessera_api_types::authz::ProposedChangeBody) -> Result<ProposedChange, Error> {
    let given = [
        body.policies.is_some(),
        body.role.is_some(),
        body.template.is_some(),
        body.assignment.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(Error::invalid(ValidationError::new(
            "change",
            "one_change",
            "give exactly one of `policies`, `role`, `template` or `assignment`",
        )));
    }
    if let Some(text) = body.policies {
        return Ok(ProposedChange::Policies(text));
    }
    if let Some(r) = body.role {
        return Ok(ProposedChange::Role {
            key: RoleKey::parse(&r.key).map_err(|e| Error::invalid(e.at("change.role.key")))?,
            priority: r.priority,
            parent: r
                .parent
                .map(|p| RoleRef::parse(&p).map_err(|e| Error::invalid(e.at("change.role.parent"))))
                .transpose()?,
        });
    }
    if let Some(t) = body.template {
        let perms = permissions(&t.permissions, "change.template.permissions").map_err(|e| e.0)?;
        return Ok(ProposedChange::Template {
            key: t.key,
            permissions: perms,
        });
    }
    match body.assignment {
        Some(a) => Ok(ProposedChange::Assignment {
            user: UserId::from_uuid(a.user_id),
            role: RoleRef::parse(&a.role)
                .map_err(|e| Error::invalid(e.at("change.assignment.role")))?,
            scope: scope(Some(&a.scope)).map_err(|e| e.0)?,
            grant: a.grant,
        }),
        None => Err(Error::invalid(ValidationError::new(
            "change",
            "one_change",
            "no change given",
        ))),
    }
}

/// Simulate a change before saving it: which of the given requests — or of the newest
/// logged decisions — would change outcome, with the reasons before and after.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/policies/simulate", tag = "policies", params(("t" = String, Path)), request_body = SimulationRequest,
    responses((status = 200, body = SimulationResponse), (status = 403), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn simulate(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<SimulationRequest>,
) -> ApiResult<Json<SimulationResponse>> {
    let change = one_change(body.change)?;
    let replay = match body.requests {
        Some(list) => Replay::Given(list.into_iter().map(evaluation).collect()),
        None => Replay::Recent(body.recent.unwrap_or(100)),
    };
    let report = s.app.simulate(&ctx, &t, change, replay).await?;
    Ok(Json(SimulationResponse {
        evaluated: report.evaluated,
        changed: report
            .changed
            .into_iter()
            .map(|c| ChangedDecisionBody {
                index: c.index,
                request: c.request,
                before: OutcomeBody {
                    decision: c.before.decision,
                    reason: c.before.reason,
                },
                after: OutcomeBody {
                    decision: c.after.decision,
                    reason: c.after.reason,
                },
            })
            .collect(),
    }))
}
