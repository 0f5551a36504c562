//! A server body as an `AsyncRead`, for futures-io servers that copy a reader into
//! the connection.

use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::io;

use bytes::{Buf, Bytes};
use futures_core::Stream;
use futures_io::{AsyncBufRead, AsyncRead};

use crate::SseBody;

/// An [`SseBody`] as an `AsyncRead` and `AsyncBufRead`, to copy into a connection.
///
/// `futures::io::copy` (or smol's `io::copy`) writes each chunk as it comes but
/// flushes only at the end, which is right for a plain `TcpStream`. Over a writer
/// that buffers (a `BufWriter`, some TLS streams), write and flush each chunk of
/// the body as a `Stream` instead, so events are not held back.
///
/// ```
/// use sse_proto::Message;
/// use sse_async_std::BodyReader;
///
/// smol::block_on(async {
///     let (sender, body) = sse_async_std::channel(4);
///     sender.send(Message::new("one")).await.unwrap();
///     sender.send(Message::new("two")).await.unwrap();
///     drop(sender);
///
///     let mut written = Vec::new();
///     smol::io::copy(BodyReader::new(body), &mut written).await.unwrap();
///     assert_eq!(written, b"data: one\n\ndata: two\n\n");
/// });
/// ```
///
/// Reads return what is queued (at most one chunk per read), wait while nothing is,
/// and return 0 at the end of the stream, when every [`Sender`](crate::Sender) is gone. Dropping the
/// reader drops the body, which [`Sender::closed`](crate::Sender::closed) reports.
#[derive(Debug)]
pub struct BodyReader {
    body: SseBody,
    /// The rest of the chunk being read.
    chunk: Bytes,
}

impl BodyReader {
    /// Reads `body`.
    pub fn new(body: SseBody) -> Self {
        BodyReader {
            body,
            chunk: Bytes::new(),
        }
    }

    /// The body back, with the rest of a chunk being read (empty if none).
    pub fn into_inner(self) -> (SseBody, Bytes) {
        (self.body, self.chunk)
    }
}

impl AsyncBufRead for BodyReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.chunk.is_empty() {
            match ready!(Pin::new(&mut this.body).poll_next(cx)) {
                Some(Ok(bytes)) => this.chunk = bytes,
                // The end of the stream: an empty buffer.
                None => break,
            }
        }
        Poll::Ready(Ok(&this.chunk[..]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().chunk.advance(amt);
    }
}

impl AsyncRead for BodyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}
