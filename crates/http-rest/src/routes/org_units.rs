use crate::caller::Caller;
use crate::convert::{assignment_response, org_unit_response};
use crate::errors::ApiResult;
use crate::paging;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tessera_api_types::common::Page;
use tessera_api_types::org_units::{
    AssignEmployeeRequest, AssignmentResponse, CreateOrgUnitRequest, OrgUnitResponse,
    UpdateOrgUnitRequest,
};
use tessera_application::{NewOrgUnit, OrgUnitPatch};
use tessera_domain::org_unit::UnitKind;
use tessera_domain::{OrgUnitId, UserId};
use tessera_http_kit::{JsonBody, PathParam, QueryParams};
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UnitListParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Only the direct children of this unit; `root` for top-level units.
    pub parent: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

type UnitPath = PathParam<(String, Uuid)>;

/// Create an organization unit, at the root or under a parent.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/org-units", tag = "org-units", params(("t" = String, Path)), request_body = CreateOrgUnitRequest,
    responses((status = 201, body = OrgUnitResponse), (status = 422)), security(("api_key" = [])))]
pub async fn create(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<CreateOrgUnitRequest>,
) -> ApiResult<(StatusCode, Json<OrgUnitResponse>)> {
    let kind = UnitKind::parse(&body.kind)?;
    let unit = s
        .app
        .create_org_unit(
            &ctx,
            &t,
            NewOrgUnit {
                name: body.name,
                kind,
                parent_id: body.parent_id.map(OrgUnitId::from_uuid),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(org_unit_response(unit))))
}

/// List units (all, the roots, or the children of one unit).
#[utoipa::path(get, path = "/api/v1/tenants/{t}/org-units", tag = "org-units", params(("t" = String, Path), UnitListParams),
    responses((status = 200, body = Page<OrgUnitResponse>)), security(("api_key" = [])))]
pub async fn list(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    QueryParams(p): QueryParams<UnitListParams>,
) -> ApiResult<Json<Page<OrgUnitResponse>>> {
    let parent = match p.parent.as_deref() {
        None => None,
        Some("root") => Some(None),
        Some(id) => Some(Some(id.parse::<OrgUnitId>().map_err(|_| {
            tessera_application::Error::invalid(tessera_domain::ValidationError::new(
                "parent",
                "invalid_id",
                "parent is a unit id or `root`",
            ))
        })?)),
    };
    let page = s
        .app
        .list_org_units(
            &ctx,
            &t,
            parent,
            paging::cursor(p.cursor.as_deref())?,
            paging::limit(p.limit),
        )
        .await?;
    Ok(Json(paging::page(page, org_unit_response)))
}

/// Get a unit.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/org-units/{id}", tag = "org-units", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = OrgUnitResponse), (status = 404)), security(("api_key" = [])))]
pub async fn get(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UnitPath,
) -> ApiResult<Json<OrgUnitResponse>> {
    Ok(Json(org_unit_response(
        s.app
            .get_org_unit(&ctx, &t, OrgUnitId::from_uuid(id))
            .await?,
    )))
}

/// Rename, re-kind or move a unit (never under itself or a descendant).
#[utoipa::path(patch, path = "/api/v1/tenants/{t}/org-units/{id}", tag = "org-units", params(("t" = String, Path), ("id" = Uuid, Path)), request_body = UpdateOrgUnitRequest,
    responses((status = 200, body = OrgUnitResponse), (status = 409), (status = 422)), security(("api_key" = [])))]
pub async fn update(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UnitPath,
    JsonBody(body): JsonBody<UpdateOrgUnitRequest>,
) -> ApiResult<Json<OrgUnitResponse>> {
    let kind = body.kind.as_deref().map(UnitKind::parse).transpose()?;
    let patch = OrgUnitPatch {
        name: body.name,
        kind,
        parent_id: body.parent_id.map(|p| p.map(OrgUnitId::from_uuid)),
    };
    Ok(Json(org_unit_response(
        s.app
            .update_org_unit(&ctx, &t, OrgUnitId::from_uuid(id), patch)
            .await?,
    )))
}

/// Delete a unit that has no sub-units, employees or customers.
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/org-units/{id}", tag = "org-units", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 204), (status = 409, description = "still in use")), security(("api_key" = [])))]
pub async fn delete(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UnitPath,
) -> ApiResult<StatusCode> {
    s.app
        .delete_org_unit(&ctx, &t, OrgUnitId::from_uuid(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Assign an employee to a unit.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/org-units/{id}/employees", tag = "org-units", params(("t" = String, Path), ("id" = Uuid, Path)), request_body = AssignEmployeeRequest,
    responses((status = 201, body = AssignmentResponse), (status = 409)), security(("api_key" = [])))]
pub async fn assign(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UnitPath,
    JsonBody(body): JsonBody<AssignEmployeeRequest>,
) -> ApiResult<(StatusCode, Json<AssignmentResponse>)> {
    let a = s
        .app
        .assign_employee(
            &ctx,
            &t,
            OrgUnitId::from_uuid(id),
            UserId::from_uuid(body.user_id),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(assignment_response(a))))
}

/// List a unit's employees.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/org-units/{id}/employees", tag = "org-units", params(("t" = String, Path), ("id" = Uuid, Path), PageParams),
    responses((status = 200, body = Page<AssignmentResponse>)), security(("api_key" = [])))]
pub async fn employees(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UnitPath,
    QueryParams(p): QueryParams<PageParams>,
) -> ApiResult<Json<Page<AssignmentResponse>>> {
    let page = s
        .app
        .list_unit_employees(
            &ctx,
            &t,
            OrgUnitId::from_uuid(id),
            paging::cursor(p.cursor.as_deref())?,
            paging::limit(p.limit),
        )
        .await?;
    Ok(Json(paging::page(page, assignment_response)))
}

/// Remove an employee from a unit.
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/org-units/{id}/employees/{user_id}", tag = "org-units",
    params(("t" = String, Path), ("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 404)), security(("api_key" = [])))]
pub async fn unassign(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id, user)): PathParam<(String, Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    s.app
        .unassign_employee(&ctx, &t, OrgUnitId::from_uuid(id), UserId::from_uuid(user))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The units a user is assigned to.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/users/{id}/org-units", tag = "org-units", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = [AssignmentResponse])), security(("api_key" = [])))]
pub async fn user_units(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UnitPath,
) -> ApiResult<Json<Vec<AssignmentResponse>>> {
    let list = s
        .app
        .list_user_units(&ctx, &t, UserId::from_uuid(id))
        .await?;
    Ok(Json(list.into_iter().map(assignment_response).collect()))
}
