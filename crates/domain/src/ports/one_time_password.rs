/// RFC 6238 time-based one-time passwords: HMAC-SHA1, 6 digits, 30-second steps (what every
/// authenticator app supports).
pub trait Totp: Send + Sync {
    /// Length of a step in seconds.
    fn step_secs(&self) -> u64 {
        30
    }
    /// The code of `secret` for time step `step` (Unix time / step length).
    fn code(&self, secret: &[u8], step: u64) -> String;
    /// The `otpauth://totp/...` URI an authenticator app imports (as a QR code).
    fn provisioning_uri(&self, secret: &[u8], issuer: &str, account: &str) -> String;
}
