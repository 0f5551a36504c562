//! A reconnecting client on smol: prints the events of a stream until the server
//! stops it (a 204, say) or Ctrl-C.
//!
//! ```sh
//! cargo run -p sse-async-std --example clock &          # a stream to listen to
//! cargo run -p sse-async-std --example listen -- http://127.0.0.1:8080/
//! ```

use smol::stream::StreamExt;
use sse_async_std::{EventSource, SourceEvent};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8080/".into());
    smol::block_on(async {
        let mut source = EventSource::new(&url)?;
        while let Some(event) = source.try_next().await? {
            match event {
                SourceEvent::Open(_) => eprintln!("connected to {url}"),
                SourceEvent::Message(event) => {
                    println!(
                        "{} (id {:?}): {}",
                        event.event_type(),
                        event.last_event_id(),
                        event.data()
                    )
                }
                SourceEvent::Reconnecting(why) => eprintln!("{why}"),
                SourceEvent::Skipped(why) => eprintln!("{why}"),
                _ => {}
            }
        }
        Ok(())
    })
}
