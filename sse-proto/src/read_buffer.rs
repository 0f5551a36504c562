//! Memory to read into, handed out as `Bytes` that share it: how a reader over an
//! interface that writes into initialised memory (`std::io::Read`,
//! `futures_io::AsyncRead`) turns its reads into chunks.

use bytes::{Bytes, BytesMut};

/// A buffer to read into whose reads are handed out as [`Bytes`] chunks that share
/// it, one after the other, for an [`OwnedParser`](crate::OwnedParser) (or anything
/// else that takes chunks).
///
/// Reads fill the buffer from its start; with less than a quarter of it left, the
/// next read goes to a fresh buffer, which is the old one taken back if no chunk cut
/// from it (and no item sharing one) is still alive. So a reader whose items are
/// dropped as they are handled allocates nothing after the first buffer, and one
/// that keeps them gets a new buffer each time one is used up. A new buffer is zeroed
/// once, since `Read`-style interfaces write into initialised memory; a buffer taken
/// back is not zeroed again (its bytes were initialised when it was made).
///
/// ```
/// use sse_proto::ReadBuffer;
///
/// let mut buffer = ReadBuffer::new(1024);
/// let room = buffer.room();
/// assert_eq!(room.len(), 1024);
/// room[..9].copy_from_slice(b"data: 1\n\n");
/// let chunk = buffer.filled(9);
/// assert_eq!(&chunk[..], b"data: 1\n\n");
/// assert_eq!(buffer.room().len(), 1024 - 9);
/// ```
#[derive(Debug)]
pub struct ReadBuffer {
    /// The initialised room left for reads.
    room: BytesMut,
    capacity: usize,
    /// Where the first `capacity` bytes of the memory `room` is cut from begin, which
    /// were zeroed when it was allocated (0 before the first allocation).
    zeroed_at: usize,
}

impl ReadBuffer {
    /// A buffer of `capacity` bytes (at least 1), allocated at the first read.
    pub fn new(capacity: usize) -> Self {
        ReadBuffer {
            room: BytesMut::new(),
            capacity: capacity.max(1),
            zeroed_at: 0,
        }
    }

    /// The buffer's size: the most a read is given.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Room for the next read: what is left of the buffer, at least a quarter of
    /// it (else a fresh buffer).
    pub fn room(&mut self) -> &mut [u8] {
        if self.room.len() < (self.capacity / 4).max(1) {
            self.room.clear();
            // The whole buffer back when nothing shares it any more, else a new one.
            if !self.reclaim() {
                self.room.reserve(self.capacity);
                self.room.resize(self.capacity, 0);
                self.zeroed_at = self.room.as_ptr() as usize;
            }
        }
        &mut self.room
    }

    /// Takes the whole buffer back for the next reads, without zeroing it again, if
    /// no chunk cut from it is alive: `true` if so.
    #[allow(unsafe_code)]
    fn reclaim(&mut self) -> bool {
        // `try_reclaim` never allocates: if it succeeds, `room` holds the memory it
        // held before, from wherever the rest of it begins.
        let reclaimed = self.room.try_reclaim(self.capacity);
        if !reclaimed || self.room.as_ptr() as usize != self.zeroed_at {
            return false;
        }
        // SAFETY: `room` is empty, and has room for `capacity` bytes from
        // `zeroed_at` on. Only `room()` allocates memory for `room` (`reserve`, when
        // this returns `false`), and it zeroes the first `capacity` bytes and sets
        // `zeroed_at` to where they begin; `try_reclaim` kept that allocation. So the
        // `capacity` bytes from `zeroed_at` have been initialised since: zeroes,
        // then what reads wrote there (the chunks cut from them only read them).
        unsafe { self.room.set_len(self.capacity) };
        true
    }

    /// The first `n` bytes of the [`room`](ReadBuffer::room), which a read has just
    /// filled, as a chunk; the room after them is left for the next read.
    ///
    /// # Panics
    ///
    /// If `n` is more than the room handed out.
    pub fn filled(&mut self, n: usize) -> Bytes {
        self.room.split_to(n).freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_used_up_buffer_is_taken_back_once_its_chunks_are_dropped() {
        let mut buffer = ReadBuffer::new(64);
        let start = buffer.room().as_ptr();
        let first = buffer.filled(40);
        assert_eq!(buffer.room().len(), 24, "the rest of the buffer");
        let second = buffer.filled(10);
        assert_eq!(second.as_ptr(), first[40..].as_ptr());
        // 14 bytes left, less than a quarter: a fresh buffer, a new one while the
        // chunks live...
        let kept = buffer.room().as_ptr();
        assert_ne!(kept, start);
        assert_eq!(buffer.room().len(), 64);
        drop((first, second));
        buffer.room().fill(b'x');
        let third = buffer.filled(64);
        drop(third);
        // ... and the same memory again once they are gone, as it was (it was
        // zeroed when it was made: initialised memory is not zeroed again).
        assert_eq!(buffer.room().as_ptr(), kept);
        assert_eq!(buffer.room().len(), 64);
        assert!(buffer.room().iter().all(|&b| b == b'x'), "not zeroed again");
    }

    #[test]
    fn a_buffer_with_a_chunk_alive_is_not_taken_back_and_a_new_one_is_zeroed() {
        let mut buffer = ReadBuffer::new(32);
        buffer.room().fill(b'y');
        let kept = buffer.filled(30);
        let room = buffer.room();
        assert_eq!(room.len(), 32);
        assert!(room.iter().all(|&b| b == 0), "a new buffer, zeroed");
        assert_ne!(room.as_ptr(), kept.as_ptr());
        assert_eq!(&kept[..], [b'y'; 30]);
    }
}
