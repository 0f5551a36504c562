//! A write timeout for a server's connections: a client that stops reading must not
//! hold a connection, and what is queued for it, forever.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// An `AsyncRead + AsyncWrite` (a `TcpStream`, a TLS stream) whose writes fail with
/// [`io::ErrorKind::TimedOut`] once one has waited `timeout` without making
/// progress: the peer stopped reading and its buffers are full. Serve each
/// connection over one, and a stalled client's connection ends, with the body it
/// held (a hub subscriber, a channel's queue).
///
/// Reads are untouched: an event stream's client sends nothing after its request.
///
/// ```
/// use std::time::Duration;
/// use tokio::io::AsyncWriteExt;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// // A pipe whose other end never reads: 16 bytes of buffer.
/// let (stalled, _peer) = tokio::io::duplex(16);
/// let mut stream = sse_tokio::WriteTimeout::new(stalled, Duration::from_secs(30));
/// let error = stream.write_all(&[0; 64]).await.unwrap_err();
/// assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
/// # });
/// ```
#[derive(Debug)]
pub struct WriteTimeout<T> {
    io: T,
    timeout: Duration,
    /// Armed while a write is waiting.
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteTimeout<T> {
    /// `io`, whose writes may wait at most `timeout` each.
    pub fn new(io: T, timeout: Duration) -> Self {
        WriteTimeout {
            io,
            timeout,
            sleep: None,
        }
    }

    /// The wrapped stream.
    pub fn into_inner(self) -> T {
        self.io
    }

    /// `poll` made on the stream, failing once a wait has lasted the timeout.
    fn guard<R>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(Pin<&mut T>, &mut Context<'_>) -> Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>>
    where
        T: Unpin,
    {
        match poll(Pin::new(&mut self.io), cx) {
            Poll::Ready(result) => {
                self.sleep = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let sleep = self.sleep.get_or_insert_with(|| {
                    Box::pin(tokio::time::sleep_until(Instant::now() + timeout))
                });
                ready!(sleep.as_mut().poll(cx));
                self.sleep = None;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the peer read nothing for the write timeout",
                )))
            }
        }
    }
}

use std::future::Future as _;

impl<T: AsyncRead + Unpin> AsyncRead for WriteTimeout<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.guard(cx, |io, cx| io.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.guard(cx, |io, cx| io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.guard(cx, |io, cx| io.poll_flush(cx))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.guard(cx, |io, cx| io.poll_shutdown(cx))
    }
}
