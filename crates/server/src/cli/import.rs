//! `tessera import users FILE --tenant T`: JSON Lines or CSV, in batches, with a progress
//! bar and a summary of what was imported, skipped and why.

use crate::compose;
use anyhow::{Context, anyhow};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use tessera_api_types::auth::ImportUser;
use tessera_application::{ImportItem, RequestContext};
use tessera_config::Settings;

const BATCH: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
}

/// Reads the file into (line number, parsed record or why it does not parse).
fn read(path: &Path, format: Format) -> anyhow::Result<Vec<(usize, Result<ImportUser, String>)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(match format {
        Format::Jsonl => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                (
                    i + 1,
                    serde_json::from_str::<ImportUser>(l)
                        .map_err(|e| format!("not a user record: {e}")),
                )
            })
            .collect(),
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(text.as_bytes());
            let headers = reader
                .headers()
                .context("the CSV file has no header line")?
                .clone();
            reader
                .records()
                .enumerate()
                .map(|(i, r)| {
                    let line = i + 2;
                    let parsed = r.map_err(|e| e.to_string()).and_then(|rec| {
                        let mut obj = serde_json::Map::new();
                        for (h, v) in headers.iter().zip(rec.iter()) {
                            if v.is_empty() {
                                continue;
                            }
                            let value = match h {
                                "email_verified" | "phone_verified" => serde_json::Value::Bool(
                                    matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes"),
                                ),
                                _ => serde_json::Value::String(v.to_owned()),
                            };
                            obj.insert(h.to_owned(), value);
                        }
                        serde_json::from_value::<ImportUser>(serde_json::Value::Object(obj))
                            .map_err(|e| format!("not a user record: {e}"))
                    });
                    (line, parsed)
                })
                .collect()
        }
    })
}

pub async fn users(
    settings: &Settings,
    tenant: &str,
    file: &Path,
    format: Option<Format>,
) -> anyhow::Result<ExitCode> {
    let format = match format {
        Some(f) => f,
        None => match file.extension().and_then(|e| e.to_str()) {
            Some("csv") => Format::Csv,
            Some("jsonl" | "ndjson" | "json") => Format::Jsonl,
            _ => {
                return Err(anyhow!(
                    "cannot tell the format of {} from its name: pass --format jsonl or --format csv",
                    file.display()
                ));
            }
        },
    };
    let records = read(file, format)?;
    let app = compose::build(settings).await?;
    let ctx = RequestContext::cli();
    let bar = ProgressBar::new(records.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} users ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut imported = 0;
    let mut with_password = 0;
    let mut skipped: Vec<(usize, String)> = Vec::new();
    for chunk in records.chunks(BATCH) {
        let mut items = Vec::new();
        for (line, parsed) in chunk {
            match parsed
                .clone()
                .and_then(|u| tessera_http_rest::import_item(*line, u))
            {
                Ok(item) => items.push(item),
                Err(reason) => skipped.push((*line, reason)),
            }
        }
        let report = app
            .import_users(&ctx, tenant, items as Vec<ImportItem>)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        imported += report.imported;
        with_password += report.with_password;
        skipped.extend(report.skipped.into_iter().map(|s| (s.index, s.reason)));
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    skipped.sort_by_key(|s| s.0);
    eprintln!(
        "imported {imported} users ({with_password} with a password hash) into `{tenant}`; skipped {}",
        skipped.len()
    );
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for (line, reason) in &skipped {
        eprintln!("  line {line}: {reason}");
        let kind = reason.split(':').next().unwrap_or(reason).to_owned();
        *reasons.entry(kind).or_default() += 1;
    }
    if !reasons.is_empty() {
        eprintln!("skipped by reason:");
        for (reason, n) in reasons {
            eprintln!("  {n:>6}  {reason}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
