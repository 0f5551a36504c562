//! Events as a `Stream`, over any stream of byte chunks.
//!
//! The consuming half of every adapter: chunks go to an [`OwnedParser`] as they
//! come, and what it finds comes out owned, so that nothing borrows from a chunk
//! that is gone by the next poll.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, ready};

use futures_core::{Stream, TryStream};
use pin_project_lite::pin_project;
use sse_proto::{Bytes, Config, EventBatch, OwnedEvent, OwnedItem, OwnedParser, Parser};

pin_project! {
    /// Every item of an event stream ([`OwnedItem`]: events, `retry` values,
    /// comments, ...), over a stream of byte chunks.
    ///
    /// The chunks are any `Stream<Item = Result<B, E>>` with `B: Into<Bytes>`
    /// (`Bytes`, `Vec<u8>`, `&'static [u8]`, ...): a `reqwest` byte stream, an HTTP
    /// body through [`EventStream::from_body`], or an `AsyncRead` through a runtime
    /// adapter's `from_reader`. Chunk boundaries may fall anywhere, inside a line or
    /// a CRLF included.
    ///
    /// Items are not copied out of the chunks: an event that arrived whole in one
    /// chunk is a slice of it ([`Sharer`](sse_proto::Sharer)), which keeps
    /// that chunk's memory alive while the event lives.
    ///
    /// What comes out is what the parser's [`Config`] asks for; [`ItemStream::new`]
    /// turns comments on. An event over the parser's limit is an
    /// [`OwnedItem::Skipped`] item, after which the stream carries on. The only error
    /// is the chunk stream's own, which ends the stream (a pending, unfinished event
    /// is discarded, as at the end of the stream): a
    /// `while let Some(item) = items.try_next().await?` loop stops only at the end.
    ///
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use sse_proto::OwnedItem;
    /// use sse_io::ItemStream;
    ///
    /// # futures_executor::block_on(async {
    /// let chunks = futures_util::stream::iter([
    ///     Ok::<_, std::io::Error>(&b": hello\nretry: 10"[..]),
    ///     Ok(b"00\ndata: x\n\n"),
    /// ]);
    /// let items: Vec<_> = ItemStream::new(chunks).map(Result::unwrap).collect().await;
    /// assert_eq!(items[0], OwnedItem::Comment("hello".into()));
    /// assert_eq!(items[1], OwnedItem::Retry(std::time::Duration::from_secs(1)));
    /// assert!(matches!(&items[2], OwnedItem::Event(e) if e.data() == "x"));
    /// # });
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct ItemStream<S: TryStream> {
        #[pin]
        inner: S,
        parser: OwnedParser,
        done: bool,
    }
}

impl<S: TryStream + fmt::Debug> fmt::Debug for ItemStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemStream")
            .field("inner", &self.inner)
            .field("parser", self.parser.parser())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<S: TryStream> ItemStream<S>
where
    S::Ok: Into<Bytes>,
{
    /// Items of `stream`, comments included.
    pub fn new(stream: S) -> Self {
        Self::with_config(stream, Config::new().comments(true))
    }

    /// Items of `stream`, parsed with `config`.
    pub fn with_config(stream: S, config: Config) -> Self {
        Self::with_parser(stream, Parser::with_config(config))
    }

    /// Items of `stream`, parsed by `parser` (set up with a last event ID, say).
    pub fn with_parser(stream: S, parser: Parser) -> Self {
        ItemStream {
            inner: stream,
            parser: OwnedParser::new(parser),
            done: false,
        }
    }
}

impl<S: TryStream> ItemStream<S> {
    /// The parser, for its [`last_event_id`](Parser::last_event_id) and
    /// [`retry`](Parser::retry).
    pub fn parser(&self) -> &Parser<sse_proto::BytesMut> {
        self.parser.parser()
    }

    /// How many events (and comments) over the parser's limit were skipped, each
    /// an [`OwnedItem::Skipped`] item.
    pub fn skipped(&self) -> u64 {
        self.parser.skipped()
    }

    /// The stream of chunks.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The stream of chunks and the parser; a chunk being parsed is dropped.
    pub fn into_parts(self) -> (S, Parser) {
        (self.inner, self.parser.into_parser())
    }
}

impl<S: TryStream> Stream for ItemStream<S>
where
    S::Ok: Into<Bytes>,
{
    type Item = Result<OwnedItem, S::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_take(cx, OwnedParser::next)
    }
}

impl<S: TryStream> ItemStream<S>
where
    S::Ok: Into<Bytes>,
{
    /// What `take` takes from the parser, pushing it chunks until it takes
    /// something (`None`: the chunk is used up), or the end or an error of the
    /// chunk stream: one loop for every stream of this module.
    #[inline(always)]
    fn poll_take<T>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut take: impl FnMut(&mut OwnedParser) -> Option<T>,
    ) -> Poll<Option<Result<T, S::Error>>> {
        let mut this = self.project();
        loop {
            if let Some(taken) = take(this.parser) {
                return Poll::Ready(Some(Ok(taken)));
            }
            if *this.done {
                return Poll::Ready(None);
            }
            match ready!(this.inner.as_mut().try_poll_next(cx)) {
                Some(Ok(chunk)) => this.parser.push(chunk),
                Some(Err(e)) => {
                    *this.done = true;
                    this.parser.finish();
                    return Poll::Ready(Some(Err(e)));
                }
                None => {
                    *this.done = true;
                    this.parser.finish();
                    return Poll::Ready(None);
                }
            }
        }
    }
}

pin_project! {
    /// The events of an event stream, owned ([`OwnedEvent`]), over a stream of byte
    /// chunks: [`ItemStream`] without the other items. An event over the parser's
    /// limit is skipped and counted ([`skipped`](EventStream::skipped)); the only
    /// error is the chunk stream's, and it ends the stream.
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use sse_io::EventStream;
    ///
    /// # futures_executor::block_on(async {
    /// let chunks = futures_util::stream::iter([
    ///     Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"id: 1\nevent: greet\ndata: hel")),
    ///     Ok(bytes::Bytes::from_static(b"lo\n\n: keep-alive\n\n")),
    /// ]);
    /// let mut events = EventStream::new(chunks);
    /// let event = events.next().await.unwrap()?;
    /// assert_eq!((event.event_type(), event.data()), ("greet", "hello"));
    /// assert_eq!(events.parser().last_event_id(), "1");
    /// assert!(events.next().await.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct EventStream<S: TryStream> {
        #[pin]
        items: ItemStream<S>,
    }
}

impl<S: TryStream> EventStream<S>
where
    S::Ok: Into<Bytes>,
{
    /// The events of `stream`, parsed with the default [`Config`].
    pub fn new(stream: S) -> Self {
        Self::with_config(stream, Config::new())
    }

    /// The events of `stream`, parsed with `config`.
    pub fn with_config(stream: S, config: Config) -> Self {
        Self::with_parser(stream, Parser::with_config(config))
    }

    /// The events of `stream`, parsed by `parser` (set up with a last event ID, say).
    pub fn with_parser(stream: S, parser: Parser) -> Self {
        EventStream {
            items: ItemStream::with_parser(stream, parser),
        }
    }
}

impl<S: TryStream> EventStream<S> {
    /// The parser, for its [`last_event_id`](Parser::last_event_id) and
    /// [`retry`](Parser::retry).
    pub fn parser(&self) -> &Parser<sse_proto::BytesMut> {
        self.items.parser()
    }

    /// How many events were skipped for being over the parser's limit (each an
    /// [`OwnedItem::Skipped`] of the underlying [`ItemStream`]).
    pub fn skipped(&self) -> u64 {
        self.items.skipped()
    }

    /// Every item instead of only the events, from where this stream is.
    pub fn into_items(self) -> ItemStream<S> {
        self.items
    }

    /// The events a chunk at a time, from where this stream is: see
    /// [`EventBatches`].
    pub fn batches(self) -> EventBatches<S> {
        EventBatches { items: self.items }
    }
}

impl<B> EventStream<http_body_util::BodyDataStream<B>>
where
    B: http_body::Body,
    B::Data: Into<Bytes>,
{
    /// The events of an HTTP body (a hyper `Incoming`, an axum `Body`, ...); trailers
    /// are ignored.
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use http_body_util::Full;
    /// use sse_io::EventStream;
    ///
    /// # futures_executor::block_on(async {
    /// let body = Full::new(bytes::Bytes::from_static(b"data: from a body\n\n"));
    /// let mut events = EventStream::from_body(body);
    /// assert_eq!(events.next().await.unwrap().unwrap().data(), "from a body");
    /// # });
    /// ```
    pub fn from_body(body: B) -> Self {
        EventStream::new(http_body_util::BodyDataStream::new(body))
    }
}

impl<S: TryStream> EventStream<S>
where
    S::Ok: Into<Bytes>,
{
    /// The events of the next chunk that finishes any, into `batch`, which is
    /// emptied first and keeps the memory of its lists
    /// ([`OwnedParser::next_batch_into`]): `Ok(true)` when it holds them (never
    /// none), `Ok(false)` at the end of the stream, and the chunk stream's error,
    /// which ends it; the batch is empty but for `Ok(true)`. Where
    /// [`batches`](EventStream::batches) makes a batch per chunk and hands it out,
    /// a reader that is done with each batch before the next reads chunk after
    /// chunk into one, and allocates nothing per chunk.
    ///
    /// ```
    /// use sse_io::{EventBatch, EventStream};
    ///
    /// # futures_executor::block_on(async {
    /// let chunks = futures_util::stream::iter([
    ///     Ok::<_, std::io::Error>(&b"data: 1\n\ndata: 2\n\ndata: 3"[..]),
    ///     Ok(b"\n\n"),
    /// ]);
    /// let mut events = EventStream::new(chunks);
    /// let mut batch = EventBatch::default();
    /// let mut sizes = Vec::new();
    /// while events.next_batch_into(&mut batch).await? {
    ///     sizes.push(batch.len());
    /// }
    /// assert_eq!(sizes, [2, 1]);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn next_batch_into(&mut self, batch: &mut EventBatch) -> Result<bool, S::Error>
    where
        Self: Unpin,
    {
        core::future::poll_fn(|cx| Pin::new(&mut *self).poll_next_batch_into(cx, batch)).await
    }

    /// [`next_batch_into`](EventStream::next_batch_into) as a poll, for a stream
    /// that is not `Unpin` or code that polls by hand.
    pub fn poll_next_batch_into(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        batch: &mut EventBatch,
    ) -> Poll<Result<bool, S::Error>> {
        let taken = ready!(
            self.project()
                .items
                .poll_take(cx, |parser| parser.next_batch_into(batch).then_some(()))
        );
        Poll::Ready(match taken {
            Some(Ok(())) => Ok(true),
            Some(Err(e)) => Err(e),
            None => Ok(false),
        })
    }
}

impl<S: TryStream> Stream for EventStream<S>
where
    S::Ok: Into<Bytes>,
{
    type Item = Result<OwnedEvent, S::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project().items.poll_take(cx, OwnedParser::next_event)
    }
}

pin_project! {
    /// The events of an event stream a chunk at a time: each [`EventBatch`] holds
    /// the events that one chunk finished ([`OwnedParser::next_batch`]), owned
    /// together, so that a chunk of many small events costs one reference count
    /// instead of one per event. Read them by reference (`for event in &batch`), or
    /// take any as an [`OwnedEvent`] of its own ([`BatchEvent::into_owned`](sse_proto::BatchEvent::into_owned)).
    ///
    /// The events are [`EventStream`]'s, in the same order; a chunk that finishes
    /// none gives no batch. Worth it where chunks hold many events (a backlog
    /// replayed, a busy feed read in large reads); with one event per chunk, an
    /// `EventStream` does the same work with less. An event over the parser's limit
    /// is skipped and counted ([`skipped`](EventBatches::skipped)); the only error
    /// is the chunk stream's, and it ends the stream.
    ///
    /// ```
    /// use futures_util::TryStreamExt;
    /// use sse_io::EventStream;
    ///
    /// # futures_executor::block_on(async {
    /// let chunks = futures_util::stream::iter([
    ///     Ok::<_, std::io::Error>(&b"data: 1\n\ndata: 2\n\ndata: 3"[..]),
    ///     Ok(b"\n\n"),
    /// ]);
    /// let mut batches = EventStream::new(chunks).batches();
    /// let mut sizes = Vec::new();
    /// while let Some(batch) = batches.try_next().await? {
    ///     sizes.push(batch.len());
    ///     for event in &batch {
    ///         assert_eq!(event.event_type(), "message");
    ///     }
    /// }
    /// assert_eq!(sizes, [2, 1]);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct EventBatches<S: TryStream> {
        #[pin]
        items: ItemStream<S>,
    }
}

impl<S: TryStream> EventBatches<S> {
    /// The parser, for its [`last_event_id`](Parser::last_event_id) and
    /// [`retry`](Parser::retry).
    pub fn parser(&self) -> &Parser<sse_proto::BytesMut> {
        self.items.parser()
    }

    /// How many events were skipped for being over the parser's limit.
    pub fn skipped(&self) -> u64 {
        self.items.skipped()
    }

    /// The events one at a time again, from where this stream is.
    pub fn into_events(self) -> EventStream<S> {
        EventStream { items: self.items }
    }
}

impl<S: TryStream> Stream for EventBatches<S>
where
    S::Ok: Into<Bytes>,
{
    type Item = Result<EventBatch, S::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project().items.poll_take(cx, OwnedParser::next_batch)
    }
}
