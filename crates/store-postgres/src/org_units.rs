//! Organization units (a tree per tenant) and employee assignments.

use crate::audit::append_journal;
use crate::codec::{cursor_id, fetch_limit, into_page, page_limit, parse};
use crate::error::{delete_error, duplicate_of, store_error};
use crate::pool::{PostgresStore, commit};
use async_trait::async_trait;
use tessera_domain::org_unit::{Assignment, OrgUnit, UnitKind};
use tessera_domain::paging::{Cursor, Page};
use tessera_domain::ports::{Journal, OrgUnitStore, StoreError};
use tessera_domain::{OrgUnitId, TenantId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

const UNIT_COLUMNS: &str = "tenant_id, id, parent_id, name, kind, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
struct UnitRow {
    tenant_id: Uuid,
    id: Uuid,
    parent_id: Option<Uuid>,
    name: String,
    kind: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i64,
}

impl UnitRow {
    fn into_unit(self) -> Result<OrgUnit, StoreError> {
        Ok(OrgUnit {
            id: OrgUnitId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            parent_id: self.parent_id.map(OrgUnitId::from_uuid),
            name: self.name,
            kind: parse("unit kind", &self.kind, UnitKind::parse)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    tenant_id: Uuid,
    unit_id: Uuid,
    user_id: Uuid,
    created_at: OffsetDateTime,
}

impl From<AssignmentRow> for Assignment {
    fn from(row: AssignmentRow) -> Self {
        Assignment {
            tenant_id: TenantId::from_uuid(row.tenant_id),
            unit_id: OrgUnitId::from_uuid(row.unit_id),
            user_id: UserId::from_uuid(row.user_id),
            created_at: row.created_at,
        }
    }
}

#[async_trait]
impl OrgUnitStore for PostgresStore {
    async fn insert_unit(&self, unit: &OrgUnit, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(unit.tenant_id).await?;
        sqlx::query(
            "INSERT INTO org_units (tenant_id, id, parent_id, name, kind, created_at, \
             updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(unit.tenant_id.as_uuid())
        .bind(unit.id.as_uuid())
        .bind(unit.parent_id.map(OrgUnitId::into_uuid))
        .bind(&unit.name)
        .bind(unit.kind.as_str())
        .bind(unit.created_at)
        .bind(unit.updated_at)
        .bind(unit.version)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        append_journal(&mut tx, journal, Some(unit.tenant_id)).await?;
        commit(tx).await
    }

    async fn unit(&self, tenant: TenantId, id: OrgUnitId) -> Result<Option<OrgUnit>, StoreError> {
        let sql = format!("SELECT {UNIT_COLUMNS} FROM org_units WHERE tenant_id = $1 AND id = $2");
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<UnitRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
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
            Some(Some(_)) => " AND parent_id = $4",
        };
        let sql = format!(
            "SELECT {UNIT_COLUMNS} FROM org_units \
             WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2){parent_filter} \
             ORDER BY id LIMIT $3"
        );
        let mut q = sqlx::query_as::<_, UnitRow>(&sql)
            .bind(tenant.as_uuid())
            .bind(after)
            .bind(fetch_limit(limit));
        if let Some(Some(p)) = parent {
            q = q.bind(p.into_uuid());
        }
        let mut tx = self.tenant_tx(tenant).await?;
        let rows = q.fetch_all(&mut *tx).await.map_err(store_error)?;
        commit(tx).await?;
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
        let mut tx = self.tenant_tx(tenant).await?;
        // UNION (not UNION ALL) also ends on a cycle, should one ever be written.
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "WITH RECURSIVE sub(id) AS ( \
               SELECT id FROM org_units WHERE tenant_id = $1 AND id = $2 \
               UNION \
               SELECT c.id FROM org_units c JOIN sub ON c.parent_id = sub.id \
               WHERE c.tenant_id = $1 \
             ) SELECT id FROM sub ORDER BY id",
        )
        .bind(tenant.as_uuid())
        .bind(root.as_uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        commit(tx).await?;
        Ok(ids.into_iter().map(OrgUnitId::from_uuid).collect())
    }

    async fn update_unit(
        &self,
        unit: &OrgUnit,
        expected_version: i64,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(unit.tenant_id).await?;
        let done = sqlx::query(
            "UPDATE org_units SET parent_id = $1, name = $2, kind = $3, updated_at = $4, \
             version = $5 WHERE tenant_id = $6 AND id = $7 AND version = $8",
        )
        .bind(unit.parent_id.map(OrgUnitId::into_uuid))
        .bind(&unit.name)
        .bind(unit.kind.as_str())
        .bind(unit.updated_at)
        .bind(unit.version)
        .bind(unit.tenant_id.as_uuid())
        .bind(unit.id.as_uuid())
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT version FROM org_units WHERE tenant_id = $1 AND id = $2",
            )
            .bind(unit.tenant_id.as_uuid())
            .bind(unit.id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
            return Err(if exists.is_some() {
                StoreError::Conflict
            } else {
                StoreError::NotFound
            });
        }
        append_journal(&mut tx, journal, Some(unit.tenant_id)).await?;
        commit(tx).await
    }

    async fn delete_unit(
        &self,
        tenant: TenantId,
        id: OrgUnitId,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        // Children, employees and customers reference the unit through foreign keys
        // (ON DELETE RESTRICT): a violation means "still in use".
        let done = sqlx::query("DELETE FROM org_units WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(delete_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }

    async fn assign(&self, assignment: &Assignment, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(assignment.tenant_id).await?;
        sqlx::query(
            "INSERT INTO org_unit_assignments (tenant_id, unit_id, user_id, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(assignment.tenant_id.as_uuid())
        .bind(assignment.unit_id.as_uuid())
        .bind(assignment.user_id.as_uuid())
        .bind(assignment.created_at)
        .execute(&mut *tx)
        .await
        .map_err(duplicate_of("assignment", &assignment.user_id.to_string()))?;
        append_journal(&mut tx, journal, Some(assignment.tenant_id)).await?;
        commit(tx).await
    }

    async fn unassign(
        &self,
        tenant: TenantId,
        unit: OrgUnitId,
        user: UserId,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "DELETE FROM org_unit_assignments \
             WHERE tenant_id = $1 AND unit_id = $2 AND user_id = $3",
        )
        .bind(tenant.as_uuid())
        .bind(unit.as_uuid())
        .bind(user.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
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
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<AssignmentRow> = sqlx::query_as(
            "SELECT tenant_id, unit_id, user_id, created_at FROM org_unit_assignments \
             WHERE tenant_id = $1 AND unit_id = $2 AND ($3::uuid IS NULL OR user_id > $3) \
             ORDER BY user_id LIMIT $4",
        )
        .bind(tenant.as_uuid())
        .bind(unit.as_uuid())
        .bind(after)
        .bind(fetch_limit(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        commit(tx).await?;
        let items: Vec<Assignment> = rows.into_iter().map(Assignment::from).collect();
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
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<AssignmentRow> = sqlx::query_as(
            "SELECT tenant_id, unit_id, user_id, created_at FROM org_unit_assignments \
             WHERE tenant_id = $1 AND user_id = $2 ORDER BY unit_id",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        commit(tx).await?;
        Ok(rows.into_iter().map(Assignment::from).collect())
    }
}
