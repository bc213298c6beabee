//! The virtual buffer over documents in the browser's IndexedDB, in real Chromium: import, open, read,
//! edit, save and reopen against a model; a save aborted before its commit leaves the old version; a
//! document saved by another buffer is not overwritten unless forced; Blobs import in batches; old
//! blocks are collected.

use omnibuf::testing::indexed_db::{self, CommitFault, StoreError};
use omnibuf::vbuf::{ImportSource, StoredBuffer, StoredError, VirtualBufferOptions, SCAN_WINDOW};
use wasm_bindgen_test::wasm_bindgen_test;

/// Deterministic pseudo-random numbers (a 64-bit LCG): the same sequence on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

fn numbered_lines(n: usize) -> Vec<u8> {
    (0..n).flat_map(|i| format!("line {i:06} of the document\n").into_bytes()).collect()
}

async fn content(buffer: &StoredBuffer) -> Vec<u8> {
    buffer.read(..).await.unwrap().to_vec()
}

async fn stored(name: &str) -> Vec<u8> {
    let reopened = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    content(&reopened).await
}

#[wasm_bindgen_test]
async fn edits_saves_and_reopens_match_a_model() {
    let name = "model";
    let mut model = numbered_lines(400); // about 11 KiB: 44 blocks of 256 bytes
    StoredBuffer::import(name, ImportSource::Bytes(&model), 256).await.unwrap();
    let options = VirtualBufferOptions { cache_budget: 2048, ..VirtualBufferOptions::default() };
    let buffer = StoredBuffer::open(name, options).await.unwrap();
    assert_eq!(buffer.name().as_deref(), Some(name));
    let mut rng = Lcg(7);
    for step in 0..60 {
        let len = model.len() as u64;
        match rng.below(6) {
            0 | 1 => {
                let at = rng.below(len + 1);
                let text = format!("<{step}>").repeat(rng.below(40) as usize + 1);
                buffer.buffer().insert(at, text.as_bytes()).unwrap();
                model.splice(at as usize..at as usize, text.bytes());
            }
            2 => {
                let start = rng.below(len + 1);
                let end = (start + rng.below(700)).min(len);
                buffer.buffer().delete(start..end).unwrap();
                model.drain(start as usize..end as usize);
            }
            3 => {
                let start = rng.below(len + 1);
                let end = (start + rng.below(600)).min(len);
                let read = buffer.read(start..end).await.unwrap();
                assert_eq!(&read[..], &model[start as usize..end as usize], "read at step {step}");
                // A read keeps the blocks it needs (at most 4 of 256 bytes) and trims the rest to the budget.
                assert!(
                    buffer.loaded_bytes() <= 2048 + 1024,
                    "{} bytes loaded after a read",
                    buffer.loaded_bytes()
                );
            }
            4 => {
                buffer.save(false).await.unwrap();
                assert!(!buffer.buffer().is_modified());
                assert_eq!(stored(name).await, model, "stored after the save at step {step}");
            }
            _ => {
                let at = rng.below(len.saturating_sub(12));
                let pattern = &model[at as usize..(at as usize + 12).min(model.len())].to_vec();
                let hit = buffer.find(pattern, 0..len).await.unwrap();
                let expected = model.windows(pattern.len()).position(|w| w == &pattern[..]).map(|p| p as u64);
                assert_eq!(hit, expected, "find at step {step}");
            }
        }
    }
    buffer.save(false).await.unwrap();
    assert_eq!(stored(name).await, model);
    assert_eq!(content(&buffer).await, model);
    StoredBuffer::delete(name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_small_edit_rewrites_one_block_and_keeps_the_rest() {
    let name = "small-edit";
    let original = numbered_lines(1000); // 27 KiB in 1 KiB blocks
    StoredBuffer::import(name, ImportSource::Bytes(&original), 1024).await.unwrap();
    let before = indexed_db::read_meta(name).await.unwrap().unwrap();
    let buffer = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    buffer.buffer().replace(10_000..10_004, b"LINE").unwrap();
    buffer.save(false).await.unwrap();
    let after = indexed_db::read_meta(name).await.unwrap().unwrap();
    assert_eq!(after.generation, before.generation + 1);
    let kept = after.table.ids().iter().filter(|id| before.table.ids().contains(id)).count();
    assert_eq!(kept, before.table.block_count() - 1, "only the edited block is written again");
    assert_eq!(after.garbage.len(), 1, "the replaced block is garbage");

    // Opening collects it, once no buffer reads the version that used it.
    drop(buffer);
    let garbage = after.garbage[0].id;
    let mut expected = original.clone();
    expected[10_000..10_004].copy_from_slice(b"LINE");
    assert_eq!(stored(name).await, expected);
    assert!(indexed_db::read_meta(name).await.unwrap().unwrap().garbage.is_empty());
    let gone = indexed_db::read_blocks(name, [garbage].into_iter()).await;
    assert!(matches!(gone, Err(StoreError::Persistence(_))), "the garbage block is deleted");
    StoredBuffer::delete(name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_save_aborted_before_its_commit_leaves_the_old_version() {
    let name = "aborted";
    let original = numbered_lines(300);
    StoredBuffer::import(name, ImportSource::Bytes(&original), 512).await.unwrap();
    let buffer = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    buffer.buffer().insert(0, b"new first line\n").unwrap();
    buffer.buffer().delete(5000..6000).unwrap();
    let result = buffer.save_with_fault(CommitFault::AbortBeforeCommit).await;
    assert!(matches!(result, Err(StoredError::Store(StoreError::Aborted(_)))), "{result:?}");
    assert_eq!(stored(name).await, original, "the stored document is the old version");
    assert!(buffer.buffer().is_modified(), "the edits are intact");

    // The same buffer saves for real afterwards.
    let mut expected = b"new first line\n".to_vec();
    expected.extend_from_slice(&original);
    expected.drain(5000..6000);
    buffer.save(false).await.unwrap();
    assert_eq!(stored(name).await, expected);
    StoredBuffer::delete(name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_document_saved_elsewhere_is_not_overwritten_unless_forced() {
    let name = "two-writers";
    StoredBuffer::import(name, ImportSource::Bytes(b"ours\n"), 64).await.unwrap();
    let mine = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    let theirs = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    theirs.buffer().insert(0, b"theirs: ").unwrap();
    theirs.save(false).await.unwrap();
    mine.buffer().insert(0, b"mine: ").unwrap();
    let refused = mine.save(false).await;
    assert!(matches!(refused, Err(StoredError::Store(StoreError::Changed { .. }))), "{refused:?}");
    assert_eq!(stored(name).await, b"theirs: ours\n");
    mine.save(true).await.unwrap();
    assert_eq!(stored(name).await, b"mine: ours\n");
    StoredBuffer::delete(name).await.unwrap();
}

#[wasm_bindgen_test]
async fn blobs_import_in_batches_and_export_whole() {
    let name = "blob";
    // Larger than one write batch, so the import takes several transactions before its commit.
    let data: Vec<u8> = (0..9 << 20).map(|i: u32| (i % 251) as u8).collect();
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(&data[..]));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap();
    StoredBuffer::import(name, ImportSource::Blob(&blob), 64 << 10).await.unwrap();
    let meta = indexed_db::read_meta(name).await.unwrap().unwrap();
    assert_eq!(meta.table.len(), data.len() as u64);
    assert_eq!(meta.table.block_count(), data.len().div_ceil(64 << 10));

    let exported = StoredBuffer::export(name).await.unwrap();
    let bytes = wasm_bindgen_futures::JsFuture::from(exported.array_buffer()).await.unwrap();
    assert!(js_sys::Uint8Array::new(&bytes).to_vec() == data, "the export is the imported bytes");
    let listed = StoredBuffer::list().await.unwrap();
    assert!(listed.contains(&(name.to_string(), data.len() as u64)));

    // Save-as to another document copies every block (in several transactions, past a write batch),
    // and leaves the original alone.
    let buffer = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    buffer.buffer().insert(1 << 20, b"inserted").unwrap();
    buffer.save_as("blob-copy").await.unwrap();
    assert_eq!(buffer.name().as_deref(), Some("blob-copy"));
    let mut edited = data.clone();
    edited.splice(1 << 20..1 << 20, b"inserted".iter().copied());
    assert!(stored("blob-copy").await == edited, "the copy has the edit");
    assert!(stored(name).await == data, "the original is unchanged");
    for doc in [name, "blob-copy"] {
        StoredBuffer::delete(doc).await.unwrap();
        assert!(indexed_db::read_meta(doc).await.unwrap().is_none());
    }
}

#[wasm_bindgen_test]
async fn find_and_lines_scan_across_windows() {
    let name = "windows";
    let mut text = numbered_lines(((SCAN_WINDOW as usize) * 2 + 1000) / 27);
    // A match that straddles the first window's end.
    let at = SCAN_WINDOW as usize - 3;
    text[at..at + 7].copy_from_slice(b"NEEDLE!");
    StoredBuffer::import(name, ImportSource::Bytes(&text), 64 << 10).await.unwrap();
    let options = VirtualBufferOptions { cache_budget: 1 << 20, ..VirtualBufferOptions::default() };
    let buffer = StoredBuffer::open(name, options).await.unwrap();
    let len = text.len() as u64;
    assert_eq!(buffer.find(b"NEEDLE!", ..).await.unwrap(), Some(at as u64));
    assert_eq!(buffer.find(b"NEEDLE!", at as u64 + 1..len).await.unwrap(), None);
    let lfs = text.iter().filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(buffer.line_count().await.unwrap(), lfs + 1);
    let nth = text.iter().enumerate().filter(|(_, &b)| b == b'\n').nth(200_000).unwrap().0 as u64;
    assert_eq!(buffer.line_to_offset(200_001).await.unwrap(), nth + 1);
    assert_eq!(buffer.offset_to_line(nth + 1).await.unwrap(), 200_001);
    assert!(buffer.line_to_offset(lfs + 1).await.is_err());
    assert!(buffer.loaded_bytes() <= (1 << 20) + SCAN_WINDOW as usize + (128 << 10), "scans stay bounded");
    StoredBuffer::delete(name).await.unwrap();
}

/// Runs `body` as the body of a JS function returning a Promise, and awaits it.
async fn js_promise(body: &str) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    let promise = js_sys::Function::new_no_args(body).call0(&wasm_bindgen::JsValue::NULL)?;
    wasm_bindgen_futures::JsFuture::from(promise.unchecked_into::<js_sys::Promise>()).await
}

#[wasm_bindgen_test]
async fn an_open_connection_never_blocks_an_upgrade_and_a_newer_database_is_a_clear_error() {
    StoredBuffer::import("versions", ImportSource::Bytes(b"kept"), 64).await.unwrap();
    // Another context upgrades the database while this one has it open: this one closes, so the
    // upgrade goes through instead of being blocked.
    let upgrade = js_promise(
        "return new Promise((resolve, reject) => {
           const open = indexedDB.open('omnibuf', 2);
           open.onsuccess = () => { open.result.close(); resolve('upgraded'); };
           open.onblocked = () => resolve('blocked');
           open.onerror = () => reject(open.error);
         });",
    )
    .await
    .unwrap();
    assert_eq!(upgrade.as_string().as_deref(), Some("upgraded"));
    // This (older) code cannot open the newer database: an error that says why, not a hang.
    let newer = indexed_db::read_meta("versions").await;
    let message = newer.expect_err("version 1 of a version 2 database").to_string();
    assert!(message.contains("VersionError"), "{message}");
    // Back to a database this code knows.
    let deleted = js_promise(
        "return new Promise((resolve, reject) => {
           const d = indexedDB.deleteDatabase('omnibuf');
           d.onsuccess = () => resolve('deleted');
           d.onblocked = () => resolve('blocked');
           d.onerror = () => reject(d.error);
         });",
    )
    .await
    .unwrap();
    assert_eq!(deleted.as_string().as_deref(), Some("deleted"));
    assert!(indexed_db::read_meta("versions").await.unwrap().is_none());
}

// ── failed writes leave nothing behind ──────────────────────────────────────────────────────────────

/// The ids of the blocks stored for `name`, sorted.
async fn block_ids(name: &str) -> Vec<u64> {
    let mut ids = indexed_db::stored_block_ids(name).await.unwrap();
    ids.sort_unstable();
    ids
}

/// The ids the stored version of `name` uses, sorted (none for no document).
async fn used_ids(name: &str) -> Vec<u64> {
    let mut ids = indexed_db::read_meta(name).await.unwrap().map_or(Vec::new(), |m| m.table.ids().to_vec());
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Bytes of several write batches, so an import writes blocks in transactions before its commit.
fn several_batches() -> Vec<u8> {
    (0..20 << 20).map(|i: u32| (i % 241) as u8).collect()
}

#[wasm_bindgen_test]
async fn an_import_stopped_by_the_quota_leaves_no_blocks() {
    let name = "quota-import";
    let data = several_batches();
    // Stopped at each of its write transactions in turn: the first batch, a later one, the commit.
    for after in [0, 1, 2] {
        indexed_db::inject_quota_fault(Some(after));
        let result = StoredBuffer::import(name, ImportSource::Bytes(&data), 64 << 10).await;
        indexed_db::inject_quota_fault(None);
        assert!(matches!(result, Err(StoredError::Store(StoreError::QuotaExceeded(_)))), "{result:?}");
        assert!(indexed_db::read_meta(name).await.unwrap().is_none(), "no document after {after}");
        assert!(!StoredBuffer::list().await.unwrap().iter().any(|(n, _)| n == name));
        assert_eq!(block_ids(name).await, Vec::<u64>::new(), "blocks left, stopped after {after}");
    }
}

#[wasm_bindgen_test]
async fn an_import_over_a_document_stopped_by_the_quota_leaves_the_old_version_and_only_its_blocks() {
    let name = "quota-reimport";
    let old = numbered_lines(2000);
    StoredBuffer::import(name, ImportSource::Bytes(&old), 1024).await.unwrap();
    let before = block_ids(name).await;
    assert_eq!(before, used_ids(name).await);
    let data = several_batches();
    for after in [0, 2] {
        indexed_db::inject_quota_fault(Some(after));
        let result = StoredBuffer::import(name, ImportSource::Bytes(&data), 64 << 10).await;
        indexed_db::inject_quota_fault(None);
        assert!(matches!(result, Err(StoredError::Store(StoreError::QuotaExceeded(_)))), "{result:?}");
        assert_eq!(block_ids(name).await, before, "stopped after {after}");
        assert_eq!(stored(name).await, old);
    }
    StoredBuffer::delete(name).await.unwrap();
    assert_eq!(block_ids(name).await, Vec::<u64>::new());
}

#[wasm_bindgen_test]
async fn an_import_that_fails_otherwise_leaves_no_blocks() {
    let name = "changed-import";
    let old = numbered_lines(1500);
    StoredBuffer::import(name, ImportSource::Bytes(&old), 1024).await.unwrap();
    // A writer that takes no lock (another program, or a context without Web Locks) changes the
    // document while the import runs, so the import's commit is refused after its batches are
    // written: a failure that is not the quota's.
    let data = several_batches();
    let import = StoredBuffer::import(name, ImportSource::Bytes(&data), 64 << 10);
    let (ours, theirs) = futures_join(import, bump_generation_midway(name)).await;
    theirs.unwrap();
    assert!(matches!(ours, Err(StoredError::Store(StoreError::Changed { .. }))), "{ours:?}");
    assert_eq!(stored(name).await, old);
    assert_eq!(block_ids(name).await, used_ids(name).await, "only the committed version's blocks");
    StoredBuffer::delete(name).await.unwrap();
}

/// Once a block past the next id of document `name` is stored (a save or import is under way), adds
/// one to the generation of its record, without the document's lock.
async fn bump_generation_midway(name: &str) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
    js_promise(&format!(
        "return new Promise((resolve, reject) => {{
           const open = indexedDB.open('omnibuf');
           open.onerror = () => reject(open.error);
           open.onsuccess = () => {{
             const db = open.result;
             const poll = () => {{
               const tx = db.transaction(['documents', 'blocks'], 'readwrite');
               tx.onerror = () => reject(tx.error);
               const documents = tx.objectStore('documents');
               const get = documents.get('{name}');
               get.onsuccess = () => {{
                 const record = get.result;
                 const count = tx.objectStore('blocks').count(['{name}', record.nextId]);
                 count.onsuccess = () => {{
                   if (count.result === 0) {{
                     tx.oncomplete = () => setTimeout(poll, 1);
                   }} else {{
                     record.generation += 1;
                     documents.put(record, '{name}');
                     tx.oncomplete = () => {{ db.close(); resolve('bumped'); }};
                   }}
                 }};
               }};
             }};
             poll();
           }};
         }});"
    ))
    .await
}

/// Polls two futures on one thread until both are done (the test crate has no `futures`).
async fn futures_join<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> (A::Output, B::Output) {
    use std::pin::pin;
    use std::task::Poll;
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    std::future::poll_fn(|cx| {
        if out_a.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                out_a = Some(v);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                out_b = Some(v);
            }
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (out_a.unwrap(), out_b.unwrap())
}

#[wasm_bindgen_test]
async fn a_save_that_fails_leaves_the_old_version_and_only_its_blocks() {
    let name = "failed-save";
    let original = several_batches();
    StoredBuffer::import(name, ImportSource::Bytes(&original), 64 << 10).await.unwrap();
    let buffer = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    let before = block_ids(name).await;
    assert_eq!(before, used_ids(name).await);
    buffer.buffer().insert(0, b"new first line\n").unwrap();
    // Saved to its own document, the save keeps every whole block and writes one new block, in its
    // commit: stopped there by the quota, or aborted.
    indexed_db::inject_quota_fault(Some(0));
    let result = buffer.save(false).await;
    indexed_db::inject_quota_fault(None);
    assert!(matches!(result, Err(StoredError::Store(StoreError::QuotaExceeded(_)))), "{result:?}");
    assert_eq!(block_ids(name).await, before);
    let result = buffer.save_with_fault(CommitFault::AbortBeforeCommit).await;
    assert!(matches!(result, Err(StoredError::Store(StoreError::Aborted(_)))), "{result:?}");
    assert_eq!(block_ids(name).await, before);
    assert!(stored(name).await == original, "the stored document is the old version");
    // Saved as another document, it copies every block, in several transactions: stopped by the
    // quota at the first, at a later one and at the commit.
    let copy = "failed-save-copy";
    for after in [0, 1, 2] {
        indexed_db::inject_quota_fault(Some(after));
        let result = buffer.save_as(copy).await;
        indexed_db::inject_quota_fault(None);
        assert!(matches!(result, Err(StoredError::Store(StoreError::QuotaExceeded(_)))), "{result:?}");
        assert!(indexed_db::read_meta(copy).await.unwrap().is_none());
        assert_eq!(block_ids(copy).await, Vec::<u64>::new(), "save-as stopped after {after}");
    }
    assert_eq!(block_ids(name).await, before);
    assert_eq!(buffer.name().as_deref(), Some(name), "a failed save-as keeps the document");

    // The same buffer saves for real afterwards; opening collects the old version's blocks.
    buffer.save(false).await.unwrap();
    let mut expected = b"new first line\n".to_vec();
    expected.extend_from_slice(&original);
    assert!(stored(name).await == expected);
    assert_eq!(block_ids(name).await, used_ids(name).await);
    StoredBuffer::delete(name).await.unwrap();
}

// ── writers of one document ─────────────────────────────────────────────────────────────────────────

/// `original` with `insert` before it.
fn prefixed(insert: &[u8], original: &[u8]) -> Vec<u8> {
    [insert, original].concat()
}

/// More than a write batch of byte `b`, so a save of it writes blocks before its commit.
fn more_than_a_batch(b: u8) -> Vec<u8> {
    vec![b; 9 << 20]
}

#[wasm_bindgen_test]
async fn a_refused_save_leaves_the_version_saved_meanwhile_whole() {
    let name = "stale-save";
    let original = numbered_lines(3000);
    StoredBuffer::import(name, ImportSource::Bytes(&original), 64 << 10).await.unwrap();
    let mine = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    let theirs = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    let (m, t) = (more_than_a_batch(b'm'), more_than_a_batch(b't'));
    theirs.buffer().insert(0, &t).unwrap();
    theirs.save(false).await.unwrap();
    // Both buffers start their fresh blocks past the same next id: the refused save must not have
    // written any of them over the blocks of the version saved meanwhile.
    mine.buffer().insert(0, &m).unwrap();
    let refused = mine.save(false).await;
    assert!(matches!(refused, Err(StoredError::Store(StoreError::Changed { .. }))), "{refused:?}");
    assert!(stored(name).await == prefixed(&t, &original), "the version saved meanwhile is intact");
    assert_eq!(block_ids(name).await, used_ids(name).await);
    // Forced, the stale buffer replaces it; then only the new version's blocks stay.
    mine.save(true).await.unwrap();
    drop((mine, theirs));
    assert!(stored(name).await == prefixed(&m, &original));
    assert_eq!(block_ids(name).await, used_ids(name).await);
    StoredBuffer::delete(name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_document_deleted_and_created_again_is_another_document() {
    let name = "recreated";
    let original = numbered_lines(2000);
    StoredBuffer::import(name, ImportSource::Bytes(&original), 1024).await.unwrap();
    let stale = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    assert!(content(&stale).await == original); // every block loaded
                                                // Deleted and imported again: its generation and block ids start again, as the stale buffer's.
    StoredBuffer::delete(name).await.unwrap();
    let other = numbered_lines(2000).to_ascii_uppercase();
    StoredBuffer::import(name, ImportSource::Bytes(&other), 1024).await.unwrap();
    stale.buffer().insert(0, b"stale: ").unwrap();
    let refused = stale.save(false).await;
    assert!(matches!(refused, Err(StoredError::Store(StoreError::Changed { .. }))), "{refused:?}");
    assert!(stored(name).await == other);
    // Forced, it keeps none of the new document's blocks for its own, whose ids they share.
    stale.save(true).await.unwrap();
    drop(stale);
    assert!(stored(name).await == prefixed(b"stale: ", &original));
    assert_eq!(block_ids(name).await, used_ids(name).await);
    StoredBuffer::delete(name).await.unwrap();
}

#[wasm_bindgen_test]
async fn saves_and_imports_of_one_document_take_turns() {
    let name = "turns";
    let original = numbered_lines(3000);
    StoredBuffer::import(name, ImportSource::Bytes(&original), 64 << 10).await.unwrap();
    let a = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    let b = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    let (x, y) = (more_than_a_batch(b'a'), more_than_a_batch(b'b'));
    a.buffer().insert(0, &x).unwrap();
    b.buffer().insert(0, &y).unwrap();
    // Started together: the first to start saves, the other finds the document changed.
    let (first, second) = futures_join(a.save(false), b.save(false)).await;
    first.unwrap();
    assert!(matches!(second, Err(StoredError::Store(StoreError::Changed { .. }))), "{second:?}");
    assert!(stored(name).await == prefixed(&x, &original));
    assert_eq!(block_ids(name).await, used_ids(name).await);
    // An import, a forced save and a delete started together run one after the other.
    let data = several_batches();
    let (imported, (saved, deleted)) = futures_join(
        StoredBuffer::import(name, ImportSource::Bytes(&data), 64 << 10),
        futures_join(b.save(true), StoredBuffer::delete(name)),
    )
    .await;
    imported.unwrap();
    saved.unwrap();
    deleted.unwrap();
    assert!(indexed_db::read_meta(name).await.unwrap().is_none());
    // The blocks the two buffers read go with them.
    drop((a, b));
    assert!(until_no_blocks(name).await);
}

/// `future`'s output if it comes within `ms` milliseconds, else `None` (`future` is left part-run).
async fn within<F: std::future::Future>(future: std::pin::Pin<&mut F>, ms: u32) -> Option<F::Output> {
    use std::future::Future;
    use std::task::Poll;
    let mut future = future;
    let script = format!("return new Promise(r => setTimeout(r, {ms}))");
    let mut timer = std::pin::pin!(js_promise(&script));
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(out) => Poll::Ready(Some(out)),
        Poll::Pending => timer.as_mut().poll(cx).map(|_| None),
    })
    .await
}

/// Takes the Web Lock of document `name` as code in another tab would; `release_lock()` lets it go.
async fn lock_elsewhere(name: &str) {
    js_promise(&format!(
        "return new Promise(granted => navigator.locks.request('omnibuf:indexeddb:{name}', () => {{
           granted();
           return new Promise(release => {{ globalThis.releaseLock = release; }});
         }}));"
    ))
    .await
    .unwrap();
}

async fn release_lock() {
    js_promise("globalThis.releaseLock(); return Promise.resolve();").await.unwrap();
}

#[wasm_bindgen_test]
async fn a_writer_waits_for_the_documents_lock_and_a_wait_given_up_holds_nobody_up() {
    let name = "locked";
    // Held by another tab: the import waits until it is let go.
    lock_elsewhere(name).await;
    let mut import = std::pin::pin!(StoredBuffer::import(name, ImportSource::Bytes(b"waited\n"), 64));
    assert!(within(import.as_mut(), 300).await.is_none(), "an import while the lock is held elsewhere");
    assert!(indexed_db::read_meta(name).await.unwrap().is_none());
    release_lock().await;
    import.await.unwrap();
    assert_eq!(stored(name).await, b"waited\n");

    // A save given up while it waits for the lock elsewhere lets go of it as soon as it has it.
    let buffer = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    buffer.buffer().insert(0, b"given up: ").unwrap();
    lock_elsewhere(name).await;
    {
        let mut save = std::pin::pin!(buffer.save(false));
        assert!(within(save.as_mut(), 50).await.is_none());
    }
    release_lock().await;
    drop(buffer);
    // And one given up while it waits behind a writer of this page.
    let data = several_batches();
    let mut long = std::pin::pin!(StoredBuffer::import(name, ImportSource::Bytes(&data), 64 << 10));
    assert!(within(long.as_mut(), 0).await.is_none());
    {
        let mut behind = std::pin::pin!(StoredBuffer::import(name, ImportSource::Bytes(b"given up\n"), 64));
        assert!(within(behind.as_mut(), 0).await.is_none());
    }
    long.await.unwrap();
    // Had either kept its lock, this would wait for ever.
    StoredBuffer::import(name, ImportSource::Bytes(b"last\n"), 64).await.unwrap();
    assert_eq!(stored(name).await, b"last\n");
    assert_eq!(block_ids(name).await, used_ids(name).await);
    StoredBuffer::delete(name).await.unwrap();
}

// ── versions in use ─────────────────────────────────────────────────────────────────────────────────

/// Opens document `name` (which collects its garbage) and returns its record after that.
async fn open_and_collect(name: &str) -> indexed_db::DocumentMeta {
    drop(StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap());
    indexed_db::read_meta(name).await.unwrap().unwrap()
}

/// Stores blocks `ids` of document `name` behind the store's back, as a save whose tab was closed
/// before its commit leaves them.
async fn store_uncommitted_blocks(name: &str, ids: &[u64]) {
    let ids = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    js_promise(&format!(
        "return new Promise((resolve, reject) => {{
           const open = indexedDB.open('omnibuf');
           open.onerror = () => reject(open.error);
           open.onsuccess = () => {{
             const tx = open.result.transaction('blocks', 'readwrite');
             for (const id of [{ids}]) tx.objectStore('blocks').put(new Uint8Array(64), ['{name}', id]);
             tx.oncomplete = () => {{ open.result.close(); resolve(); }};
             tx.onerror = () => reject(tx.error);
           }};
         }});"
    ))
    .await
    .unwrap();
}

#[wasm_bindgen_test]
async fn blocks_of_a_save_that_never_committed_go_at_the_next_open() {
    let name = "uncommitted";
    StoredBuffer::import(name, ImportSource::Bytes(&numbered_lines(100)), 64).await.unwrap();
    let next_id = indexed_db::read_meta(name).await.unwrap().unwrap().next_id;
    store_uncommitted_blocks(name, &[next_id, next_id + 7]).await;
    assert_ne!(block_ids(name).await, used_ids(name).await);
    let meta = open_and_collect(name).await;
    assert_eq!(meta.next_id, next_id, "nothing was committed");
    assert_eq!(block_ids(name).await, used_ids(name).await);
    assert_eq!(stored(name).await, numbered_lines(100));
    StoredBuffer::delete(name).await.unwrap();
}

/// Marks the current version of document `name` as read, as a buffer in another tab would: the
/// shared Web Lock of that version. `stop_reading_elsewhere()` lets go of it.
async fn read_elsewhere(name: &str) {
    let generation = indexed_db::read_meta(name).await.unwrap().unwrap().generation;
    js_promise(&format!(
        "return new Promise(granted => navigator.locks.request('omnibuf:indexeddb-version:{name}#{generation}',
           {{ mode: 'shared' }}, () => {{ granted(); return new Promise(r => {{ globalThis.releaseReader = r; }}); }}));"
    ))
    .await
    .unwrap();
}

async fn stop_reading_elsewhere() {
    js_promise("globalThis.releaseReader(); return Promise.resolve();").await.unwrap();
}

#[wasm_bindgen_test]
async fn blocks_of_a_version_a_buffer_reads_stay_until_it_is_dropped() {
    let name = "in-use";
    let original = numbered_lines(2000); // 54 KiB in 1 KiB blocks
    StoredBuffer::import(name, ImportSource::Bytes(&original), 1024).await.unwrap();
    // Opened at the first version and never read yet: every block it needs is still to be loaded.
    let reader = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    let writer = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    writer.buffer().replace(0..original.len() as u64, b"replaced\n").unwrap();
    writer.save(false).await.unwrap();
    let dropped = indexed_db::read_meta(name).await.unwrap().unwrap().garbage.len();
    assert!(dropped >= 50, "the first version's blocks are garbage ({dropped})");

    // Opening elsewhere collects garbage, but not the blocks of the first version, which the reader
    // (and the writer's undo history) still read.
    assert_eq!(open_and_collect(name).await.garbage.len(), dropped);
    assert!(content(&reader).await == original, "the reader reads the version it opened");
    assert!(writer.buffer().undo());
    assert!(content(&writer).await == original, "the writer's undo reaches the first version");
    drop((reader, writer));
    assert!(open_and_collect(name).await.garbage.is_empty(), "collected once nobody reads them");
    assert_eq!(block_ids(name).await, used_ids(name).await);

    // A reader in another tab holds the same mark: the shared Web Lock of the version it reads.
    read_elsewhere(name).await;
    StoredBuffer::import(name, ImportSource::Bytes(b"third\n"), 1024).await.unwrap();
    assert_eq!(open_and_collect(name).await.garbage.len(), 1, "the second version's block stays");
    stop_reading_elsewhere().await;
    assert!(open_and_collect(name).await.garbage.is_empty());
    assert_eq!(block_ids(name).await, used_ids(name).await);
    StoredBuffer::delete(name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_save_lets_go_of_the_versions_its_buffer_no_longer_reads() {
    let name = "let-go";
    let original = numbered_lines(2000);
    StoredBuffer::import(name, ImportSource::Bytes(&original), 1024).await.unwrap();
    let buffer = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    // An insert in the middle: its block is written again and the old one is garbage, which the
    // buffer does not read any more (undoing an insert needs no earlier version).
    buffer.buffer().insert(30_000, b"inserted\n").unwrap();
    buffer.save(false).await.unwrap();
    assert_eq!(buffer.buffer().stats().versions_held, 1);
    assert!(open_and_collect(name).await.garbage.is_empty(), "collected while the buffer lives");
    // A deletion: its undo reads the version it deleted from, so that version's garbage stays.
    buffer.buffer().delete(0..40_000).unwrap();
    buffer.save(false).await.unwrap();
    assert_eq!(buffer.buffer().stats().versions_held, 2);
    assert!(!open_and_collect(name).await.garbage.is_empty(), "kept for the undo");
    while buffer.buffer().undo() {}
    assert!(content(&buffer).await == original, "undone back to the opened version");
    drop(buffer);
    assert!(open_and_collect(name).await.garbage.is_empty());
    assert_eq!(block_ids(name).await, used_ids(name).await);
    StoredBuffer::delete(name).await.unwrap();
}

/// Waits (up to 5 s) until `name` has no blocks stored; whether it came to that.
async fn until_no_blocks(name: &str) -> bool {
    for _ in 0..100 {
        if block_ids(name).await.is_empty() {
            return true;
        }
        js_promise("return new Promise(r => setTimeout(r, 50))").await.unwrap();
    }
    false
}

#[wasm_bindgen_test]
async fn a_document_deleted_while_a_buffer_reads_it_stays_readable_to_that_buffer() {
    let name = "deleted-while-read";
    let original = numbered_lines(2000);
    StoredBuffer::import(name, ImportSource::Bytes(&original), 1024).await.unwrap();
    let old_next_id = indexed_db::read_meta(name).await.unwrap().unwrap().next_id;
    // Opened, nothing loaded, and then the document is deleted.
    let reader = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    StoredBuffer::delete(name).await.unwrap();
    assert!(indexed_db::read_meta(name).await.unwrap().is_none());
    assert!(!StoredBuffer::list().await.unwrap().iter().any(|(n, _)| n == name));
    let opened = StoredBuffer::open(name, VirtualBufferOptions::default()).await;
    assert!(matches!(opened, Err(StoredError::Store(StoreError::NotFound(_)))), "{:?}", opened.map(|_| ()));
    assert!(content(&reader).await == original, "the reader reads on");
    // The name is free; the new document's ids do not take the old ones'.
    StoredBuffer::import(name, ImportSource::Bytes(b"new\n"), 1024).await.unwrap();
    let new = indexed_db::read_meta(name).await.unwrap().unwrap();
    assert!(new.table.ids().iter().all(|&id| id >= old_next_id), "{:?}", new.table.ids());
    assert_eq!(stored(name).await, b"new\n");
    assert!(content(&reader).await == original, "still");
    drop(reader);
    assert!(open_and_collect(name).await.garbage.is_empty());
    assert_eq!(block_ids(name).await, used_ids(name).await);

    // Deleted again under a reader, which then goes: its blocks go with it.
    let reader = StoredBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    StoredBuffer::delete(name).await.unwrap();
    assert!(!block_ids(name).await.is_empty(), "kept for the reader");
    assert_eq!(content(&reader).await, b"new\n");
    drop(reader);
    assert!(until_no_blocks(name).await, "collected once the reader went");

    // A reader in another tab keeps them until the name is next written.
    StoredBuffer::import(name, ImportSource::Bytes(b"third\n"), 1024).await.unwrap();
    read_elsewhere(name).await;
    StoredBuffer::delete(name).await.unwrap();
    assert!(!block_ids(name).await.is_empty(), "kept for the other tab's reader");
    stop_reading_elsewhere().await;
    StoredBuffer::delete(name).await.unwrap();
    assert_eq!(block_ids(name).await, Vec::<u64>::new());
}

#[wasm_bindgen_test]
async fn a_metadata_record_that_does_not_add_up_is_an_error_when_opened() {
    let name = "corrupt-meta";
    StoredBuffer::import(name, ImportSource::Bytes(b"four"), 64).await.unwrap();
    // Records as another program (or devtools) might have written them: each field in turn wrong.
    for (field, value) in [
        ("blockSize", "0"),
        ("blockSize", "-1"),
        ("nextId", "NaN"),
        ("generation", "1.5"),
        ("lineage", "-1"),
        ("ids", "new Float64Array([-1])"),
        ("garbage", "new Float64Array([Infinity])"),
        ("garbageDroppedAt", "new Float64Array([1])"),
        ("length", "5"),
    ] {
        let script = format!(
            "return new Promise((resolve, reject) => {{
               const open = indexedDB.open('omnibuf');
               open.onsuccess = () => {{
                 const db = open.result;
                 const tx = db.transaction('documents', 'readwrite');
                 const documents = tx.objectStore('documents');
                 const get = documents.get('{name}');
                 get.onsuccess = () => {{ const r = get.result; r.{field} = {value}; documents.put(r, '{name}'); }};
                 tx.oncomplete = () => {{ db.close(); resolve('written'); }};
                 tx.onerror = () => reject(tx.error);
               }};
               open.onerror = () => reject(open.error);
             }});"
        );
        js_promise(&script).await.unwrap();
        let opened = StoredBuffer::open(name, VirtualBufferOptions::default()).await;
        assert!(
            matches!(opened, Err(StoredError::Store(StoreError::Persistence(_)))),
            "{field} = {value}: {:?}",
            opened.map(|b| b.buffer().len())
        );
        // An import over it refuses too (it reads the record); deleting it clears the way.
        assert!(StoredBuffer::import(name, ImportSource::Bytes(b"four"), 64).await.is_err());
        StoredBuffer::delete(name).await.unwrap();
        StoredBuffer::import(name, ImportSource::Bytes(b"four"), 64).await.unwrap();
    }
    StoredBuffer::delete(name).await.unwrap();
}
