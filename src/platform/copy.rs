//! Copies that stay fast whatever the source's and destination's addresses.
//!
//! A large `memcpy` uses `rep movsb`, which some x86-64 CPUs (AMD EPYC among them) run many times
//! slower when the destination lies 1 to 31 bytes past the source modulo 4 KiB, as a page-aligned ring
//! slot and a `malloc`ed buffer often do. Calls of at most [`COPY_PIECE`] bytes take the vector loop,
//! as fast at any offset. `black_box` keeps the compiler from merging the pieces back into one call.

/// The most bytes one piece of a copy holds.
const COPY_PIECE: usize = 2048;

/// `dst.copy_from_slice(src)`, in pieces of at most [`COPY_PIECE`] bytes.
pub(crate) fn copy_in_pieces<T: Copy>(dst: &mut [T], src: &[T]) {
    let piece = (COPY_PIECE / std::mem::size_of::<T>().max(1)).max(1);
    for (to, from) in dst.chunks_mut(piece).zip(src.chunks(piece)) {
        to.copy_from_slice(std::hint::black_box(from));
    }
}

/// Copies `len` bytes from `from` to `to` in pieces of at most 2 KiB (`COPY_PIECE`): the raw form of
/// `copy_in_pieces`, for memory that is no Rust slice (JS memory another thread may write).
///
/// # Safety
/// `len` bytes must be readable at `from` and writable at `to`, and the two must not overlap.
#[cfg(any(feature = "binding", test))]
pub unsafe fn copy_bytes_in_pieces(from: *const u8, to: *mut u8, len: usize) {
    let mut at = 0;
    while at < len {
        let n = COPY_PIECE.min(len - at);
        // SAFETY: `at + n <= len`, so both ranges lie in what the caller vouched for.
        unsafe { std::ptr::copy_nonoverlapping(std::hint::black_box(from.add(at)), to.add(at), n) };
        at += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_copy_every_byte_at_odd_lengths() {
        for len in [0, 1, COPY_PIECE - 1, COPY_PIECE, COPY_PIECE + 1, 3 * COPY_PIECE + 17] {
            let src: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut dst = vec![0u8; len];
            copy_in_pieces(&mut dst, &src);
            assert_eq!(dst, src, "{len}");
            let mut raw = vec![0u8; len];
            // SAFETY: both vectors hold `len` bytes and are distinct allocations.
            unsafe { copy_bytes_in_pieces(src.as_ptr(), raw.as_mut_ptr(), len) };
            assert_eq!(raw, src, "{len}");
        }
        let wide: Vec<u64> = (0..1000).collect();
        let mut out = vec![0u64; 1000];
        copy_in_pieces(&mut out, &wide);
        assert_eq!(out, wide);
    }
}
