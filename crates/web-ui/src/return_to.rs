//! Where to go after signing in: only a path on this server.

/// `raw` when it is a relative path on this server: it starts with exactly one `/`, holds no
/// backslash, and only visible ASCII (no CR/LF, tab, space or control character: browsers
/// drop tabs and newlines, so `/\t/evil.example` would become `//evil.example`). Anything
/// else (absolute URLs, `//host`, `/\host`, `javascript:`...) gives `None`.
pub fn safe_return_to(raw: &str) -> Option<&str> {
    let ok = raw.len() <= 2048
        && raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.contains('\\')
        && raw.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn only_paths_on_this_server_are_accepted() {
        for good in ["/t/acme/account", "/", "/t/acme/account?x=1#top", "/a//b"] {
            assert_eq!(safe_return_to(good), Some(good), "{good}");
        }
        for bad in [
            "",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "http:/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/\t/evil.example",
            "/ok\r\nSet-Cookie: x=1",
            "/ok\nx",
            "/with space",
            "/caf\u{e9}",
            "/a\\b",
        ] {
            assert_eq!(safe_return_to(bad), None, "{bad:?}");
        }
        assert_eq!(safe_return_to(&format!("/{}", "a".repeat(3000))), None);
    }
}
