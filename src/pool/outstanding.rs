//! Records of checked-out buffers, for finding buffers that are never released.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::config::PoolClass;
use crate::platform::time::{Duration, Instant};

/// A buffer checked out of a pool and not yet released, as [`BufferPool::outstanding`] reports it.
///
/// ```
/// use omnibuf::BufferPool;
///
/// let pool = BufferPool::builder().track_outstanding(true).build().unwrap();
/// let held = pool.tenant("decoder").try_acquire(100).unwrap();
/// let out = pool.outstanding().unwrap();
/// assert_eq!(out[0].tenant.as_deref(), Some("decoder"));
/// assert_eq!(out[0].class.size(), held.capacity());
/// ```
///
/// [`BufferPool::outstanding`]: super::BufferPool::outstanding
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutstandingBuffer {
    /// The tenant the buffer was acquired for, if any.
    pub tenant: Option<String>,
    /// Its size class.
    pub class: PoolClass,
    /// How long ago it was acquired.
    pub age: Duration,
}

struct Record {
    tenant: Option<Arc<str>>,
    class_size: usize,
    since: Instant,
}

#[derive(Default)]
pub(crate) struct Outstanding {
    next_id: AtomicU64,
    live: Mutex<HashMap<u64, Record>>,
}

impl Outstanding {
    /// Records a checkout; the id is what `untrack` takes.
    pub(crate) fn track(&self, class_size: usize, tenant: Option<Arc<str>>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let record = Record { tenant, class_size, since: Instant::now() };
        self.live.lock().unwrap_or_else(|e| e.into_inner()).insert(id, record);
        id
    }

    pub(crate) fn untrack(&self, id: u64) {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }

    /// Every buffer still out, oldest first.
    pub(crate) fn list(&self) -> Vec<OutstandingBuffer> {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let mut records: Vec<&Record> = live.values().collect();
        records.sort_by_key(|r| r.since);
        records
            .into_iter()
            .map(|r| OutstandingBuffer {
                tenant: r.tenant.as_deref().map(str::to_owned),
                class: PoolClass::new(r.class_size),
                age: r.since.elapsed(),
            })
            .collect()
    }

    /// When the last pool handle drops with buffers still out, say so on standard error: that is
    /// usually a leak. (The buffers stay valid; their memory is freed when they drop.)
    pub(crate) fn report_at_close(&self) {
        let list = self.list();
        if list.is_empty() {
            return;
        }
        eprintln!("omnibuf: a BufferPool was dropped with {} buffer(s) still checked out:", list.len());
        for b in list.iter().take(16) {
            eprintln!(
                "omnibuf:   class {:?}, tenant {}, acquired {:?} ago",
                b.class,
                b.tenant.as_deref().unwrap_or("(none)"),
                b.age
            );
        }
    }
}
