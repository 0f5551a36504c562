//! Test helpers: one trait over the two runtimes, so that a scenario is written once
//! and run on smol and on async-std, and a wall-clock limit for every scenario.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};

/// A spawned task's result.
pub type Task<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What a scenario needs from a runtime: run, spawn, and loopback TCP.
pub trait Runtime: 'static {
    /// The runtime's TCP stream.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The runtime's TCP listener.
    type Listener: Send + Sync + 'static;

    /// Runs `future` to completion on this thread.
    fn block_on<F: Future>(future: F) -> F::Output;

    /// Runs `future` on the runtime's executor.
    fn spawn<F>(future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// A listener on 127.0.0.1 and a free port.
    fn bind() -> impl Future<Output = (Self::Listener, SocketAddr)> + Send;

    /// The next connection to `listener`.
    fn accept(listener: &Self::Listener) -> impl Future<Output = Self::Stream> + Send + '_;

    /// A connection to `addr`.
    fn connect(addr: SocketAddr) -> impl Future<Output = Self::Stream> + Send;
}

/// smol: `smol::block_on`, the global executor, `smol::net`.
pub struct Smol;

impl Runtime for Smol {
    type Stream = smol::net::TcpStream;
    type Listener = smol::net::TcpListener;

    fn block_on<F: Future>(future: F) -> F::Output {
        smol::block_on(future)
    }

    fn spawn<F>(future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Box::pin(smol::spawn(future))
    }

    async fn bind() -> (Self::Listener, SocketAddr) {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        (listener, addr)
    }

    async fn accept(listener: &Self::Listener) -> Self::Stream {
        listener.accept().await.unwrap().0
    }

    async fn connect(addr: SocketAddr) -> Self::Stream {
        smol::net::TcpStream::connect(addr).await.unwrap()
    }
}

/// async-std: `async_std::task`, `async_std::net`.
pub struct AsyncStd;

impl Runtime for AsyncStd {
    type Stream = async_std::net::TcpStream;
    type Listener = async_std::net::TcpListener;

    fn block_on<F: Future>(future: F) -> F::Output {
        async_std::task::block_on(future)
    }

    fn spawn<F>(future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Box::pin(async_std::task::spawn(future))
    }

    async fn bind() -> (Self::Listener, SocketAddr) {
        let listener = async_std::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        (listener, addr)
    }

    async fn accept(listener: &Self::Listener) -> Self::Stream {
        listener.accept().await.unwrap().0
    }

    async fn connect(addr: SocketAddr) -> Self::Stream {
        async_std::net::TcpStream::connect(addr).await.unwrap()
    }
}

/// `future`, failing the test if it takes longer than `limit` of wall-clock time.
/// (The timer is async-io's, which runs under either runtime.)
pub async fn within<F: Future>(limit: Duration, future: F) -> F::Output {
    smol::future::or(future, async {
        smol::Timer::after(limit).await;
        panic!("the scenario did not finish within {limit:?}");
    })
    .await
}

/// Whether `future` finishes within `wait`: `None` if it did not (and was dropped).
pub async fn finishes_within<F: Future>(wait: Duration, future: F) -> Option<F::Output> {
    smol::future::or(async { Some(future.await) }, async {
        smol::Timer::after(wait).await;
        None
    })
    .await
}

/// Defines, for each `scenario::<R: Runtime>()` named, a module of the same name
/// with one test per runtime, each bounded by `$limit`.
#[macro_export]
macro_rules! on_both_runtimes {
    ($limit:expr => $($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[allow(unused_imports)]
                use super::*;
                use $crate::common::{AsyncStd, Runtime, Smol, within};

                #[test]
                fn smol() {
                    Smol::block_on(within($limit, super::$scenario::<Smol>()));
                }

                #[test]
                fn async_std() {
                    AsyncStd::block_on(within($limit, super::$scenario::<AsyncStd>()));
                }
            }
        )+
    };
}

/// An `AsyncRead` that hands out `chunks` one read at a time (never joining two),
/// and is not ready once before each of them, so that readers meet `Pending` and
/// must rely on the waker.
pub struct ChunkReader {
    chunks: std::collections::VecDeque<Vec<u8>>,
    /// How much of the front chunk was read.
    pos: usize,
    ready: bool,
}

impl ChunkReader {
    /// A reader of `chunks`; empty ones are left out (a read of 0 bytes is the end).
    pub fn new<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Self {
        ChunkReader {
            chunks: chunks
                .into_iter()
                .filter(|c| !c.is_empty())
                .map(<[u8]>::to_vec)
                .collect(),
            pos: 0,
            ready: false,
        }
    }
}

impl AsyncRead for ChunkReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if !std::mem::replace(&mut self.ready, false) {
            self.ready = true;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        let Some(chunk) = self.chunks.front() else {
            return std::task::Poll::Ready(Ok(0));
        };
        let rest = &chunk[self.pos..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        if n == rest.len() {
            self.chunks.pop_front();
            self.pos = 0;
        } else {
            self.pos += n;
        }
        std::task::Poll::Ready(Ok(n))
    }
}
