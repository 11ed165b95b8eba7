//! Confirmations shown after a redirect (Post/Redirect/Get): the redirect names one of these
//! fixed keys in `?notice=`, never free text.

/// The message for a `notice` key (unknown keys show nothing).
pub(crate) fn message(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "registered" => "Your account was created. You can sign in now.",
        "code_sent" => {
            "We sent a code to the email address or phone number you gave, if it can receive one. It is valid for a few minutes."
        }
        "resent" => "If this address is waiting for verification, a new code is on its way.",
        "verified" => "Thank you: your account is verified. You can sign in now.",
        "recovery_sent" => {
            "If an account has this verified email address or phone number, we sent it a code."
        }
        "password_reset" => "Your password was changed. Sign in with your new password.",
        "signed_out" => "You are signed out.",
        "signed_out_everywhere" => "You are signed out on every device.",
        "password_changed" => "Your password was changed.",
        "session_ended" => "The session was ended.",
        "sessions_ended" => "Your other sessions were ended.",
        "identifier_code_sent" => "We sent a code. Enter it below to link the new identifier.",
        "identifier_verified" => "The identifier is verified and linked to your account.",
        "identifier_removed" => "The identifier was removed.",
        "signed_in_elsewhere" => "Your session has ended. Sign in again.",
        "sign_in_expired" => "Your sign-in was not finished in time. Sign in again.",
        "sign_in_code_sent" => {
            "If an account has this verified email address or phone number, we sent it a code. It is valid for a few minutes."
        }
        "totp_enabled" => "Your authenticator app is set up.",
        "totp_removed" => "Your authenticator app was removed.",
        "passkey_added" => "Your passkey was added.",
        "passkey_renamed" => "The passkey was renamed.",
        "passkey_removed" => "The passkey was removed.",
        "device_forgotten" => "The device was forgotten: the second step is asked there again.",
        "devices_forgotten" => {
            "All your devices were forgotten: the second step is asked everywhere again."
        }
        _ => return None,
    })
}
