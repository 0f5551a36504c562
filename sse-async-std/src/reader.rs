//! A `futures_io::AsyncRead` as a `Stream` of byte chunks.
//!
//! The decoders ([`ItemStream`](crate::ItemStream), [`EventStream`](crate::EventStream))
//! take a stream of chunks, the shape HTTP clients hand out bodies in. A socket, a
//! pipe or a file is an `AsyncRead` instead; this module turns one into the other, as
//! `tokio_util::io::ReaderStream` does for sse-tokio, so that both adapters have the
//! same `EventStream::from_reader`. futures-util has no such adapter, hence this one.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;

use bytes::Bytes;
use futures_core::Stream;
use futures_io::AsyncRead;
use pin_project_lite::pin_project;
use sse_proto::ReadBuffer;

/// How much a [`ReaderStream`] asks its reader for at a time, by default.
pub const DEFAULT_READ_CAPACITY: usize = 8 * 1024;

pin_project! {
    /// The bytes of a [`futures_io::AsyncRead`] (a smol or async-std `TcpStream`, a
    /// file, a pipe, `&[u8]`, ...) as a `Stream` of [`Bytes`] chunks, one per read.
    ///
    /// The stream ends when the reader reports the end of its input (a read of 0
    /// bytes) or after the first error it yields; an
    /// [`Interrupted`](io::ErrorKind::Interrupted) read is retried rather than
    /// reported. Chunks share one buffer ([`ReadBuffer`]), which is reused once the
    /// chunks cut from it are dropped, so a reader that is decoded as it is read
    /// allocates rarely.
    ///
    /// ```
    /// use smol::stream::StreamExt;
    /// use sse_async_std::ReaderStream;
    ///
    /// smol::block_on(async {
    ///     let reader: &[u8] = b"data: 1\n\n";
    ///     let mut chunks = ReaderStream::with_capacity(reader, 4);
    ///     assert_eq!(chunks.next().await.unwrap().unwrap(), "data");
    ///     assert_eq!(chunks.next().await.unwrap().unwrap(), ": 1\n");
    ///     assert_eq!(chunks.next().await.unwrap().unwrap(), "\n");
    ///     assert!(chunks.next().await.is_none());
    /// });
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct ReaderStream<R> {
        #[pin]
        reader: R,
        buffer: ReadBuffer,
        done: bool,
    }
}

impl<R: fmt::Debug> fmt::Debug for ReaderStream<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReaderStream")
            .field("reader", &self.reader)
            .field("capacity", &self.buffer.capacity())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: AsyncRead> ReaderStream<R> {
    /// Chunks of `reader`, reading up to [`DEFAULT_READ_CAPACITY`] bytes at a time.
    pub fn new(reader: R) -> Self {
        Self::with_capacity(reader, DEFAULT_READ_CAPACITY)
    }

    /// Chunks of `reader`, reading up to `capacity` bytes at a time (at least 1).
    pub fn with_capacity(reader: R, capacity: usize) -> Self {
        ReaderStream {
            reader,
            buffer: ReadBuffer::new(capacity),
            done: false,
        }
    }
}

impl<R> ReaderStream<R> {
    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader, mutably. Reading from it directly skips those bytes.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// The reader back. Nothing read is lost: every byte read was yielded.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncRead> Stream for ReaderStream<R> {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        loop {
            return match this.reader.as_mut().poll_read(cx, this.buffer.room()) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(0)) => {
                    *this.done = true;
                    Poll::Ready(None)
                }
                Poll::Ready(Ok(n)) => Poll::Ready(Some(Ok(this.buffer.filled(n)))),
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Poll::Ready(Err(e)) => {
                    *this.done = true;
                    Poll::Ready(Some(Err(e)))
                }
            };
        }
    }
}
