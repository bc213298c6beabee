//! A snapshot: the content at one version, readable without holding the buffer's edit lock.

use std::sync::Mutex;

use super::error::{zeroed, VbufError};
use super::history::ContentId;
use super::store::{piece_chunk, source, Sources, Store};
use super::tree::{Piece, Tree, ADD_SOURCE};
use crate::{BufferKind, ZeroCopyBuffer};

/// The tree and sources of one version. Cloning is O(1); edits made later do not affect it.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) tree: Tree,
    pub(crate) sources: Sources,
    pub(crate) version: u64,
    /// The content's id in the edit history: a save of the snapshot makes it the saved content.
    pub(crate) content: ContentId,
}

impl Snapshot {
    pub(crate) fn len(&self) -> u64 {
        self.tree.len()
    }

    /// The chunk that holds byte `pos` and its start offset, or `None` at or past the end. A chunk
    /// lies inside one piece and one cache block (a window of a mapped file), and is a zero-copy view
    /// where the source allows.
    pub(crate) fn chunk_at(
        &self,
        store: &Mutex<Store>,
        pos: u64,
    ) -> Result<Option<(ZeroCopyBuffer, u64)>, VbufError> {
        let Some((piece, piece_start)) = self.tree.piece_at(pos) else { return Ok(None) };
        let (data, offset) = piece_chunk(store, &self.sources, piece, pos - piece_start)?;
        Ok(Some((data, piece_start + offset)))
    }

    /// Bytes `start..end` (in range): a zero-copy view when they lie in one chunk, else a copy.
    pub(crate) fn read(
        &self,
        store: &Mutex<Store>,
        start: u64,
        end: u64,
    ) -> Result<ZeroCopyBuffer, VbufError> {
        if start == end {
            return Ok(ZeroCopyBuffer::new());
        }
        let (piece, piece_start) = self.tree.piece_at(start).expect("start < end <= len");
        if let Some(direct) = self.read_directly(piece, piece_start, start, end)? {
            return Ok(direct);
        }
        let (chunk, offset) = piece_chunk(store, &self.sources, piece, start - piece_start)?;
        let chunk_start = piece_start + offset;
        // Compared as u64: on wasm32 a range past 4 GiB would wrap as a usize.
        if end - chunk_start <= chunk.len() as u64 {
            let (from, to) = ((start - chunk_start) as usize, (end - chunk_start) as usize);
            return Ok(chunk.slice(from..to));
        }
        let mut out = zeroed(end - start, "a read")?;
        self.read_into(store, start, &mut out)?;
        Ok(ZeroCopyBuffer::from_bytes(out, BufferKind::raw()))
    }

    /// Bytes `start..end` (in range, not empty, starting in `piece`, which starts at `piece_start`)
    /// read straight from their source's layer, when they lie in that piece and its layer
    /// [`reads_directly`]; `None` otherwise.
    ///
    /// [`reads_directly`]: crate::platform::persistence::PersistenceLayer::reads_directly
    fn read_directly(
        &self,
        piece: Piece,
        piece_start: u64,
        start: u64,
        end: u64,
    ) -> Result<Option<ZeroCopyBuffer>, VbufError> {
        if piece.source == ADD_SOURCE || end > piece_start + piece.len {
            return Ok(None);
        }
        let layer = &source(&self.sources, piece.source).layer;
        if !layer.reads_directly() {
            return Ok(None);
        }
        let mut out = zeroed(end - start, "a read")?;
        layer.read_at(piece.offset + (start - piece_start), &mut out)?;
        Ok(Some(ZeroCopyBuffer::from_bytes(out, BufferKind::raw())))
    }

    /// Fills `dst` with the bytes from `start` (the range is in bounds).
    pub(crate) fn read_into(
        &self,
        store: &Mutex<Store>,
        start: u64,
        dst: &mut [u8],
    ) -> Result<(), VbufError> {
        let mut pos = start;
        let mut filled = 0;
        while filled < dst.len() {
            let (chunk, chunk_start) = self.chunk_at(store, pos)?.expect("range checked by the caller");
            let from = (pos - chunk_start) as usize;
            let n = (chunk.len() - from).min(dst.len() - filled);
            dst[filled..filled + n].copy_from_slice(&chunk[from..from + n]);
            filled += n;
            pos += n as u64;
        }
        Ok(())
    }
}
