//! Devices a user signed in from (found by the hash of the device cookie's secret, remembered
//! for a while after two factors, revoked one or all at a time) and the networks they signed
//! in from.

use crate::audit::append_journal;
use crate::error::{duplicate_of, store_error};
use crate::pool::{PostgresStore, commit};
use async_trait::async_trait;
use tessera_domain::mfa::Device;
use tessera_domain::ports::{DeviceStore, Journal, StoreError};
use tessera_domain::{DeviceId, TenantId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

const DEVICE_COLUMNS: &str = "tenant_id, id, user_id, secret_hash, description, created_at, \
    last_seen_at, remember_until, revoked_at";

#[derive(sqlx::FromRow)]
struct DeviceRow {
    tenant_id: Uuid,
    id: Uuid,
    user_id: Uuid,
    secret_hash: String,
    description: Option<String>,
    created_at: OffsetDateTime,
    last_seen_at: OffsetDateTime,
    remember_until: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
}

impl From<DeviceRow> for Device {
    fn from(row: DeviceRow) -> Self {
        Device {
            id: DeviceId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            user_id: UserId::from_uuid(row.user_id),
            secret_hash: row.secret_hash,
            description: row.description,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            remember_until: row.remember_until,
            revoked_at: row.revoked_at,
        }
    }
}

#[async_trait]
impl DeviceStore for PostgresStore {
    /// A secret hash already used in the tenant is `Duplicate { field: "secret_hash" }`; a
    /// user that does not exist is `NotFound`.
    async fn insert_device(&self, device: &Device) -> Result<(), StoreError> {
        let tenant = device.tenant_id;
        let sql = format!(
            "INSERT INTO devices ({DEVICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(device.id.as_uuid())
            .bind(device.user_id.as_uuid())
            .bind(&device.secret_hash)
            .bind(device.description.as_deref())
            .bind(device.created_at)
            .bind(device.last_seen_at)
            .bind(device.remember_until)
            .bind(device.revoked_at)
            .execute(&mut *tx)
            .await
            .map_err(duplicate_of("secret_hash", &device.secret_hash))?;
        commit(tx).await
    }

    async fn device_by_hash(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<Device>, StoreError> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = $1 AND secret_hash = $2"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<DeviceRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(secret_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        Ok(row.map(Device::from))
    }

    /// `NotFound` if the device does not exist in the tenant. `last_seen_at` never moves
    /// back.
    async fn touch_device(
        &self,
        tenant: TenantId,
        id: DeviceId,
        at: OffsetDateTime,
        remember_until: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "UPDATE devices SET last_seen_at = GREATEST(last_seen_at, $3), \
             remember_until = COALESCE($4, remember_until) WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(at)
        .bind(remember_until)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        commit(tx).await
    }

    async fn devices(&self, tenant: TenantId, user: UserId) -> Result<Vec<Device>, StoreError> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM devices \
             WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL \
             ORDER BY last_seen_at DESC, id DESC"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<DeviceRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .fetch_all(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        Ok(rows.into_iter().map(Device::from).collect())
    }

    /// Revoked at `at`; devices revoked before keep their instant. `None` with nothing left to
    /// revoke is not an error (0, journaled all the same).
    async fn revoke_devices(
        &self,
        tenant: TenantId,
        user: UserId,
        which: Option<DeviceId>,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<u64, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "UPDATE devices SET revoked_at = $3 \
             WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL \
             AND ($4::uuid IS NULL OR id = $4)",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(at)
        .bind(which.map(DeviceId::into_uuid))
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 && which.is_some() {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await?;
        Ok(done.rows_affected())
    }

    /// The first record of a prefix inserts the row (`ON CONFLICT DO NOTHING`), later ones
    /// move `last_seen_at` on. Concurrent first records queue on the primary key: exactly one
    /// of them inserts. A user that does not exist is `NotFound`.
    async fn record_network(
        &self,
        tenant: TenantId,
        user: UserId,
        prefix: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let inserted = sqlx::query(
            "INSERT INTO known_networks (tenant_id, user_id, prefix, first_seen_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(prefix)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?
        .rows_affected()
            == 1;
        if !inserted {
            sqlx::query(
                "UPDATE known_networks SET last_seen_at = GREATEST(last_seen_at, $4) \
                 WHERE tenant_id = $1 AND user_id = $2 AND prefix = $3",
            )
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .bind(prefix)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        commit(tx).await?;
        Ok(inserted)
    }

    async fn network_known(
        &self,
        tenant: TenantId,
        user: UserId,
        prefix: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM known_networks WHERE tenant_id = $1 AND user_id = $2 AND prefix = $3",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(prefix)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        commit(tx).await?;
        Ok(found.is_some())
    }
}
