//! `ReaderStream`'s handling of its reader, and events read from a TCP socket on
//! each runtime. (The event streams' own behaviour is tested in `sse-io`.)

mod common;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use common::{ChunkReader, Runtime};
use futures_io::AsyncRead;
use smol::io::AsyncWriteExt;
use smol::stream::StreamExt;
use sse_async_std::{OwnedItem, ReaderStream};

/// A reader that fails once with `kind`, then reads `data`.
struct FailOnce {
    kind: Option<io::ErrorKind>,
    data: &'static [u8],
    reads: usize,
}

impl AsyncRead for FailOnce {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.reads += 1;
        if let Some(kind) = self.kind.take() {
            return Poll::Ready(Err(io::Error::new(kind, "failed once")));
        }
        let n = self.data.len().min(buf.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(n))
    }
}

#[test]
fn an_interrupted_read_is_retried() {
    smol::block_on(async {
        let reader = FailOnce {
            kind: Some(io::ErrorKind::Interrupted),
            data: b"data: x\n\n",
            reads: 0,
        };
        let mut events = sse_async_std::from_reader(reader);
        assert_eq!(events.next().await.unwrap().unwrap().data(), "x");
        assert!(events.next().await.is_none());
    });
}

#[test]
fn a_read_error_ends_the_reader_stream() {
    smol::block_on(async {
        let reader = FailOnce {
            kind: Some(io::ErrorKind::BrokenPipe),
            data: b"data: never read\n\n",
            reads: 0,
        };
        let mut chunks = ReaderStream::new(reader);
        let err = chunks.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert!(chunks.next().await.is_none());
        // The reader is not asked again after the error.
        assert_eq!(chunks.get_ref().reads, 1);
        let reader = chunks.into_inner();
        assert_eq!(reader.data, b"data: never read\n\n");
    });
}

#[test]
fn reads_are_at_most_the_capacity_and_nothing_is_lost() {
    smol::block_on(async {
        let input: Vec<u8> = (0..10_000u32).flat_map(|n| n.to_le_bytes()).collect();
        let reader = ChunkReader::new([&input[..7], &input[7..]]);
        let mut chunks = ReaderStream::with_capacity(reader, 1000);
        let mut out = Vec::new();
        let mut reads = 0;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.unwrap();
            assert!(!chunk.is_empty() && chunk.len() <= 1000, "{}", chunk.len());
            out.extend_from_slice(&chunk);
            reads += 1;
        }
        assert_eq!(out, input);
        assert_eq!(reads, 41, "7 bytes, then 39 996 in reads of 1000");
    });
}

#[test]
fn chunks_held_by_the_caller_keep_their_bytes() {
    smol::block_on(async {
        let reader = ChunkReader::new([&b"abc"[..], b"defg", b"hi"]);
        let chunks: Vec<Bytes> = ReaderStream::with_capacity(reader, 4)
            .map(Result::unwrap)
            .collect()
            .await;
        // They were cut from one reused buffer: reuse must not overwrite any of them.
        assert!(chunks.iter().all(|c| c.len() <= 4), "{chunks:?}");
        assert_eq!(chunks.concat(), b"abcdefghi");
    });
}

/// A server writes an event stream over loopback in pieces that split lines, CRLFs and
/// UTF-8 characters, pausing between them; the client decodes the socket with
/// `EventStream::from_reader`.
async fn events_from_a_tcp_socket<R: Runtime>() {
    const PIECES: &[&[u8]] = &[
        b"retry: 1000\r",
        b"\n: hello\r\nid: 1\r\ndata: caf",
        b"\xc3",
        b"\xa9\r\n\r",
        b"\nevent: tick\ndata: 2\n",
        b"\n",
        b"data: unfinished",
    ];
    let (listener, addr) = R::bind().await;
    let server = R::spawn(async move {
        let mut socket = R::accept(&listener).await;
        for piece in PIECES {
            socket.write_all(piece).await.unwrap();
            socket.flush().await.unwrap();
            smol::Timer::after(Duration::from_millis(5)).await;
        }
        socket.close().await.unwrap();
    });
    let socket = R::connect(addr).await;
    let mut items = sse_async_std::from_reader(socket).into_items();
    let mut seen = Vec::new();
    while let Some(item) = items.next().await {
        seen.push(item.unwrap());
    }
    server.await;
    let OwnedItem::Retry(time) = seen[0] else {
        panic!("{seen:?}")
    };
    assert_eq!(time, Duration::from_millis(1000));
    let [OwnedItem::Event(first), OwnedItem::Event(second)] = &seen[1..] else {
        panic!("{seen:?}")
    };
    assert_eq!((first.data(), first.last_event_id()), ("café", "1"));
    assert_eq!((second.event_type(), second.data()), ("tick", "2"));
    assert_eq!(items.parser().last_event_id(), "1");
}

on_both_runtimes!(Duration::from_secs(5) => events_from_a_tcp_socket);
