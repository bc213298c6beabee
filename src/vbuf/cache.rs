//! The block cache: loaded regions of the sources, with a byte budget, dirty tracking and LRU eviction.
//!
//! Blocks are fixed-size and aligned in their source, keyed by `(source, block index)`. A *clean* block
//! is a copy of bytes that also live elsewhere (a file region) and may be evicted at any time. A *dirty*
//! block holds the only copy of its bytes (a full add-buffer block not yet spilled to the side file): it
//! is never evicted, only written back and then marked clean. Both lists are kept in
//! least-recently-used order, so eviction and write-back take the oldest first in O(log n).

use std::collections::{BTreeMap, HashMap};

use super::tree::SourceId;
use crate::ZeroCopyBuffer;

/// A block of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct BlockKey {
    pub(crate) source: SourceId,
    pub(crate) index: u64,
}

#[derive(Debug)]
struct Entry {
    data: ZeroCopyBuffer,
    dirty: bool,
    /// Position in `clean_lru` or `dirty_lru`.
    tick: u64,
}

/// Cache counters, reported by [`VirtualBuffer::stats`](super::VirtualBuffer::stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CacheCounters {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) evictions: u64,
}

#[derive(Debug)]
pub(crate) struct Cache {
    entries: HashMap<BlockKey, Entry>,
    clean_lru: BTreeMap<u64, BlockKey>,
    dirty_lru: BTreeMap<u64, BlockKey>,
    clean_bytes: usize,
    dirty_bytes: usize,
    /// Most clean bytes kept (dirty bytes are bounded by the spill threshold instead).
    budget: usize,
    tick: u64,
    pub(crate) counters: CacheCounters,
}

impl Cache {
    pub(crate) fn new(budget: usize) -> Cache {
        Cache {
            entries: HashMap::new(),
            clean_lru: BTreeMap::new(),
            dirty_lru: BTreeMap::new(),
            clean_bytes: 0,
            dirty_bytes: 0,
            budget,
            tick: 0,
            counters: CacheCounters::default(),
        }
    }

    pub(crate) fn clean_bytes(&self) -> usize {
        self.clean_bytes
    }

    pub(crate) fn dirty_bytes(&self) -> usize {
        self.dirty_bytes
    }

    /// The block, if cached; marks it most recently used.
    pub(crate) fn get(&mut self, key: BlockKey) -> Option<ZeroCopyBuffer> {
        self.tick += 1;
        let tick = self.tick;
        let Some(entry) = self.entries.get_mut(&key) else {
            self.counters.misses += 1;
            return None;
        };
        self.counters.hits += 1;
        let lru = if entry.dirty { &mut self.dirty_lru } else { &mut self.clean_lru };
        lru.remove(&entry.tick);
        lru.insert(tick, key);
        entry.tick = tick;
        Some(entry.data.clone())
    }

    /// Adds a block. Clean blocks may push older clean blocks out (never the one just added);
    /// dirty blocks stay until [`mark_clean`](Self::mark_clean).
    pub(crate) fn insert(&mut self, key: BlockKey, data: ZeroCopyBuffer, dirty: bool) {
        self.remove(key);
        self.tick += 1;
        let len = data.len();
        if dirty {
            self.dirty_bytes += len;
            self.dirty_lru.insert(self.tick, key);
        } else {
            self.clean_bytes += len;
            self.clean_lru.insert(self.tick, key);
        }
        self.entries.insert(key, Entry { data, dirty, tick: self.tick });
        self.evict_to_budget(Some(key));
    }

    /// The least recently used dirty block, to be written back.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))] // nothing spills on wasm
    pub(crate) fn oldest_dirty(&self) -> Option<(BlockKey, ZeroCopyBuffer)> {
        let (_, &key) = self.dirty_lru.first_key_value()?;
        Some((key, self.entries[&key].data.clone()))
    }

    /// Marks a dirty block as written back: from now on it may be evicted.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) fn mark_clean(&mut self, key: BlockKey) {
        let Some(entry) = self.entries.get_mut(&key) else { return };
        if !entry.dirty {
            return;
        }
        entry.dirty = false;
        self.dirty_lru.remove(&entry.tick);
        self.clean_lru.insert(entry.tick, key);
        let len = entry.data.len();
        self.dirty_bytes -= len;
        self.clean_bytes += len;
        self.evict_to_budget(None);
    }

    /// Drops every block of `source` (one the buffer no longer reads).
    pub(crate) fn forget_source(&mut self, source: SourceId) {
        let keys: Vec<BlockKey> = self.entries.keys().copied().filter(|key| key.source == source).collect();
        for key in keys {
            self.remove(key);
        }
    }

    /// Drops a block; returns whether it was dirty, or `None` when it was not cached.
    pub(crate) fn remove(&mut self, key: BlockKey) -> Option<bool> {
        let old = self.entries.remove(&key)?;
        if old.dirty {
            self.dirty_lru.remove(&old.tick);
            self.dirty_bytes -= old.data.len();
        } else {
            self.clean_lru.remove(&old.tick);
            self.clean_bytes -= old.data.len();
        }
        Some(old.dirty)
    }

    fn evict_to_budget(&mut self, keep: Option<BlockKey>) {
        while self.clean_bytes > self.budget {
            let Some((_, &key)) = self.clean_lru.first_key_value() else { break };
            if Some(key) == keep {
                break;
            }
            self.remove(key);
            self.counters.evictions += 1;
        }
    }

    /// Checks the books: byte totals match the entries and every entry is in exactly one list.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let clean: usize = self.entries.values().filter(|e| !e.dirty).map(|e| e.data.len()).sum();
        let dirty: usize = self.entries.values().filter(|e| e.dirty).map(|e| e.data.len()).sum();
        assert_eq!((clean, dirty), (self.clean_bytes, self.dirty_bytes));
        assert_eq!(self.clean_lru.len() + self.dirty_lru.len(), self.entries.len());
        for (key, e) in &self.entries {
            let lru = if e.dirty { &self.dirty_lru } else { &self.clean_lru };
            assert_eq!(lru.get(&e.tick), Some(key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BufferKind;

    fn block(n: usize) -> ZeroCopyBuffer {
        ZeroCopyBuffer::from_bytes(vec![7; n], BufferKind::raw())
    }

    fn key(index: u64) -> BlockKey {
        BlockKey { source: 1, index }
    }

    #[test]
    fn evicts_least_recently_used_clean_blocks_and_never_dirty_ones() {
        let mut c = Cache::new(30);
        c.insert(key(0), block(10), false);
        c.insert(key(1), block(10), true);
        c.insert(key(2), block(10), false);
        c.insert(key(3), block(10), false);
        assert!(c.get(key(0)).is_some(), "0 becomes the most recently used");
        c.insert(key(4), block(10), false);
        c.check_invariants();
        assert!(c.get(key(2)).is_none(), "2 was the least recently used clean block");
        assert!(c.get(key(1)).is_some(), "dirty blocks are not evicted");
        assert_eq!((c.clean_bytes(), c.dirty_bytes()), (30, 10));
        assert_eq!(c.oldest_dirty().unwrap().0, key(1));
        c.mark_clean(key(1));
        c.check_invariants();
        assert_eq!(c.dirty_bytes(), 0);
        assert!(c.clean_bytes() <= 30);
        assert_eq!(c.counters.evictions, 2);
    }
}
