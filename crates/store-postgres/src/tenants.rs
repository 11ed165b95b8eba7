//! Organizations and tenants: the platform registry (no tenant_id column, no row-level
//! security).

use crate::audit::append_journal;
use crate::codec::{fetch_limit, from_json, into_page, page_limit, parse, to_json, variant};
use crate::error::{duplicate_of, store_error};
use crate::pool::{PostgresStore, commit};
use async_trait::async_trait;
use sqlx::PgConnection;
use tessera_domain::paging::{Cursor, Page};
use tessera_domain::ports::{Journal, StoreError, TenantStore};
use tessera_domain::tenant::{Organization, Tenant, TenantSlug, TenantState};
use tessera_domain::{OrganizationId, TenantId};
use time::OffsetDateTime;
use uuid::Uuid;

const TENANT_COLUMNS: &str =
    "id, organization_id, slug, display_name, state, settings, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: Uuid,
    organization_id: Uuid,
    slug: String,
    display_name: String,
    state: String,
    settings: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i64,
}

impl TenantRow {
    fn into_tenant(self) -> Result<Tenant, StoreError> {
        Ok(Tenant {
            id: TenantId::from_uuid(self.id),
            organization_id: OrganizationId::from_uuid(self.organization_id),
            slug: parse("tenant slug", &self.slug, TenantSlug::parse_unreserved)?,
            display_name: self.display_name,
            state: variant("tenant state", &self.state, TenantState::parse)?,
            settings: from_json("tenant settings", &self.settings)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

/// Inserts an organization; its id must be new.
pub(crate) async fn insert_organization(
    conn: &mut PgConnection,
    organization: &Organization,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(organization.id.as_uuid())
        .bind(&organization.name)
        .bind(organization.created_at)
        .execute(&mut *conn)
        .await
        .map_err(duplicate_of("organization", &organization.id.to_string()))?;
    Ok(())
}

/// Inserts a tenant: `Duplicate { field: "slug" }` if the slug is taken, `NotFound` if its
/// organization does not exist.
pub(crate) async fn insert_tenant(
    conn: &mut PgConnection,
    tenant: &Tenant,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tenants (id, organization_id, slug, display_name, state, settings, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant.id.as_uuid())
    .bind(tenant.organization_id.as_uuid())
    .bind(tenant.slug.as_str())
    .bind(&tenant.display_name)
    .bind(tenant.state.as_str())
    .bind(to_json(&tenant.settings)?)
    .bind(tenant.created_at)
    .bind(tenant.updated_at)
    .bind(tenant.version)
    .execute(&mut *conn)
    .await
    .map_err(duplicate_of("slug", tenant.slug.as_str()))?;
    Ok(())
}

#[async_trait]
impl TenantStore for PostgresStore {
    async fn create_tenant(
        &self,
        new_organization: Option<&Organization>,
        tenant: &Tenant,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.registry_tx().await?;
        if let Some(organization) = new_organization {
            insert_organization(&mut tx, organization).await?;
        }
        insert_tenant(&mut tx, tenant).await?;
        append_journal(&mut tx, journal, None).await?;
        commit(tx).await
    }

    async fn organization(
        &self,
        org_id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError> {
        let row: Option<(Uuid, String, OffsetDateTime)> =
            sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = $1")
                .bind(org_id.as_uuid())
                .fetch_optional(self.pool())
                .await
                .map_err(store_error)?;
        Ok(row.map(|(id, name, created_at)| Organization {
            id: OrganizationId::from_uuid(id),
            name,
            created_at,
        }))
    }

    async fn tenant_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE slug = $1");
        let row: Option<TenantRow> = sqlx::query_as(&sql)
            .bind(slug.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(TenantRow::into_tenant).transpose()
    }

    async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1");
        let row: Option<TenantRow> = sqlx::query_as(&sql)
            .bind(id.as_uuid())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(TenantRow::into_tenant).transpose()
    }

    async fn list_tenants(
        &self,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Tenant>, StoreError> {
        let limit = page_limit(limit);
        let sql =
            format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE slug > $1 ORDER BY slug LIMIT $2");
        let rows: Vec<TenantRow> = sqlx::query_as(&sql)
            .bind(after.map_or("", |c| c.key.as_str()))
            .bind(fetch_limit(limit))
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        let tenants = rows
            .into_iter()
            .map(TenantRow::into_tenant)
            .collect::<Result<_, _>>()?;
        into_page(tenants, limit, |t: &Tenant| {
            Ok(Cursor {
                key: t.slug.as_str().to_owned(),
                id: t.id.to_string(),
            })
        })
    }

    async fn update_tenant(
        &self,
        tenant: &Tenant,
        expected_version: i64,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.registry_tx().await?;
        let done = sqlx::query(
            "UPDATE tenants SET slug = $1, display_name = $2, state = $3, settings = $4, \
             updated_at = $5, version = $6 WHERE id = $7 AND version = $8",
        )
        .bind(tenant.slug.as_str())
        .bind(&tenant.display_name)
        .bind(tenant.state.as_str())
        .bind(to_json(&tenant.settings)?)
        .bind(tenant.updated_at)
        .bind(tenant.version)
        .bind(tenant.id.as_uuid())
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(duplicate_of("slug", tenant.slug.as_str()))?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT version FROM tenants WHERE id = $1")
                    .bind(tenant.id.as_uuid())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_error)?;
            return Err(if exists.is_some() {
                StoreError::Conflict
            } else {
                StoreError::NotFound
            });
        }
        append_journal(&mut tx, journal, None).await?;
        commit(tx).await
    }
}
