//! Latency statistics and the output: small tables for people, one JSON document with
//! `--json` (progress always goes to stderr, so stdout stays machine-readable).

use serde_json::{Map, Value, json};

/// Latency figures of a series of timed operations, in milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Latency {
    pub count: usize,
    pub mean: f64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    /// Summarises samples given in nanoseconds (sorts them in place).
    pub fn of(samples: &mut [u64]) -> Self {
        samples.sort_unstable();
        let count = samples.len();
        if count == 0 {
            return Self {
                count,
                mean: 0.0,
                p50: 0.0,
                p99: 0.0,
                max: 0.0,
            };
        }
        let ms = |ns: u64| ns as f64 / 1e6;
        let sum: u128 = samples.iter().map(|&s| u128::from(s)).sum();
        Self {
            count,
            mean: sum as f64 / count as f64 / 1e6,
            p50: ms(percentile(samples, 0.50)),
            p99: ms(percentile(samples, 0.99)),
            max: ms(samples[count - 1]),
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "count": self.count,
            "mean_ms": round(self.mean),
            "p50_ms": round(self.p50),
            "p99_ms": round(self.p99),
            "max_ms": round(self.max),
        })
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Three significant decimals are plenty for milliseconds.
pub fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Milliseconds for a table cell.
pub fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

/// Where the figures go.
pub struct Report {
    json: bool,
    doc: Map<String, Value>,
}

impl Report {
    pub fn new(json: bool, benchmark: &str) -> Self {
        let mut doc = Map::new();
        doc.insert("benchmark".to_owned(), json!(benchmark));
        doc.insert(
            "cpus".to_owned(),
            json!(std::thread::available_parallelism().map_or(0, usize::from)),
        );
        Self { json, doc }
    }

    /// A value for the JSON document, not printed.
    pub fn record(&mut self, key: &str, value: Value) {
        self.doc.insert(key.to_owned(), value);
    }

    /// A line for people (and the JSON document under `key`).
    pub fn note(&mut self, key: &str, text: String) {
        if !self.json {
            println!("{text}");
        }
        self.doc.insert(key.to_owned(), json!(text.trim()));
    }

    /// A table for people; `data` goes into the JSON document under `key`.
    pub fn table(
        &mut self,
        key: &str,
        title: &str,
        header: &[&str],
        rows: &[Vec<String>],
        data: Value,
    ) {
        self.doc.insert(key.to_owned(), data);
        if self.json {
            return;
        }
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        println!("\n{title}");
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let w = widths.get(i).copied().unwrap_or(0);
                    let numeric = c
                        .trim_start_matches(['-', '+'])
                        .starts_with(|ch: char| ch.is_ascii_digit());
                    if i == 0 || !numeric {
                        format!("{c:<w$}")
                    } else {
                        format!("{c:>w$}")
                    }
                })
                .collect();
            println!("  {}", padded.join("  ").trim_end());
        };
        line(header.to_vec());
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(rule.iter().map(String::as_str).collect());
        for row in rows {
            line(row.iter().map(String::as_str).collect());
        }
    }

    /// Prints the JSON document (with `--json`).
    pub fn finish(self) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&Value::Object(self.doc)).unwrap_or_default()
            );
        }
    }
}

/// Progress for people, on stderr.
pub fn progress(text: &str) {
    eprintln!("[tessera-bench] {text}");
}
