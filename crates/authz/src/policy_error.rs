//! A policy set or schema Tessera cannot use, explained readably: every Cedar message with the
//! policy it concerns and its line and column in the submitted text.

use miette::Diagnostic;
use std::fmt::Write as _;

/// The policy text does not parse, does not validate against the tenant's schema, or the
/// schema itself cannot be built. `message` joins every Cedar message, one per line, each
/// with its policy id and position (`line 3, column 10`) when Cedar gives them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    pub message: String,
}

impl PolicyError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// Joins one line per diagnostic under a heading.
    pub(crate) fn from_lines(heading: &str, lines: Vec<String>) -> Self {
        let mut message = heading.to_owned();
        for line in lines {
            message.push_str("\n- ");
            message.push_str(&line);
        }
        Self { message }
    }
}

/// 1-based line and column of a byte offset in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// One diagnostic as a line: `[policy `id`, ]line L, column C: message (label). help`.
pub(crate) fn describe(
    diagnostic: &(dyn Diagnostic + '_),
    policy: Option<&str>,
    text: &str,
) -> String {
    let mut out = String::new();
    if let Some(id) = policy {
        let _ = write!(out, "policy `{id}`");
    }
    let mut labels: Vec<(usize, Option<String>)> = diagnostic
        .labels()
        .map(|labels| {
            labels
                .map(|l| (l.offset(), l.label().map(str::to_owned)))
                .collect()
        })
        .unwrap_or_default();
    labels.sort_by_key(|(offset, _)| *offset);
    if let Some((offset, _)) = labels.first() {
        let (line, column) = line_column(text, *offset);
        if !out.is_empty() {
            out.push_str(", ");
        }
        let _ = write!(out, "line {line}, column {column}");
    }
    if !out.is_empty() {
        out.push_str(": ");
    }
    let _ = write!(out, "{diagnostic}");
    let notes: Vec<String> = labels.into_iter().filter_map(|(_, l)| l).collect();
    if !notes.is_empty() {
        let _ = write!(out, " ({})", notes.join("; "));
    }
    if let Some(help) = diagnostic.help() {
        let _ = write!(out, ". Help: {help}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 1), (1, 2));
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 7), (2, 4));
        assert_eq!(line_column(text, 8), (3, 1));
        assert_eq!(line_column(text, 999), (3, 2));
    }
}
