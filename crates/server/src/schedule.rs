//! Background work of `tessera serve`: scheduled signing-key rotation and the removal of
//! expired ceremony challenges.

use std::time::Duration;
use tessera_application::App;
use tessera_config::Settings;
use tokio::task::JoinHandle;

/// Every `auth.key_rotation_check_secs`, rotates the keys that are due (each node checks; a
/// concurrent rotation by another node is detected and skipped).
pub fn start_key_rotation(app: App, settings: &Settings) -> Option<JoinHandle<()>> {
    let every = settings.auth.key_rotation_check_secs;
    if every == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match app.rotate_due_keys().await {
                Ok(rotated) if !rotated.is_empty() => {
                    tracing::info!(tenants = ?rotated, "scheduled signing-key rotation");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "scheduled signing-key rotation failed"),
            }
        }
    }))
}

/// Every ten minutes, deletes WebAuthn and sign-in-link challenges that expired more than an
/// hour ago (a used or expired challenge is refused anyway; this only bounds the table).
pub fn start_challenge_pruning(app: App) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match app.prune_challenges().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "expired challenges removed"),
                Err(e) => tracing::warn!(error = %e, "removing expired challenges failed"),
            }
        }
    })
}
