//! The check API in the OpenID AuthZEN shape (`/t/{t}/access/v1/...`), its discovery
//! document, a subject's compiled permissions, and the caller's own menu.

use crate::authz_convert::{batch_item, evaluation, graph_response, menu_body, verdict_response};
use crate::caller::{Caller, Me};
use crate::errors::ApiResult;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use tessera_api_types::authz::{
    AuthzenConfiguration, EvaluationRequest, EvaluationResponse, EvaluationsRequest,
    EvaluationsResponse, MenuResponse, SubjectPermissionsResponse,
};
use tessera_application::{BatchSemantic, Error, MAX_BATCH};
use tessera_domain::{UserId, ValidationError};
use tessera_http_kit::{JsonBody, PathParam, QueryParams};
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExplainParams {
    /// List the roles, templates and policies behind each decision.
    pub explain: Option<bool>,
}

/// One decision: may the subject do the action on the resource?
#[utoipa::path(post, path = "/t/{t}/access/v1/evaluation", tag = "access", params(("t" = String, Path), ExplainParams), request_body = EvaluationRequest,
    responses((status = 200, body = EvaluationResponse), (status = 400), (status = 401), (status = 403), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn evaluation_one(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    QueryParams(q): QueryParams<ExplainParams>,
    JsonBody(body): JsonBody<EvaluationRequest>,
) -> ApiResult<Json<EvaluationResponse>> {
    let verdict = s
        .app
        .evaluate(&ctx, &t, evaluation(body), q.explain.unwrap_or(false))
        .await?;
    Ok(Json(verdict_response(verdict)))
}

/// A batch of decisions (at most 200); top-level fields are defaults for every item.
#[utoipa::path(post, path = "/t/{t}/access/v1/evaluations", tag = "access", params(("t" = String, Path), ExplainParams), request_body = EvaluationsRequest,
    responses((status = 200, body = EvaluationsResponse), (status = 400), (status = 401), (status = 403), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn evaluation_batch(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    QueryParams(q): QueryParams<ExplainParams>,
    JsonBody(mut body): JsonBody<EvaluationsRequest>,
) -> ApiResult<Json<EvaluationsResponse>> {
    let semantic = match body.options.evaluations_semantic.as_deref() {
        None | Some("execute_all") => BatchSemantic::ExecuteAll,
        Some("deny_on_first_deny") => BatchSemantic::DenyOnFirstDeny,
        Some("permit_on_first_permit") => BatchSemantic::PermitOnFirstPermit,
        Some(_) => {
            return Err(Error::invalid(ValidationError::new(
                "options.evaluations_semantic",
                "invalid_semantic",
                "one of execute_all, deny_on_first_deny, permit_on_first_permit",
            ))
            .into());
        }
    };
    if body.evaluations.len() > MAX_BATCH {
        return Err(Error::invalid(ValidationError::new(
            "evaluations",
            "batch_too_large",
            format!("at most {MAX_BATCH} evaluations per request"),
        ))
        .into());
    }
    let items = std::mem::take(&mut body.evaluations);
    let evals = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| batch_item(&body, item, i))
        .collect::<Result<Vec<_>, _>>()?;
    let verdicts = s
        .app
        .evaluate_batch(&ctx, &t, evals, semantic, q.explain.unwrap_or(false))
        .await?;
    Ok(Json(EvaluationsResponse {
        evaluations: verdicts.into_iter().map(verdict_response).collect(),
    }))
}

/// A subject's compiled permission graph: roles (with inherited ones), permissions with
/// their scopes and sources.
#[utoipa::path(get, path = "/t/{t}/access/v1/subjects/{id}/permissions", tag = "access", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = SubjectPermissionsResponse), (status = 401), (status = 403), (status = 404)), security(("api_key" = []), ("user" = [])))]
pub async fn subject_permissions(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): PathParam<(String, Uuid)>,
) -> ApiResult<Json<SubjectPermissionsResponse>> {
    let graph = s
        .app
        .subject_permissions(&ctx, &t, UserId::from_uuid(id))
        .await?;
    Ok(Json(graph_response(&graph)))
}

/// The AuthZEN discovery document of the tenant.
#[utoipa::path(get, path = "/t/{t}/.well-known/authzen-configuration", tag = "access", params(("t" = String, Path)),
    responses((status = 200, body = AuthzenConfiguration), (status = 404)))]
pub async fn configuration(
    State(s): State<RestState>,
    PathParam(t): PathParam<String>,
) -> ApiResult<Json<AuthzenConfiguration>> {
    let tenant = s.app.active_tenant(&t).await?;
    let base = format!("{}/t/{}", s.app.public_url(), tenant.slug);
    Ok(Json(AuthzenConfiguration {
        policy_decision_point: base.clone(),
        access_evaluation_endpoint: format!("{base}/access/v1/evaluation"),
        access_evaluations_endpoint: format!("{base}/access/v1/evaluations"),
        subject_permissions_endpoint: format!("{base}/access/v1/subjects/{{id}}/permissions"),
        max_evaluations: MAX_BATCH,
        subject_types_supported: vec!["user".to_owned()],
        evaluations_semantics_supported: vec![
            "execute_all".to_owned(),
            "deny_on_first_deny".to_owned(),
            "permit_on_first_permit".to_owned(),
        ],
    }))
}

/// The tenant's menu, filtered for the signed-in user.
#[utoipa::path(get, path = "/t/{t}/api/v1/me/menu", tag = "me", params(("t" = String, Path)),
    responses((status = 200, body = MenuResponse), (status = 401)), security(("user" = [])))]
pub async fn my_menu(State(s): State<RestState>, Me(me, _): Me) -> ApiResult<Json<MenuResponse>> {
    let items = s.app.my_menu(&me).await?;
    Ok(Json(MenuResponse {
        items: menu_body(items),
    }))
}
