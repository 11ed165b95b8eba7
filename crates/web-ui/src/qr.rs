//! QR codes for authenticator apps: an SVG (from the `qrcode` crate) in a `data:` URL, shown
//! as an `<img>` (the Content-Security-Policy allows `data:` images; an SVG inside an `<img>`
//! runs no script).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// `data:image/svg+xml;base64,…` of the QR code of `text` (`None` when it is too long for
/// one).
pub(crate) fn svg_data_uri(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        STANDARD.encode(image.as_bytes())
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_otpauth_uri_becomes_an_svg_image() {
        use base64::Engine;
        let uri = "otpauth://totp/Acme:ada%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme&algorithm=SHA1&digits=6&period=30";
        let data = super::svg_data_uri(uri).unwrap();
        let b64 = data.strip_prefix("data:image/svg+xml;base64,").unwrap();
        let svg = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap();
        assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
        assert!(!svg.contains("<script") && !svg.contains("style="));
        assert!(super::svg_data_uri(&"x".repeat(10_000)).is_none());
    }
}
