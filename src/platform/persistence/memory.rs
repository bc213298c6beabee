//! In-memory persistence backend: portable (native, wasm, Miri).

use super::{collect_recipe, PersistenceError, PersistenceLayer, SaveOptions, SaveRecipe};
use crate::{BufferKind, ZeroCopyBuffer};

/// A [`PersistenceLayer`] over bytes held in memory.
///
/// Cloning shares the bytes, and reads are zero-copy views of them. Useful for buffers created from
/// bytes, and as the reference backend in tests. `save` builds the new content in memory.
///
/// ```
/// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
/// let p = MemoryPersistence::new(b"hello world".to_vec());
/// let mut dst = [0u8; 5];
/// p.read_at(6, &mut dst).unwrap();
/// assert_eq!(&dst, b"world");
/// assert!(p.read_at(7, &mut dst).is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryPersistence {
    bytes: ZeroCopyBuffer,
}

impl MemoryPersistence {
    /// Creates a backend holding `bytes`.
    ///
    /// ```
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// let layer = MemoryPersistence::new(b"abc".to_vec());
    /// assert_eq!(layer.len().unwrap(), 3);
    /// ```
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self::from_buffer(ZeroCopyBuffer::from_bytes(bytes, BufferKind::raw()))
    }

    /// Creates a backend over the bytes of `buffer`, without copying them.
    ///
    /// ```
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    /// use omnibuf::{BufferKind, ZeroCopyBuffer};
    ///
    /// let bytes = ZeroCopyBuffer::from_bytes(b"shared".to_vec(), BufferKind::raw());
    /// let layer = MemoryPersistence::from_buffer(bytes.clone());
    /// let view = layer.read_buffer(0, 6).unwrap();
    /// assert_eq!(view.as_slice().as_ptr(), bytes.as_slice().as_ptr()); // not copied
    /// ```
    pub fn from_buffer(buffer: ZeroCopyBuffer) -> Self {
        Self { bytes: buffer }
    }
}

impl PersistenceLayer for MemoryPersistence {
    fn len(&self) -> Result<u64, PersistenceError> {
        Ok(self.bytes.len() as u64)
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError> {
        let total = self.bytes.len() as u64;
        let len = dst.len() as u64;
        // checked_add: an offset near u64::MAX must be an error, not a wrapped "in range" read.
        let end = offset.checked_add(len).filter(|&e| e <= total).ok_or(PersistenceError::OutOfRange {
            offset,
            len,
            total,
        })?;
        dst.copy_from_slice(&self.bytes[offset as usize..end as usize]);
        Ok(())
    }

    fn read_buffer(&self, offset: u64, len: usize) -> Result<ZeroCopyBuffer, PersistenceError> {
        let total = self.bytes.len() as u64;
        let out_of_range = PersistenceError::OutOfRange { offset, len: len as u64, total };
        let end = offset.checked_add(len as u64).filter(|&e| e <= total).ok_or(out_of_range)?;
        Ok(self.bytes.slice(offset as usize..end as usize))
    }

    fn is_mapped(&self) -> bool {
        true
    }

    fn save(
        &self,
        recipe: &mut SaveRecipe<'_>,
        _options: SaveOptions,
    ) -> Result<Box<dyn PersistenceLayer>, PersistenceError> {
        Ok(Box::new(MemoryPersistence::new(collect_recipe(self, recipe)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::persistence::SavePiece;

    #[test]
    fn reads_exact_ranges_and_rejects_out_of_range() {
        let p = MemoryPersistence::new(b"0123456789".to_vec());
        assert_eq!(p.len().unwrap(), 10);
        let mut d = [0u8; 3];
        p.read_at(7, &mut d).unwrap();
        assert_eq!(&d, b"789");
        p.read_at(10, &mut []).unwrap();
        assert!(matches!(p.read_at(8, &mut d), Err(PersistenceError::OutOfRange { .. })));
        assert!(matches!(p.read_at(u64::MAX, &mut d), Err(PersistenceError::OutOfRange { .. })));
        assert!(MemoryPersistence::default().is_empty().unwrap());
        assert_eq!(p.read_buffer(2, 3).unwrap(), b"234"[..]);
        assert!(p.read_buffer(9, 2).is_err());
    }

    #[test]
    fn a_recipe_copying_past_the_end_is_refused_before_anything_is_allocated() {
        let p = MemoryPersistence::new(b"0123456789".to_vec());
        for (offset, len) in [(1000, 0), (0, 11), (0, 1 << 40), (0, u64::MAX), (10, u64::MAX - 5)] {
            let mut recipe =
                vec![Ok(SavePiece::Copy { offset: 0, len: 4 }), Ok(SavePiece::Copy { offset, len })]
                    .into_iter();
            let saved = p.save(&mut recipe, SaveOptions::default());
            assert!(matches!(saved, Err(PersistenceError::OutOfRange { .. })), "copy({offset}, {len})");
        }
    }
}
