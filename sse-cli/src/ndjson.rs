//! The NDJSON lines `sse` reads and writes, with the key order and spacing the
//! documentation promises (`{"type": "message", "data": "...", ...}`): [`Line`]
//! writes them (`sse decode`, `sse listen`), [`Input`] reads them (`sse encode`,
//! `sse serve`), so that every command speaks the same format.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::time::Duration;

use serde::Deserialize;
use sse_proto::Message;

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

    /// A reconnection time, in whole milliseconds, or null.
    pub fn millis_or_null(mut self, key: &str, value: Option<std::time::Duration>) -> Self {
        self.key(key);
        match value {
            Some(time) => {
                let _ = write!(self.0, "{}", time.as_millis());
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

/// One line as `sse decode` writes it, read back. Strings borrow from the line unless
/// they had escapes. What the keys mean is each reader's business (see `sse encode
/// --help`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a JSON object")]
pub struct Input<'a> {
    /// `type`: the event type.
    #[serde(rename = "type", borrow)]
    pub event: Option<Cow<'a, str>>,
    /// `data`.
    #[serde(borrow)]
    pub data: Option<Cow<'a, str>>,
    /// `id`: the last event ID after this line.
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    /// `retry`, in milliseconds.
    pub retry: Option<u64>,
    /// `comment`.
    #[serde(borrow)]
    pub comment: Option<Cow<'a, str>>,
    /// `final`: decode's last line.
    #[serde(rename = "final")]
    pub is_final: Option<bool>,
    /// `last_event_id`, on a final line.
    #[serde(borrow)]
    pub last_event_id: Option<Cow<'a, str>>,
    /// `topic`: which of `sse serve`'s topics the event goes to.
    #[serde(borrow)]
    pub topic: Option<Cow<'a, str>>,
}

impl<'a> Input<'a> {
    /// Reads one line (its line end may still be on it); `None` for a blank line.
    pub fn parse(text: &'a [u8]) -> Result<Option<Self>, InputError> {
        // Without its line end, so that error positions are on the line.
        let text = text.trim_ascii_end();
        match text.trim_ascii_start().first() {
            None => Ok(None),
            // serde would also take an array, as the fields in order.
            Some(b'{') => serde_json::from_slice(text)
                .map(Some)
                .map_err(InputError::Json),
            Some(_) => Err(InputError::NotAnObject),
        }
    }

    /// The event this line describes, with the `id` and `retry` the reader decided
    /// to send (decode writes the last event ID on every line, so only a reader that
    /// tracks it knows whether the block set it). A `message` type is the default
    /// and is left out.
    pub fn message(&self, id: Option<&'a str>, retry: Option<u64>) -> Message<&str> {
        let mut message = Message::new(self.data.as_deref().unwrap_or(""));
        message.event = self
            .event
            .as_deref()
            .filter(|&t| !t.is_empty() && t != "message");
        message.id = id;
        message.retry = retry.map(Duration::from_millis);
        message.comment = self.comment.as_deref();
        message
    }
}

/// Why a line is not an [`Input`].
#[derive(Debug)]
pub enum InputError {
    /// The line is not a JSON object.
    NotAnObject,
    /// Not JSON, or not an object with the right keys and types.
    Json(serde_json::Error),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Json(e) => {
                // The position serde_json appends is always "line 1" here: each line
                // is parsed alone. Say the column only.
                let message = e.to_string();
                let position = format!(" at line {} column {}", e.line(), e.column());
                match message.strip_suffix(&position) {
                    Some(message) => write!(f, "column {}: {message}", e.column()),
                    None => f.write_str(&message),
                }
            }
            InputError::NotAnObject => f.write_str("expected a JSON object"),
        }
    }
}

impl std::error::Error for InputError {}
