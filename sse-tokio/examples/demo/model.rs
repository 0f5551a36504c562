//! A stand-in for a language model: an answer to any prompt, in tokens, always
//! the same for the same prompt, so that a client that lost its connection can ask
//! for the rest of it from where it left off.

/// The answer to `prompt`, as the tokens a model would stream (words with their
/// leading space, and punctuation on its own).
pub fn answer(prompt: &str) -> Vec<String> {
    let topic = prompt.trim();
    let topic = if topic.is_empty() {
        "your question"
    } else {
        topic
    };
    let text = format!(
        "You asked about \"{topic}\". Here is how this answer reached you: the \
         browser POSTed your prompt as JSON, and the server answered with a \
         text/event-stream response, one event per token, each with an ID. If the \
         connection drops, the page asks again with Last-Event-ID and the server \
         continues from the next token, so nothing is lost or repeated. When the \
         answer is complete, a final event says so, and the page does not ask again. \
         That is the pattern the large language model APIs use, on plain HTTP."
    );
    let mut tokens = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        let breaks = c == ' ' || c.is_ascii_punctuation();
        if breaks && !current.trim().is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
        current.push(c);
        if c.is_ascii_punctuation() && c != '-' && c != '/' {
            tokens.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}
