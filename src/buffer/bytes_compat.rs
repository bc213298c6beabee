//! Zero-copy conversions between omnibuf buffers and the `bytes` crate (cargo feature `bytes`): what
//! they promise is in the module docs of [`buffer`](super), which users read.

use bytes::buf::UninitSlice;
use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{BufferKind, BufferMut, ZeroCopyBuffer};

impl From<ZeroCopyBuffer> for Bytes {
    fn from(buf: ZeroCopyBuffer) -> Bytes {
        Bytes::from_owner(buf)
    }
}

impl From<Bytes> for ZeroCopyBuffer {
    fn from(bytes: Bytes) -> ZeroCopyBuffer {
        ZeroCopyBuffer::from_owner(bytes, BufferKind::raw())
    }
}

impl From<BytesMut> for ZeroCopyBuffer {
    fn from(bytes: BytesMut) -> ZeroCopyBuffer {
        bytes.freeze().into()
    }
}

impl From<BufferMut> for BytesMut {
    fn from(b: BufferMut) -> BytesMut {
        // `BytesMut: From<Vec<u8>>` is not public, but `Bytes → BytesMut` of a unique vector-backed
        // `Bytes` reuses its allocation.
        Bytes::from(b.into_vec()).into()
    }
}

impl Buf for ZeroCopyBuffer {
    fn remaining(&self) -> usize {
        self.len()
    }

    fn chunk(&self) -> &[u8] {
        self.as_slice()
    }

    fn advance(&mut self, cnt: usize) {
        ZeroCopyBuffer::advance(self, cnt)
    }

    fn copy_to_bytes(&mut self, len: usize) -> Bytes {
        self.split_to(len).into()
    }
}

// SAFETY: every method delegates to `Vec<u8>`'s own `BufMut` implementation, which upholds the trait's
// contract (`chunk_mut` returns spare capacity, `advance_mut` only moves over initialised bytes).
unsafe impl BufMut for BufferMut {
    fn remaining_mut(&self) -> usize {
        // What `Vec<u8>` reports: an allocation can never exceed `isize::MAX` bytes.
        isize::MAX as usize - self.len()
    }

    unsafe fn advance_mut(&mut self, cnt: usize) {
        // SAFETY: the caller guarantees the next `cnt` bytes of `chunk_mut` were initialised, which is
        // `Vec::advance_mut`'s own precondition.
        unsafe { BufMut::advance_mut(self.as_mut_vec(), cnt) }
    }

    fn chunk_mut(&mut self) -> &mut UninitSlice {
        BufMut::chunk_mut(self.as_mut_vec())
    }

    fn put_slice(&mut self, src: &[u8]) {
        self.extend_from_slice(src);
    }
}
