//! The line table of one source: its LF counts per block, built by one scan and then used to count
//! the LFs before any offset, or find the n-th LF, reading at most one block.
//!
//! A leaf: it knows a source only as a persistence layer and a length, so the store can keep a table
//! per source and the line index (`lines`) can use it without either importing the other.

use super::error::{zeroed, VbufError};
use crate::platform::persistence::{read_buffer_exact, PersistenceError, PersistenceLayer};
use crate::ZeroCopyBuffer;

/// LF counts of a source, per block: `prefix[i]` is the number of LFs in the blocks before block `i`.
#[derive(Debug)]
pub(crate) struct LineTable {
    block: u64,
    prefix: Vec<u64>,
}

/// Reports a long scan's progress: bytes scanned so far and bytes to scan in all. Return `false` to
/// cancel the scan (the query then fails with [`VbufError::Cancelled`]).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64) -> bool;

/// The error for line counts that no longer agree with the bytes they were counted from: another
/// program changed a source's file since its table was built. Counts and bytes are both read from
/// storage, so their disagreement is an error to return, never an invariant to assert.
pub(crate) fn index_out_of_date<'a>(
    mut layers: impl Iterator<Item = &'a dyn PersistenceLayer> + Clone,
) -> VbufError {
    for layer in layers.clone() {
        if let Err(e) = layer.check_unchanged() {
            return e.into();
        }
    }
    // Changed without a trace in size, time or inode (a rewrite within the clock's resolution).
    let what = layers
        .find_map(|layer| layer.path().map(|p| p.display().to_string()))
        .unwrap_or_else(|| "the stored content".to_owned());
    PersistenceError::ExternallyChanged {
        what,
        detail: "its bytes no longer match the line index built from them".to_owned(),
    }
    .into()
}

pub(crate) fn count_lf(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Bytes `start..end` of a source, as a view when mapped, else read into `scratch`.
fn read_source<'a>(
    layer: &dyn PersistenceLayer,
    start: u64,
    end: u64,
    scratch: &'a mut Vec<u8>,
    view: &'a mut ZeroCopyBuffer,
) -> Result<&'a [u8], VbufError> {
    if layer.is_mapped() {
        *view = read_buffer_exact(layer, start, (end - start) as usize)?;
        return Ok(&view[..]);
    }
    if (scratch.capacity() as u64) < end - start {
        *scratch = zeroed(end - start, "a block read to count lines")?;
    }
    scratch.resize((end - start) as usize, 0);
    layer.read_at(start, scratch)?;
    Ok(&scratch[..])
}

impl LineTable {
    /// Scans the `len` bytes of `layer` in blocks of `block` bytes. `done` counts the bytes scanned
    /// (over every source of one query, of `total`), reported to `progress` every 256 blocks.
    pub(crate) fn build(
        layer: &dyn PersistenceLayer,
        len: u64,
        block: u64,
        done: &mut u64,
        total: u64,
        progress: Progress<'_>,
    ) -> Result<Self, VbufError> {
        let blocks = len.div_ceil(block);
        // One count per block, and a tiny block size makes a large file's table larger than memory.
        let failed =
            || VbufError::AllocationFailed { bytes: (blocks + 1).saturating_mul(8), what: "a line index" };
        let mut prefix = Vec::new();
        prefix.try_reserve_exact(usize::try_from(blocks + 1).map_err(|_| failed())?).map_err(|_| failed())?;
        prefix.push(0);
        let (mut scratch, mut view) = (Vec::new(), ZeroCopyBuffer::new());
        let mut count = 0;
        for i in 0..blocks {
            let (start, end) = (i * block, ((i + 1) * block).min(len));
            count += count_lf(read_source(layer, start, end, &mut scratch, &mut view)?);
            prefix.push(count);
            *done += end - start;
            if (i % 256 == 255 || end == len) && !progress(*done, total) {
                return Err(VbufError::Cancelled);
            }
        }
        Ok(LineTable { block, prefix })
    }

    /// The bytes of a block.
    pub(crate) fn block(&self) -> u64 {
        self.block
    }

    /// LFs in the blocks before block `index`; `None` past the last block.
    pub(crate) fn before_block(&self, index: u64) -> Option<u64> {
        usize::try_from(index).ok().and_then(|i| self.prefix.get(i)).copied()
    }

    /// LFs in `0..offset` of the source (`offset` at most the source's length).
    pub(crate) fn before(&self, layer: &dyn PersistenceLayer, offset: u64) -> Result<u64, VbufError> {
        let i = offset / self.block;
        let block_start = i * self.block;
        let (mut scratch, mut view) = (Vec::new(), ZeroCopyBuffer::new());
        let partial = if offset > block_start {
            count_lf(read_source(layer, block_start, offset, &mut scratch, &mut view)?)
        } else {
            0
        };
        let whole = usize::try_from(i).ok().and_then(|i| self.prefix.get(i));
        Ok(whole.ok_or_else(|| index_out_of_date(std::iter::once(layer)))? + partial)
    }

    /// Offset of the LF that brings the count of LFs in `0..=offset` to `nth` (1-based) in the source,
    /// looking only at `from..` where it must lie.
    ///
    /// The table and the bytes read now agree unless the file changed since the table was built;
    /// where they disagree (no such block, fewer LFs than counted) this fails with
    /// [`index_out_of_date`].
    pub(crate) fn nth(
        &self,
        layer: &dyn PersistenceLayer,
        len: u64,
        from: u64,
        nth: u64,
    ) -> Result<u64, VbufError> {
        let out_of_date = || index_out_of_date(std::iter::once(layer));
        // The block holding it: the last block whose preceding LFs are fewer than `nth`. `prefix[0]`
        // is 0 and `nth` at least 1, so there is one; past the last block the table has no LF left.
        let i = self.prefix.partition_point(|&c| c < nth).saturating_sub(1) as u64;
        let start = (i * self.block).max(from);
        let end = ((i + 1) * self.block).min(len);
        if start >= end {
            return Err(out_of_date());
        }
        let (mut scratch, mut view) = (Vec::new(), ZeroCopyBuffer::new());
        let before = self.before(layer, start)?;
        let k = nth.checked_sub(before + 1).ok_or_else(out_of_date)?;
        let bytes = read_source(layer, start, end, &mut scratch, &mut view)?;
        let at = usize::try_from(k)
            .ok()
            .and_then(|k| memchr::memchr_iter(b'\n', bytes).nth(k))
            .ok_or_else(out_of_date)?;
        Ok(start + at as u64)
    }
}
