//! Recognised devices and networks: every full sign-in records the network it came from and
//! the device (a long-lived device cookie); a device can be remembered after a second factor
//! so that the factor is skipped there; users list and forget their devices and are told by
//! email about a sign-in from a device not seen before.

use super::secrets::sha256_hex;
use super::sessions::SignedIn;
use super::signin::Signals;
use crate::app::App;
use crate::error::{Error, store_err};
use tessera_domain::DeviceId;
use tessera_domain::audit::{FieldChange, Origin};
use tessera_domain::mfa::Device;
use tessera_domain::ports::{Journal, MessageKind};
use tessera_domain::tenant::Tenant;
use tessera_domain::user::User;
use time::Duration;

impl App {
    /// Device and network bookkeeping after a full sign-in. Returns the secret of a new
    /// device cookie when the device was not recognised.
    pub(crate) async fn after_full_sign_in(
        &self,
        tenant: &Tenant,
        user: &User,
        signals: &Signals,
        remember: bool,
    ) -> Result<Option<String>, Error> {
        let now = self.now();
        let days = tenant.settings.auth.mfa.remember_device_days;
        let remember_until = (remember && days > 0).then(|| now + Duration::days(i64::from(days)));
        if let Some(prefix) = &signals.network {
            self.store()
                .record_network(tenant.id, user.id, prefix, now)
                .await
                .map_err(store_err("network"))?;
        }
        if let Some(device) = &signals.device {
            self.store()
                .touch_device(tenant.id, device.id, now, remember_until)
                .await
                .map_err(store_err("device"))?;
            return Ok(None);
        }
        let had_devices = !self
            .store()
            .devices(tenant.id, user.id)
            .await
            .map_err(store_err("device"))?
            .is_empty();
        let secret = self.new_secret(32);
        let device = Device {
            id: DeviceId::from_uuid(self.ports.random.new_id()),
            tenant_id: tenant.id,
            user_id: user.id,
            secret_hash: sha256_hex(&secret),
            description: signals.description.clone(),
            created_at: now,
            last_seen_at: now,
            remember_until,
            revoked_at: None,
        };
        self.store()
            .insert_device(&device)
            .await
            .map_err(store_err("device"))?;
        if had_devices && tenant.settings.auth.mfa.notify_new_device {
            self.notify_user(tenant, user, MessageKind::NewDeviceSignIn)
                .await;
        }
        Ok(Some(secret))
    }

    /// The user's recognised devices (remembered or not), most recent first.
    pub async fn my_devices(&self, me: &SignedIn) -> Result<Vec<Device>, Error> {
        self.store()
            .devices(me.tenant.id, me.user.id)
            .await
            .map_err(store_err("device"))
    }

    /// Forgets one device (`Some`) or all: the second factor is asked there again and a
    /// sign-in from it counts as a new device.
    pub async fn forget_my_devices(
        &self,
        me: &SignedIn,
        origin: Origin,
        which: Option<DeviceId>,
    ) -> Result<u64, Error> {
        let ctx = me.context(origin);
        let journal = Journal::one(self.draft(
            &ctx,
            &me.tenant,
            "auth.device_forgotten",
            ("user", me.user.id.to_string()),
            vec![FieldChange {
                field: "device".into(),
                before: serde_json::Value::Null,
                after: which.map_or_else(|| "all".into(), |id| id.to_string().into()),
            }],
        ));
        self.store()
            .revoke_devices(me.tenant.id, me.user.id, which, self.now(), &journal)
            .await
            .map_err(store_err("device"))
    }
}
