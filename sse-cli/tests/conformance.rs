//! `sse conformance parser -- CMD` judges programs: `sse decode` passes every
//! vector, and programs that break one rule each are caught by the cases for that
//! rule. The broken programs are `sse decode` behind a shell filter that breaks it.

use std::process::Command;

const SSE: &str = env!("CARGO_BIN_EXE_sse");

/// Runs `sse conformance parser ARGS -- CMD...`: stdout's lines and the exit code.
fn judge(args: &[&str], command: &[&str]) -> (Vec<String>, i32) {
    let output = Command::new(SSE)
        .args(["conformance", "parser"])
        .args(args)
        .arg("--")
        .args(command)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    (
        stdout.lines().map(str::to_string).collect(),
        output.status.code().unwrap(),
    )
}

/// The names of the failed cases.
fn failed(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .filter_map(|line| line.strip_prefix("FAIL ")?.split(' ').next())
        .collect()
}

/// `sse decode` behind a shell pipeline: `before | sse decode`.
fn decode_after(before: &str) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        format!("{before} | \"$0\" decode"),
        SSE.into(),
    ]
}

#[test]
fn sse_decode_passes_every_case() {
    let (lines, code) = judge(&[], &[SSE, "decode"]);
    let summary = lines.last().unwrap();
    assert_eq!(code, 0, "{lines:?}");
    let passed: usize = summary.split(' ').next().unwrap().parse().unwrap();
    assert!(passed > 500, "{summary}");
    assert!(summary.ends_with(" passed, 0 failed"), "{summary}");
}

#[test]
fn a_parser_that_counts_crlf_twice_is_caught() {
    let command = decode_after("tr '\\r' '\\n'");
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let (lines, code) = judge(&[], &command);
    assert_eq!(code, 1);
    let names = failed(&lines);
    assert!(names.iter().any(|n| n.contains("crlf")), "{names:?}");
    assert!(
        lines
            .last()
            .unwrap()
            .ends_with(&format!("{} failed", names.len()))
    );
}

#[test]
fn a_parser_that_keeps_a_partial_event_is_caught() {
    let command = decode_after("(cat; printf '\\n\\n')");
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let (lines, code) = judge(&["--only", "unterminated"], &command);
    assert_eq!(code, 1);
    let names = failed(&lines);
    assert!(!names.is_empty() && names.iter().all(|n| n.contains("unterminated")));
}

#[test]
fn output_that_is_not_json_is_reported_and_a_json_report_written() {
    let report = std::env::temp_dir().join(format!("sse-conformance-{}.json", std::process::id()));
    let (lines, code) = judge(
        &["--only", "bom", "--json", report.to_str().unwrap()],
        &["sh", "-c", "cat"],
    );
    assert_eq!(code, 1);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("problem:  not a JSON object"))
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    std::fs::remove_file(&report).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    assert!(
        cases
            .iter()
            .all(|c| c["name"].as_str().unwrap().contains("bom"))
    );
    assert_eq!(
        json["passed"].as_u64().unwrap() + json["failed"].as_u64().unwrap(),
        cases.len() as u64
    );
}

#[test]
fn a_program_that_cannot_run_exits_2() {
    let (_, code) = judge(&[], &["/nonexistent/decoder"]);
    assert_eq!(code, 2);
}
