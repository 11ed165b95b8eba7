//! Bounds on the shape of a policy text, checked before Cedar sees it. Cedar's parser,
//! validator and evaluator recurse over the expression tree: a few hundred nested brackets
//! overflow a thread's stack (the process aborts), and past a few hundred chained accesses
//! the validator stops checking without saying so. Real policies are far below these bounds.

use crate::policy_error::PolicyError;

/// The deepest nesting of `(`, `[` and `{`.
pub const MAX_DEPTH: usize = 24;
/// The longest chain of attribute accesses (`a.b.c` is 2).
pub const MAX_CHAIN: usize = 16;
/// The most operator characters (`.`, `+`, `-`, `*`, `<`, `>`, `=`, `!`, `&`, `|`) in one
/// policy: this bounds the depth of its expression tree.
pub const MAX_OPERATORS: usize = 256;

/// Refuses a policy text whose expressions are too deep or too long to handle safely.
pub fn check_shape(text: &str) -> Result<(), PolicyError> {
    let mut depth = 0usize;
    let mut chain = 0usize;
    let mut operators = 0usize;
    let mut policy = 1usize;
    let mut ifs = 0usize;
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        // `if ... then ... else` nests like brackets do.
        if word == "if" {
            ifs += 1;
            if ifs > MAX_DEPTH {
                return Err(PolicyError::new(format!(
                    "policy {policy} nests more than {MAX_DEPTH} `if` expressions"
                )));
            }
        }
        word.clear();
        match c {
            // A string literal: skip it, escapes included.
            '"' => {
                while let Some(s) = chars.next() {
                    match s {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            // A comment runs to the end of the line.
            '/' if chars.peek() == Some(&'/') => {
                for s in chars.by_ref() {
                    if s == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                chain = 0;
                if depth > MAX_DEPTH {
                    return Err(PolicyError::new(format!(
                        "policy {policy} nests brackets more than {MAX_DEPTH} deep: split the condition"
                    )));
                }
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                chain = 0;
            }
            ';' => {
                policy += 1;
                operators = 0;
                chain = 0;
                ifs = 0;
            }
            '.' => {
                chain += 1;
                operators += 1;
                if chain > MAX_CHAIN {
                    return Err(PolicyError::new(format!(
                        "policy {policy} chains more than {MAX_CHAIN} attribute accesses"
                    )));
                }
            }
            '+' | '-' | '*' | '<' | '>' | '=' | '!' | '&' | '|' => {
                operators += 1;
                chain = 0;
            }
            ',' => chain = 0,
            _ => {}
        }
        if operators > MAX_OPERATORS {
            return Err(PolicyError::new(format!(
                "policy {policy} has more than {MAX_OPERATORS} operators: split it into several policies"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ordinary_policies_pass() {
        let text = r#"
            @id("no-large-refunds") // "(((" in a comment
            forbid (principal, action == Action::"orders:refund", resource)
            when { resource has amount && resource.amount > 1000 && context.hour >= 9 };
            permit (principal in Role::"cashier", action, resource in OrgUnit::"u")
            when { [1, 2, 3].contains(resource.amount) && "(((((((" like "*" };
        "#;
        check_shape(text).unwrap();
    }

    #[test]
    fn deep_long_and_chained_texts_are_refused() {
        let deep = format!(
            "permit(principal, action, resource) when {{ {}true{} }};",
            "(".repeat(40),
            ")".repeat(40)
        );
        assert!(check_shape(&deep).unwrap_err().message.contains("deep"));
        let chain = format!(
            "permit(principal, action, resource) when {{ context{} }};",
            ".a".repeat(40)
        );
        assert!(check_shape(&chain).unwrap_err().message.contains("chains"));
        let long = format!(
            "permit(principal, action, resource) when {{ 1{} == 2 }};",
            " + 1".repeat(400)
        );
        assert!(
            check_shape(&long)
                .unwrap_err()
                .message
                .contains("operators")
        );
        let ifs = format!(
            "permit(principal, action, resource) when {{ {}true{} }};",
            "if true then ".repeat(30),
            " else false".repeat(30)
        );
        assert!(check_shape(&ifs).unwrap_err().message.contains("`if`"));
        // The operator budget is per policy.
        let many = "permit(principal, action, resource) when { 1 + 1 + 1 == 3 };\n".repeat(200);
        check_shape(&many).unwrap();
    }
}
