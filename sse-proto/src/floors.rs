//! Not API (the `bench-floors` feature, for the workspace's benchmarks): the
//! least that an owned reader on this parser does, as contenders that set the
//! floors the benchmark targets are judged against.
//!
//! Each reader makes owned events out of `Bytes` chunks the cheapest way that is
//! still correct, with the crate's own pieces: a chunk's text checked as UTF-8 once
//! and shared by reference count, each field found by its address in the chunk, an
//! event that the parser assembled split off the parser's buffer with its type and
//! ID (and checked as UTF-8 once more, as every owned event's text must be). What
//! they leave out is what [`OwnedParser`](crate::OwnedParser) does besides: no last
//! event ID held and shared, no lookups of a chunk's text, no limit on a batch, no
//! other items handed out. A target above what these readers reach is out of reach
//! for owned events made on this parser.
//!
//! Each returns the events it read and the bytes of their data.

use core::ops::Range;

use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

use crate::owned::assembled;
use crate::owned_event::{Part, from_split};
use crate::shared::offset;
use crate::{Event, Item, OwnedEvent, OwnedItem, Parser};

/// Owned events one at a time: each handed out as an [`OwnedItem`] through a call
/// of its own, its data read and the event dropped, as a reader of a stream of
/// them does.
///
/// A chunk's text is checked from its first event that lies in it on, when that
/// event comes (as [`Sharer`](crate::Sharer) checks it: the end of an event that a
/// chunk's start cuts is checked as part of that event).
pub fn owned_events(chunks: &[Bytes]) -> (usize, usize) {
    let mut parser = Parser::new().into_bytes_mut();
    let (mut events, mut bytes) = (0, 0);
    for chunk in chunks {
        let chunk = chunk.clone();
        let mut text = Text::default();
        let mut input = &chunk[..];
        loop {
            let event = match parser.parse(&mut input) {
                Ok(Some(Item::Event(event))) if assembled(&event, &chunk.as_ptr_range()) => {
                    let plan = plan(&chunk, &event);
                    split(&mut parser, &chunk, plan)
                }
                Ok(Some(Item::Event(event))) => match text.fields(&chunk, &event) {
                    [Some(data), Some(event_type), id] => {
                        // The ID of an earlier event: a copy of its own here, where
                        // a reader would share it.
                        let id = id.map_or_else(
                            || Part::own(&event.last_event_id().to_string_lossy()),
                            Part::at,
                        );
                        let text = text.text.clone();
                        OwnedEvent::in_text(text, data, Part::at(event_type), id)
                    }
                    _ => event.into_owned(),
                },
                Ok(Some(_)) | Err(_) => continue,
                Ok(None) => break,
            };
            if let OwnedItem::Event(event) = hand_out(event) {
                events += 1;
                bytes += event.data().len();
            }
        }
    }
    (events, bytes)
}

/// Owned events a chunk at a time, as an [`EventBatch`](crate::EventBatch) holds
/// them: the chunk's text checked (as [`owned_events`] checks it) and held once,
/// where each event's fields are in it (an entry of 32 bytes per event, pushed on
/// a list used again from chunk to chunk), the events not in it (a chunk's start
/// cuts one) held by themselves; the batch is read by reference when the chunk is
/// used up.
pub fn batches(chunks: &[Bytes]) -> (usize, usize) {
    let mut parser = Parser::new().into_bytes_mut();
    // Room for the data of many events, which a batch holds together.
    parser.reserve_data_room(crate::owned::BATCH_DATA_ROOM);
    let (mut entries, mut own) = (Vec::new(), Vec::new());
    let mut tally = (0, 0);
    for chunk in chunks {
        let chunk = chunk.clone();
        let mut text = Text::default();
        let mut input = &chunk[..];
        loop {
            match parser.parse(&mut input) {
                Ok(Some(Item::Event(event))) if assembled(&event, &chunk.as_ptr_range()) => {
                    let plan = plan(&chunk, &event);
                    entries.push(Entry::Own(own.len()));
                    own.push(split(&mut parser, &chunk, plan));
                }
                Ok(Some(Item::Event(event))) => match text.fields(&chunk, &event) {
                    [Some(data), Some(event_type), Some(id)] => entries.push(Entry::In {
                        data: span(data),
                        event_type: span(event_type),
                        id: span(id),
                    }),
                    _ => {
                        entries.push(Entry::Own(own.len()));
                        own.push(event.into_owned());
                    }
                },
                Ok(Some(_)) | Err(_) => continue,
                Ok(None) => break,
            }
        }
        read_batch(&text.text, &entries, &own, &mut tally);
        entries.clear();
        own.clear();
    }
    tally
}

/// A chunk's text checked as UTF-8 from `from` on, as far as it is valid.
#[derive(Default)]
struct Text {
    text: ByteString,
    from: usize,
}

impl Text {
    /// Where the data, type and ID of `event` (parsed from `chunk`) are in the
    /// text, each if it lies there. The chunk is checked at its first event that
    /// lies in it, from the first of that event's fields on.
    #[inline(always)]
    fn fields(&mut self, chunk: &Bytes, event: &Event<'_>) -> [Option<(usize, usize)>; 3] {
        let fields = [
            event.data().as_bytes(),
            event.event_type_field(),
            event.last_event_id().as_bytes(),
        ];
        if self.text.is_empty() {
            let first = fields.iter().filter_map(|f| offset(chunk, f));
            let from = first.min().unwrap_or(0);
            let text = crate::utf8::valid_prefix(chunk.slice(from..));
            *self = Text { text, from };
        }
        fields.map(|field| self.at(chunk, field))
    }

    /// Where `field` (found in `chunk`) is in the text, if it lies there; an
    /// empty field is anywhere. A field ends at a line end or the chunk's end and
    /// begins after `:` or a space: character boundaries, within the text.
    #[inline(always)]
    fn at(&self, chunk: &Bytes, field: &[u8]) -> Option<(usize, usize)> {
        if field.is_empty() {
            return Some((0, 0));
        }
        let start = offset(chunk, field)?.checked_sub(self.from)?;
        let end = start + field.len();
        (end <= self.text.len()).then_some((start, end))
    }
}

/// How to split off the parser's buffer an event it assembled: where its type is
/// in the chunk, whether it is in the parser's buffer instead, whether it has an
/// ID (appended, not looked up).
type Plan = (Option<Range<usize>>, bool, bool);

#[inline(always)]
fn plan(chunk: &Bytes, event: &Event<'_>) -> Plan {
    let event_type = event.event_type_field();
    let in_chunk = offset(chunk, event_type).map(|at| at..at + event_type.len());
    let stored_type = !event_type.is_empty() && in_chunk.is_none();
    (
        in_chunk,
        stored_type,
        !event.last_event_id().as_bytes().is_empty(),
    )
}

/// The event that the parser assembled, split off its buffer with its type and ID
/// appended, checked as UTF-8.
#[inline(always)]
fn split(parser: &mut Parser<BytesMut>, chunk: &Bytes, plan: Plan) -> OwnedEvent {
    let (in_chunk, stored_type, with_id) = plan;
    let event_type = in_chunk.map(|at| &chunk[at]);
    from_split(parser.split_event(event_type, stored_type, with_id), None)
}

/// What a stream of events does with each: hands it out of a call.
#[inline(never)]
fn hand_out(event: OwnedEvent) -> OwnedItem {
    OwnedItem::Event(event)
}

/// Where a batch's event is.
#[derive(Clone, Copy)]
#[allow(dead_code)] // held as a batch holds them; the benchmarks read the data
enum Entry {
    /// Its fields in the chunk's text.
    In {
        data: (u32, u32),
        event_type: (u32, u32),
        id: (u32, u32),
    },
    /// Held by itself.
    Own(usize),
}

/// Offsets into a chunk's text, which is far shorter than 4 GiB here.
fn span((start, end): (usize, usize)) -> (u32, u32) {
    (start as u32, end as u32)
}

/// Reads every event of a batch by reference, as a reader of batches does.
#[inline(never)]
fn read_batch(text: &str, entries: &[Entry], own: &[OwnedEvent], tally: &mut (usize, usize)) {
    for entry in entries {
        tally.0 += 1;
        tally.1 += match *entry {
            Entry::In { data, .. } => text[data.0 as usize..data.1 as usize].len(),
            Entry::Own(i) => own[i].data().len(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OwnedParser;

    /// Every event `OwnedParser` hands out, as (events, data bytes).
    fn owned_parser(chunks: &[Bytes]) -> (usize, usize) {
        let mut parser = OwnedParser::new(Parser::new());
        let (mut events, mut bytes) = (0, 0);
        for chunk in chunks {
            parser.push(chunk.clone());
            while let Some(event) = parser.next_event() {
                events += 1;
                bytes += event.data().len();
            }
        }
        (events, bytes)
    }

    #[test]
    fn the_floors_read_what_owned_parser_reads() {
        let mut stream = Vec::new();
        for n in 0..200 {
            let event: &[u8] = match n % 5 {
                0 => b"data: token\n\n",
                1 => b"id: 7\nevent: update\ndata: {\"n\": 1}\n\n",
                2 => b"data: one\ndata: two\n\n",
                3 => b": keep-alive\n\ndata: caf\xc3\xa9\n\n",
                // Invalid UTF-8 in data the parser assembles, and in data it does not.
                _ => b"data: bad \xff byte\nretry: 10\n\nid: \xfe\ndata: \xffbad\n\n",
            };
            stream.extend_from_slice(event);
        }
        let stream = Bytes::from(stream);
        for size in [1, 3, 7, 16, 61, 1460, stream.len()] {
            let chunks: Vec<Bytes> = (0..stream.len())
                .step_by(size)
                .map(|at| stream.slice(at..stream.len().min(at + size)))
                .collect();
            let want = owned_parser(&chunks);
            assert_eq!(want.0, 240, "chunks of {size}");
            assert_eq!(
                owned_events(&chunks),
                want,
                "one at a time, chunks of {size}"
            );
            assert_eq!(batches(&chunks), want, "batches, chunks of {size}");
        }
    }
}
