//! Where the parser keeps the bytes it must hold between chunks.
//!
//! Most events are parsed straight out of the caller's chunk. What cannot be (a line
//! split across two chunks, data joined from several lines, the last event ID that
//! outlives every chunk) goes into a [`Storage`]: a growable `Vec<u8>` with the `alloc`
//! feature, or a fixed region of a caller's buffer ([`SliceStorage`]) without it.

/// A byte buffer the parser appends to and clears. Clearing keeps the allocation, so a
/// parser in steady state allocates nothing.
///
/// # Implementer notes
/// `capacity_limit` must not change while the storage is in a parser: the parser
/// derives its size limits from it once, so that limit errors do not depend on how the
/// input was split into chunks.
pub trait Storage {
    /// The bytes held.
    fn as_bytes(&self) -> &[u8];
    /// Removes every byte, keeping any allocation.
    fn clear(&mut self);
    /// Appends `bytes`. Fails, leaving the storage unchanged, if that would pass
    /// [`capacity_limit`](Storage::capacity_limit).
    fn try_extend(&mut self, bytes: &[u8]) -> Result<(), CapacityError>;
    /// The most bytes this storage can ever hold (`usize::MAX` for a growable one).
    fn capacity_limit(&self) -> usize;
    /// Makes room for `additional` more bytes, for a storage that grows. Like
    /// `Vec::reserve` it rounds the growth up, so that appending stays cheap, but
    /// never past `limit` bytes in all (unless the bytes held plus `additional` are
    /// more): the parser calls it with the limit it holds the buffer to, so a buffer
    /// never takes twice the memory of the most it may hold. The default does nothing,
    /// which suits a fixed-capacity storage.
    ///
    /// ```
    /// use sse_proto::Storage;
    ///
    /// let mut buf = vec![0u8; 600];
    /// // Doubling would make room for 1200 bytes; the limit caps it at 1000.
    /// buf.reserve_within(1, 1000);
    /// assert_eq!(buf.capacity(), 1000);
    /// ```
    fn reserve_within(&mut self, additional: usize, limit: usize) {
        let _ = (additional, limit);
    }
    /// The number of bytes held.
    fn len(&self) -> usize {
        self.as_bytes().len()
    }
    /// Whether no bytes are held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A fixed-capacity [`Storage`] was asked to hold more than it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapacityError;

impl core::fmt::Display for CapacityError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("storage capacity exceeded")
    }
}

impl core::error::Error for CapacityError {}

/// The methods a growable byte buffer implements alike: it holds what it is given,
/// with no limit of its own.
#[cfg(feature = "alloc")]
macro_rules! growable {
    () => {
        #[inline]
        fn as_bytes(&self) -> &[u8] {
            self
        }
        #[inline]
        fn clear(&mut self) {
            Self::clear(self);
        }
        #[inline]
        fn try_extend(&mut self, bytes: &[u8]) -> Result<(), CapacityError> {
            self.extend_from_slice(bytes);
            Ok(())
        }
        #[inline]
        fn capacity_limit(&self) -> usize {
            usize::MAX
        }
    };
}

#[cfg(feature = "alloc")]
impl Storage for alloc::vec::Vec<u8> {
    growable!();

    #[inline]
    fn reserve_within(&mut self, additional: usize, limit: usize) {
        let needed = self.len().saturating_add(additional);
        if needed > self.capacity() {
            grow_within(self, needed, limit);
        }
    }
}

#[cfg(feature = "alloc")]
impl Storage for bytes::BytesMut {
    growable!();

    /// Reserves as `BytesMut::reserve` does: it takes back the whole buffer when
    /// nothing split off it is alive any more, and otherwise allocates a new one,
    /// doubling, which `limit` does not cap (`BytesMut` has no exact reservation).
    #[inline]
    fn reserve_within(&mut self, additional: usize, limit: usize) {
        let _ = limit;
        self.reserve(additional);
    }
}

/// Grows `vec` to hold `needed` bytes: doubling, as `Vec` grows, but capped at
/// `limit`. Rare (a buffer reaches its steady size once), so kept out of line.
#[cfg(feature = "alloc")]
#[cold]
fn grow_within(vec: &mut alloc::vec::Vec<u8>, needed: usize, limit: usize) {
    let target = vec.capacity().saturating_mul(2).min(limit).max(needed);
    vec.reserve_exact(target - vec.len());
}

/// A [`Storage`] over a region of a caller's buffer: no allocation, fixed capacity.
///
/// ```
/// use sse_proto::{SliceStorage, Storage};
///
/// let mut region = [0u8; 4];
/// let mut storage = SliceStorage::new(&mut region);
/// storage.try_extend(b"abc").unwrap();
/// assert!(storage.try_extend(b"de").is_err());
/// assert_eq!(storage.as_bytes(), b"abc");
/// ```
#[derive(Debug)]
pub struct SliceStorage<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> SliceStorage<'b> {
    /// An empty storage that can hold `buf.len()` bytes.
    pub fn new(buf: &'b mut [u8]) -> Self {
        SliceStorage { buf, len: 0 }
    }
}

impl Storage for SliceStorage<'_> {
    #[inline]
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    #[inline]
    fn clear(&mut self) {
        self.len = 0;
    }
    #[inline]
    fn try_extend(&mut self, bytes: &[u8]) -> Result<(), CapacityError> {
        let end = self.len.checked_add(bytes.len()).ok_or(CapacityError)?;
        let dest = self.buf.get_mut(self.len..end).ok_or(CapacityError)?;
        dest.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
    #[inline]
    fn capacity_limit(&self) -> usize {
        self.buf.len()
    }
}
