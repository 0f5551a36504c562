//! Ending server streams gracefully, all at once.

use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::Stream;

/// A signal that ends server streams at an event boundary: every [`SseBody`]
/// watching it ([`SseBody::shutdown_on`]) sends what its source has ready and ends,
/// so that a server's graceful shutdown (which waits for responses to end, where an
/// event stream never would) completes, and clients reconnect, elsewhere say, with
/// their last event ID. (A [`Hub`](crate::Hub)'s streams can also be ended with
/// [`Hub::close`](crate::Hub::close).)
///
/// Clones are the same signal.
///
/// ```
/// use futures_util::StreamExt;
/// use sse_io::Shutdown;
/// use sse_proto::Message;
///
/// # futures_executor::block_on(async {
/// let shutdown = Shutdown::new();
/// let (sender, body) = sse_tokio::channel(4);
/// let mut body = body.shutdown_on(&shutdown);
/// sender.send(Message::new("queued")).await.unwrap();
/// shutdown.trigger();
/// // The sender is still there; the stream ends after what was queued all the same.
/// assert_eq!(body.next().await.unwrap().unwrap(), "data: queued\n\n");
/// assert!(body.next().await.is_none());
/// # });
/// ```
///
/// [`SseBody`]: crate::SseBody
/// [`SseBody::shutdown_on`]: crate::SseBody::shutdown_on
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: async_channel::Sender<()>,
    rx: async_channel::Receiver<()>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    /// A signal not yet given.
    pub fn new() -> Self {
        let (tx, rx) = async_channel::bounded(1);
        Shutdown { tx, rx }
    }

    /// Gives the signal: every stream watching it ends after what is ready for it,
    /// and so does every stream that starts watching it from now on.
    pub fn trigger(&self) {
        self.tx.close();
    }

    /// Whether the signal was given.
    pub fn is_triggered(&self) -> bool {
        self.tx.is_closed()
    }

    pub(crate) fn watch(&self) -> Watch {
        Watch(Box::pin(self.rx.clone()))
    }
}

/// One stream's view of a [`Shutdown`].
#[derive(Debug)]
pub(crate) struct Watch(Pin<Box<async_channel::Receiver<()>>>);

impl Watch {
    /// Ready once the signal was given (registers the waker until then).
    pub(crate) fn poll_given(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.0.as_mut().poll_next(cx) {
            Poll::Ready(_) => Poll::Ready(()),
            Poll::Pending => Poll::Pending,
        }
    }
}
