//! The NDJSON lines `sse` reads and writes, with the key order and spacing the
//! documentation promises (`{"type": "message", "data": "...", ...}`).

use std::fmt::Write as _;

/// Builds one JSON object with `", "` and `": "` separators.
pub struct Line(String);

impl Line {
    pub fn new() -> Self {
        Line(String::from("{"))
    }

    fn key(&mut self, key: &str) {
        if self.0.len() > 1 {
            self.0.push_str(", ");
        }
        self.string_value(key);
        self.0.push_str(": ");
    }

    fn string_value(&mut self, s: &str) {
        // serde_json's escaping of a string never fails.
        self.0
            .push_str(&serde_json::to_string(s).unwrap_or_default());
    }

    pub fn string(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        self.string_value(value);
        self
    }

    pub fn number_or_null(mut self, key: &str, value: Option<u64>) -> Self {
        self.key(key);
        match value {
            Some(n) => {
                let _ = write!(self.0, "{n}");
            }
            None => self.0.push_str("null"),
        }
        self
    }

    pub fn bool(mut self, key: &str, value: bool) -> Self {
        self.key(key);
        self.0.push_str(if value { "true" } else { "false" });
        self
    }

    /// The finished line, with its newline.
    pub fn finish(mut self) -> String {
        self.0.push_str("}\n");
        self.0
    }
}
