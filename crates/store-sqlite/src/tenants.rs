//! Organizations and tenants: the platform registry (not tenant data itself).

use crate::audit::append_journal;
use crate::codec::{
    fetch_limit, from_json, from_micros, id, into_page, micros, page_limit, parse, to_json, variant,
};
use crate::error::{duplicate_of, store_error};
use crate::pool::{SqliteStore, commit};
use async_trait::async_trait;
use sqlx::SqliteConnection;
use tessera_domain::paging::{Cursor, Page};
use tessera_domain::ports::{Journal, StoreError, TenantStore};
use tessera_domain::tenant::{Organization, Tenant, TenantSlug, TenantState};
use tessera_domain::{OrganizationId, TenantId};

const TENANT_COLUMNS: &str =
    "id, organization_id, slug, display_name, state, settings, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    organization_id: String,
    slug: String,
    display_name: String,
    state: String,
    settings: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl TenantRow {
    fn into_tenant(self) -> Result<Tenant, StoreError> {
        Ok(Tenant {
            id: id(&self.id)?,
            organization_id: id(&self.organization_id)?,
            slug: parse("tenant slug", &self.slug, TenantSlug::parse_unreserved)?,
            display_name: self.display_name,
            state: variant("tenant state", &self.state, TenantState::parse)?,
            settings: from_json("tenant settings", &self.settings)?,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
            version: self.version,
        })
    }
}

/// Inserts an organization; its id must be new.
pub(crate) async fn insert_organization(
    conn: &mut SqliteConnection,
    organization: &Organization,
) -> Result<(), StoreError> {
    let id = organization.id.to_string();
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)")
        .bind(&id)
        .bind(&organization.name)
        .bind(micros(organization.created_at)?)
        .execute(&mut *conn)
        .await
        .map_err(|e| match store_error(e) {
            StoreError::Duplicate { .. } => StoreError::Duplicate {
                field: "organization",
                value: Some(id.clone()),
            },
            other => other,
        })?;
    Ok(())
}

/// Inserts a tenant: `Duplicate { field: "slug" }` if the slug is taken, `NotFound` if its
/// organization does not exist.
pub(crate) async fn insert_tenant(
    conn: &mut SqliteConnection,
    tenant: &Tenant,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tenants (id, organization_id, slug, display_name, state, settings, \
         created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(tenant.id.to_string())
    .bind(tenant.organization_id.to_string())
    .bind(tenant.slug.as_str())
    .bind(&tenant.display_name)
    .bind(tenant.state.as_str())
    .bind(to_json(&tenant.settings)?)
    .bind(micros(tenant.created_at)?)
    .bind(micros(tenant.updated_at)?)
    .bind(tenant.version)
    .execute(&mut *conn)
    .await
    .map_err(duplicate_of("slug", tenant.slug.as_str()))?;
    Ok(())
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn create_tenant(
        &self,
        new_organization: Option<&Organization>,
        tenant: &Tenant,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        if let Some(organization) = new_organization {
            insert_organization(&mut tx, organization).await?;
        }
        insert_tenant(&mut tx, tenant).await?;
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    async fn organization(
        &self,
        org_id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError> {
        let row: Option<(String, String, i64)> =
            sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = ?")
                .bind(org_id.to_string())
                .fetch_optional(self.pool())
                .await
                .map_err(store_error)?;
        row.map(|(raw_id, name, created_at)| {
            Ok(Organization {
                id: id(&raw_id)?,
                name,
                created_at: from_micros(created_at)?,
            })
        })
        .transpose()
    }

    async fn tenant_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE slug = ?");
        let row: Option<TenantRow> = sqlx::query_as(&sql)
            .bind(slug.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(TenantRow::into_tenant).transpose()
    }

    async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?");
        let row: Option<TenantRow> = sqlx::query_as(&sql)
            .bind(id.to_string())
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
            format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE slug > ? ORDER BY slug LIMIT ?");
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
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE tenants SET slug = ?, display_name = ?, state = ?, settings = ?, \
             updated_at = ?, version = ? WHERE id = ? AND version = ?",
        )
        .bind(tenant.slug.as_str())
        .bind(&tenant.display_name)
        .bind(tenant.state.as_str())
        .bind(to_json(&tenant.settings)?)
        .bind(micros(tenant.updated_at)?)
        .bind(tenant.version)
        .bind(tenant.id.to_string())
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(duplicate_of("slug", tenant.slug.as_str()))?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT version FROM tenants WHERE id = ?")
                    .bind(tenant.id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_error)?;
            return Err(if exists.is_some() {
                StoreError::Conflict
            } else {
                StoreError::NotFound
            });
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }
}
