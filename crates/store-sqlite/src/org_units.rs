//! Organization units (a tree per tenant) and employee assignments.

use crate::audit::append_journal;
use crate::codec::{
    cursor_id, fetch_limit, from_micros, id, into_page, micros, opt_id, page_limit, parse,
};
use crate::error::{delete_error, duplicate_of, store_error};
use crate::pool::{SqliteStore, commit};
use async_trait::async_trait;
use tessera_domain::org_unit::{Assignment, OrgUnit, UnitKind};
use tessera_domain::paging::{Cursor, Page};
use tessera_domain::ports::{Journal, OrgUnitStore, StoreError};
use tessera_domain::{OrgUnitId, TenantId, UserId};

const UNIT_COLUMNS: &str = "tenant_id, id, parent_id, name, kind, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
struct UnitRow {
    tenant_id: String,
    id: String,
    parent_id: Option<String>,
    name: String,
    kind: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl UnitRow {
    fn into_unit(self) -> Result<OrgUnit, StoreError> {
        Ok(OrgUnit {
            id: id(&self.id)?,
            tenant_id: id(&self.tenant_id)?,
            parent_id: opt_id(self.parent_id.as_deref())?,
            name: self.name,
            kind: parse("unit kind", &self.kind, UnitKind::parse)?,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
            version: self.version,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    tenant_id: String,
    unit_id: String,
    user_id: String,
    created_at: i64,
}

impl AssignmentRow {
    fn into_assignment(self) -> Result<Assignment, StoreError> {
        Ok(Assignment {
            tenant_id: id(&self.tenant_id)?,
            unit_id: id(&self.unit_id)?,
            user_id: id(&self.user_id)?,
            created_at: from_micros(self.created_at)?,
        })
    }
}

#[async_trait]
impl OrgUnitStore for SqliteStore {
    async fn insert_unit(&self, unit: &OrgUnit, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO org_units (tenant_id, id, parent_id, name, kind, created_at, \
             updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(unit.tenant_id.to_string())
        .bind(unit.id.to_string())
        .bind(unit.parent_id.map(|p| p.to_string()))
        .bind(&unit.name)
        .bind(unit.kind.as_str())
        .bind(micros(unit.created_at)?)
        .bind(micros(unit.updated_at)?)
        .bind(unit.version)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    async fn unit(&self, tenant: TenantId, id: OrgUnitId) -> Result<Option<OrgUnit>, StoreError> {
        let sql = format!("SELECT {UNIT_COLUMNS} FROM org_units WHERE tenant_id = ? AND id = ?");
        let row: Option<UnitRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(UnitRow::into_unit).transpose()
    }

    async fn list_units(
        &self,
        tenant: TenantId,
        parent: Option<Option<OrgUnitId>>,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<OrgUnit>, StoreError> {
        let limit = page_limit(limit);
        let after = after.map(|c| cursor_id(&c.id)).transpose()?;
        let parent_filter = match parent {
            None => "",
            Some(None) => " AND parent_id IS NULL",
            Some(Some(_)) => " AND parent_id = ?4",
        };
        let sql = format!(
            "SELECT {UNIT_COLUMNS} FROM org_units WHERE tenant_id = ?1 AND id > ?2\
             {parent_filter} ORDER BY id LIMIT ?3"
        );
        let mut q = sqlx::query_as::<_, UnitRow>(&sql)
            .bind(tenant.to_string())
            .bind(after.unwrap_or_default())
            .bind(fetch_limit(limit));
        if let Some(Some(p)) = parent {
            q = q.bind(p.to_string());
        }
        let rows = q.fetch_all(self.pool()).await.map_err(store_error)?;
        let units = rows
            .into_iter()
            .map(UnitRow::into_unit)
            .collect::<Result<Vec<_>, _>>()?;
        into_page(units, limit, |u| {
            Ok(Cursor {
                key: u.id.to_string(),
                id: u.id.to_string(),
            })
        })
    }

    async fn subtree(
        &self,
        tenant: TenantId,
        root: OrgUnitId,
    ) -> Result<Vec<OrgUnitId>, StoreError> {
        // UNION (not UNION ALL) also ends on a cycle, should one ever be written.
        let ids: Vec<String> = sqlx::query_scalar(
            "WITH RECURSIVE sub(id) AS ( \
               SELECT id FROM org_units WHERE tenant_id = ?1 AND id = ?2 \
               UNION \
               SELECT c.id FROM org_units c JOIN sub ON c.parent_id = sub.id \
               WHERE c.tenant_id = ?1 \
             ) SELECT id FROM sub ORDER BY id",
        )
        .bind(tenant.to_string())
        .bind(root.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        ids.iter().map(|i| id(i)).collect()
    }

    async fn update_unit(
        &self,
        unit: &OrgUnit,
        expected_version: i64,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let (tenant, unit_id) = (unit.tenant_id.to_string(), unit.id.to_string());
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE org_units SET parent_id = ?, name = ?, kind = ?, updated_at = ?, version = ? \
             WHERE tenant_id = ? AND id = ? AND version = ?",
        )
        .bind(unit.parent_id.map(|p| p.to_string()))
        .bind(&unit.name)
        .bind(unit.kind.as_str())
        .bind(micros(unit.updated_at)?)
        .bind(unit.version)
        .bind(&tenant)
        .bind(&unit_id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT version FROM org_units WHERE tenant_id = ? AND id = ?")
                    .bind(&tenant)
                    .bind(&unit_id)
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

    async fn delete_unit(
        &self,
        tenant: TenantId,
        id: OrgUnitId,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let (tenant, unit_id) = (tenant.to_string(), id.to_string());
        let mut tx = self.write().await?;
        let in_use: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM org_units WHERE tenant_id = ?1 AND parent_id = ?2) \
                 OR EXISTS (SELECT 1 FROM org_unit_assignments \
                            WHERE tenant_id = ?1 AND unit_id = ?2) \
                 OR EXISTS (SELECT 1 FROM users WHERE tenant_id = ?1 AND org_unit_id = ?2)",
        )
        .bind(&tenant)
        .bind(&unit_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        if in_use {
            return Err(StoreError::InUse);
        }
        // The foreign keys (ON DELETE RESTRICT) back the check above up.
        let done = sqlx::query("DELETE FROM org_units WHERE tenant_id = ? AND id = ?")
            .bind(&tenant)
            .bind(&unit_id)
            .execute(&mut *tx)
            .await
            .map_err(delete_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    async fn assign(&self, assignment: &Assignment, journal: &Journal) -> Result<(), StoreError> {
        let user = assignment.user_id.to_string();
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO org_unit_assignments (tenant_id, unit_id, user_id, created_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(assignment.tenant_id.to_string())
        .bind(assignment.unit_id.to_string())
        .bind(&user)
        .bind(micros(assignment.created_at)?)
        .execute(&mut *tx)
        .await
        .map_err(duplicate_of("assignment", &user))?;
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    async fn unassign(
        &self,
        tenant: TenantId,
        unit: OrgUnitId,
        user: UserId,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "DELETE FROM org_unit_assignments WHERE tenant_id = ? AND unit_id = ? AND user_id = ?",
        )
        .bind(tenant.to_string())
        .bind(unit.to_string())
        .bind(user.to_string())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    async fn unit_assignments(
        &self,
        tenant: TenantId,
        unit: OrgUnitId,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Assignment>, StoreError> {
        let limit = page_limit(limit);
        let after = after.map(|c| cursor_id(&c.id)).transpose()?;
        let rows: Vec<AssignmentRow> = sqlx::query_as(
            "SELECT tenant_id, unit_id, user_id, created_at FROM org_unit_assignments \
             WHERE tenant_id = ? AND unit_id = ? AND user_id > ? ORDER BY user_id LIMIT ?",
        )
        .bind(tenant.to_string())
        .bind(unit.to_string())
        .bind(after.unwrap_or_default())
        .bind(fetch_limit(limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        let items = rows
            .into_iter()
            .map(AssignmentRow::into_assignment)
            .collect::<Result<Vec<_>, _>>()?;
        into_page(items, limit, |a| {
            Ok(Cursor {
                key: a.user_id.to_string(),
                id: a.user_id.to_string(),
            })
        })
    }

    async fn user_assignments(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<Assignment>, StoreError> {
        let rows: Vec<AssignmentRow> = sqlx::query_as(
            "SELECT tenant_id, unit_id, user_id, created_at FROM org_unit_assignments \
             WHERE tenant_id = ? AND user_id = ? ORDER BY unit_id",
        )
        .bind(tenant.to_string())
        .bind(user.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(AssignmentRow::into_assignment)
            .collect()
    }
}
