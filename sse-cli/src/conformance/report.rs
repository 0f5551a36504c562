//! The reports every mode writes: `--json FILE` and `--html FILE`.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use serde_json::Value;

/// Writes `report` (an object with `passed`, `failed` and a `cases` or `checks`
/// list) as JSON and as a page, to the files given.
pub fn write_reports(report: &Value, json: Option<&Path>, html: Option<&Path>) -> io::Result<()> {
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(report).map_err(io::Error::other)?;
        std::fs::write(path, text)?;
    }
    if let Some(path) = html {
        std::fs::write(path, page(report))?;
    }
    Ok(())
}

/// The report as a page a person can read: the summary, then a row per case with
/// its verdict and, for each case, what was sent, expected and got.
fn page(report: &Value) -> String {
    let subject = ["command", "client", "url"]
        .iter()
        .find_map(|key| report.get(*key))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts
                .iter()
                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(" "),
            other => other.to_string(),
        })
        .unwrap_or_default();
    let count = |key: &str| report.get(key).and_then(Value::as_u64).unwrap_or(0);
    let mut summary = format!("{} passed, {} failed", count("passed"), count("failed"));
    if report.get("warned").is_some() {
        let _ = write!(summary, ", {} warned", count("warned"));
    }
    let rows = report
        .get("cases")
        .or_else(|| report.get("checks"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>sse conformance: {subject}</title>\n<style>{STYLE}</style>\n\
         <h1>sse conformance</h1>\n<p><code>{subject}</code></p>\n<p class=\"summary\">{summary}</p>\n\
         <table>\n<thead><tr><th>case</th><th>result</th><th>details</th></tr></thead>\n<tbody>\n",
        subject = escape(&subject),
        summary = escape(&summary),
    );
    for row in rows {
        let name = row.get("name").and_then(Value::as_str).unwrap_or("");
        let mode = row.get("mode").and_then(Value::as_str);
        let verdict = match (row.get("passed"), row.get("verdict")) {
            (Some(Value::Bool(true)), _) => "pass",
            (Some(Value::Bool(false)), _) => "fail",
            (_, Some(Value::String(v))) if v == "warn" => "warn",
            (_, Some(Value::String(v))) if v == "pass" => "pass",
            _ => "fail",
        };
        let _ = write!(
            html,
            "<tr class=\"{verdict}\"><td><code>{}</code>{}</td><td>{verdict}</td><td>",
            escape(name),
            mode.map(|m| format!(" <small>({})</small>", escape(m)))
                .unwrap_or_default(),
        );
        let Some(fields) = row.as_object() else {
            continue;
        };
        // The rule first, then what went wrong, then what was sent, expected and got.
        let order = [
            "spec", "detail", "failures", "problem", "input", "script", "requests", "expected",
            "got", "file",
        ];
        let mut keys: Vec<&String> = fields
            .keys()
            .filter(|k| !matches!(k.as_str(), "name" | "mode" | "passed" | "verdict"))
            .collect();
        keys.sort_by_key(|k| order.iter().position(|o| o == k).unwrap_or(order.len()));
        let mut details = String::new();
        for key in keys {
            let text = match &fields[key] {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                Value::Array(items) if items.is_empty() => match key.as_str() {
                    "expected" | "got" => "(no events)".to_string(),
                    _ => continue,
                },
                // One item per line: requests, failures, events.
                Value::Array(items) => items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map_or_else(|| item.to_string(), str::to_string)
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                other => other.to_string(),
            };
            let _ = write!(
                details,
                "<dt>{}</dt><dd><pre>{}</pre></dd>",
                escape(key),
                escape(&text)
            );
        }
        let details = format!("<dl>{details}</dl>");
        if verdict == "pass" {
            let _ = write!(
                html,
                "<details><summary>details</summary>{details}</details>"
            );
        } else {
            html.push_str(&details);
        }
        html.push_str("</td></tr>\n");
    }
    html.push_str("</tbody>\n</table>\n</html>\n");
    html
}

const STYLE: &str = "\
:root { color-scheme: light dark; font: 15px/1.45 system-ui, sans-serif; }
body { max-width: 80rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #8884; vertical-align: top; }
th { position: sticky; top: 0; background: Canvas; }
tr.pass td:nth-child(2) { color: #2a7d2a; }
tr.warn td:nth-child(2) { color: #b7791f; }
tr.fail td:nth-child(2) { color: #c0392b; font-weight: 600; }
.summary { font-weight: 600; }
details summary { cursor: pointer; color: GrayText; }
dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem; }
dt { color: GrayText; }
dd { margin: 0; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: 13px; }
";

/// Text made safe for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}
