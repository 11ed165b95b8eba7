//! Devices a user signed in from (found by the hash of the device cookie's secret, remembered
//! for a while after two factors, revoked one or all at a time) and the networks they signed
//! in from.

use crate::audit::append_journal;
use crate::codec::{from_micros, id, micros, opt_from_micros, opt_micros};
use crate::error::{duplicate_of, store_error};
use crate::pool::{SqliteStore, commit};
use async_trait::async_trait;
use tessera_domain::mfa::Device;
use tessera_domain::ports::{DeviceStore, Journal, StoreError};
use tessera_domain::{DeviceId, TenantId, UserId};
use time::OffsetDateTime;

const DEVICE_COLUMNS: &str = "tenant_id, id, user_id, secret_hash, description, created_at, \
    last_seen_at, remember_until, revoked_at";

#[derive(sqlx::FromRow)]
struct DeviceRow {
    tenant_id: String,
    id: String,
    user_id: String,
    secret_hash: String,
    description: Option<String>,
    created_at: i64,
    last_seen_at: i64,
    remember_until: Option<i64>,
    revoked_at: Option<i64>,
}

impl DeviceRow {
    fn into_device(self) -> Result<Device, StoreError> {
        Ok(Device {
            id: id(&self.id)?,
            tenant_id: id(&self.tenant_id)?,
            user_id: id(&self.user_id)?,
            secret_hash: self.secret_hash,
            description: self.description,
            created_at: from_micros(self.created_at)?,
            last_seen_at: from_micros(self.last_seen_at)?,
            remember_until: opt_from_micros(self.remember_until)?,
            revoked_at: opt_from_micros(self.revoked_at)?,
        })
    }
}

#[async_trait]
impl DeviceStore for SqliteStore {
    /// A secret hash already used in the tenant is `Duplicate { field: "secret_hash" }`; a
    /// user that does not exist is `NotFound`.
    async fn insert_device(&self, device: &Device) -> Result<(), StoreError> {
        let sql =
            format!("INSERT INTO devices ({DEVICE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        sqlx::query(&sql)
            .bind(device.tenant_id.to_string())
            .bind(device.id.to_string())
            .bind(device.user_id.to_string())
            .bind(&device.secret_hash)
            .bind(device.description.as_deref())
            .bind(micros(device.created_at)?)
            .bind(micros(device.last_seen_at)?)
            .bind(opt_micros(device.remember_until)?)
            .bind(opt_micros(device.revoked_at)?)
            .execute(self.pool())
            .await
            .map_err(duplicate_of("secret_hash", &device.secret_hash))?;
        Ok(())
    }

    async fn device_by_hash(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<Device>, StoreError> {
        let sql =
            format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = ? AND secret_hash = ?");
        let row: Option<DeviceRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(secret_hash)
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(DeviceRow::into_device).transpose()
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
        let done = sqlx::query(
            "UPDATE devices SET last_seen_at = max(last_seen_at, ?), \
             remember_until = coalesce(?, remember_until) WHERE tenant_id = ? AND id = ?",
        )
        .bind(micros(at)?)
        .bind(opt_micros(remember_until)?)
        .bind(tenant.to_string())
        .bind(id.to_string())
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn devices(&self, tenant: TenantId, user: UserId) -> Result<Vec<Device>, StoreError> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM devices \
             WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL \
             ORDER BY last_seen_at DESC, id DESC"
        );
        let rows: Vec<DeviceRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(user.to_string())
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        rows.into_iter().map(DeviceRow::into_device).collect()
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
        let filter = if which.is_some() { " AND id = ?" } else { "" };
        let sql = format!(
            "UPDATE devices SET revoked_at = ? \
             WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL{filter}"
        );
        let mut tx = self.write().await?;
        let mut query = sqlx::query(&sql)
            .bind(micros(at)?)
            .bind(tenant.to_string())
            .bind(user.to_string());
        if let Some(device) = which {
            query = query.bind(device.to_string());
        }
        let done = query.execute(&mut *tx).await.map_err(store_error)?;
        if done.rows_affected() == 0 && which.is_some() {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await?;
        Ok(done.rows_affected())
    }

    /// The first record of a prefix wins the insert; later ones move `last_seen_at` on. A
    /// user that does not exist is `NotFound`.
    async fn record_network(
        &self,
        tenant: TenantId,
        user: UserId,
        prefix: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (tenant, user, at) = (tenant.to_string(), user.to_string(), micros(at)?);
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO known_networks (tenant_id, user_id, prefix, first_seen_at, last_seen_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(&tenant)
        .bind(&user)
        .bind(prefix)
        .bind(at)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?
        .rows_affected()
            == 1;
        if !inserted {
            sqlx::query(
                "UPDATE known_networks SET last_seen_at = max(last_seen_at, ?) \
                 WHERE tenant_id = ? AND user_id = ? AND prefix = ?",
            )
            .bind(at)
            .bind(&tenant)
            .bind(&user)
            .bind(prefix)
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
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM known_networks WHERE tenant_id = ? AND user_id = ? AND prefix = ?",
        )
        .bind(tenant.to_string())
        .bind(user.to_string())
        .bind(prefix)
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        Ok(found.is_some())
    }
}
