//! The virtual buffer over OPFS documents, in a dedicated worker of real Chromium: import, edit, save
//! and reopen against a model; saves interrupted before or during the switch leave the old version and
//! their leftovers are cleaned on the next open; changes by another buffer are not overwritten unless
//! forced; Blobs import in batches; list, export, delete; offsets past 4 GiB in a sparse file.

use omnibuf::vbuf::opfs::{self, js_offset, OpfsBuffer, OpfsError, SaveFault, MAX_OFFSET};
use omnibuf::vbuf::{ImportSource, VbufError, VirtualBuffer, VirtualBufferOptions};
use omnibuf::vbuf::{PersistenceError, PersistenceLayer};
use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
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

fn content(buffer: &VirtualBuffer) -> Vec<u8> {
    buffer.read(0..buffer.len()).unwrap().to_vec()
}

async fn stored(name: &str) -> Vec<u8> {
    content(OpfsBuffer::open(name, VirtualBufferOptions::default()).await.unwrap().buffer())
}

/// The data files of a document (everything but its header).
async fn data_files(name: &str) -> Vec<String> {
    opfs::document_files(name).await.unwrap().into_iter().filter(|f| f != "head").collect()
}

async fn fresh(name: &str, bytes: &[u8]) {
    opfs::delete(name).await.unwrap();
    opfs::import(name, ImportSource::Bytes(bytes)).await.unwrap();
}

fn small_blocks() -> VirtualBufferOptions {
    VirtualBufferOptions { block_size: 512, cache_budget: 4096, ..VirtualBufferOptions::default() }
}

#[wasm_bindgen_test]
async fn edits_saves_and_reopens_match_a_model() {
    let name = "model";
    let mut model = numbered_lines(2000); // about 56 KiB
    fresh(name, &model).await;
    let buffer = OpfsBuffer::open(name, small_blocks()).await.unwrap();
    let mut rng = Lcg(11);
    for step in 0..80 {
        let len = model.len() as u64;
        match rng.below(5) {
            0 | 1 => {
                let at = rng.below(len + 1);
                let text = format!("<{step}>").repeat(rng.below(300) as usize + 1);
                buffer.buffer().insert(at, text.as_bytes()).unwrap();
                model.splice(at as usize..at as usize, text.bytes());
            }
            2 => {
                let start = rng.below(len + 1);
                let end = (start + rng.below(3000)).min(len);
                buffer.buffer().delete(start..end).unwrap();
                model.drain(start as usize..end as usize);
            }
            3 => {
                let start = rng.below(len + 1);
                let end = (start + rng.below(5000)).min(len);
                // Synchronous, straight from the file: no loading step.
                assert_eq!(
                    &buffer.buffer().read(start..end).unwrap()[..],
                    &model[start as usize..end as usize]
                );
            }
            _ => {
                buffer.save(false).await.unwrap();
                assert!(!buffer.buffer().is_modified());
                assert_eq!(content(buffer.buffer()), model, "buffer after the save at step {step}");
                assert_eq!(stored(name).await, model, "stored after the save at step {step}");
            }
        }
    }
    // Undo reaches back into versions older than the last save: their files stay readable while the
    // buffer lives, however many saves came after.
    while buffer.buffer().undo() {}
    assert_eq!(content(buffer.buffer()), numbered_lines(2000));
    buffer.save(false).await.unwrap();
    drop(buffer);
    assert_eq!(stored(name).await, numbered_lines(2000));
    // With no buffer open, the next open leaves the current version and one prepared file.
    let reopened = opfs::open_layer(name).await.unwrap();
    assert_eq!(data_files(name).await.len(), 2, "{:?}", data_files(name).await);
    drop(reopened);
}

#[wasm_bindgen_test]
async fn the_layer_saves_synchronously_once_a_file_is_prepared() {
    let name = "sync-save";
    fresh(name, b"hello world").await;
    let buffer = OpfsBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    buffer.buffer().replace(0..5, b"goodbye").unwrap();
    // Opening prepared a file: VirtualBuffer's own synchronous save works.
    buffer.buffer().save().unwrap();
    buffer.buffer().insert(0, b"> ").unwrap();
    // The next file is created asynchronously: without it the save refuses and changes nothing.
    match buffer.buffer().save() {
        Err(VbufError::Persistence(PersistenceError::Unsupported(_))) => {}
        other => panic!("expected Unsupported, got {other:?}"),
    }
    assert!(buffer.buffer().is_modified());
    // (Opening the document prepares a file for its next save, too.)
    assert_eq!(stored(name).await, b"goodbye world");
    buffer.save(false).await.unwrap();
    assert_eq!(stored(name).await, b"> goodbye world");
}

async fn interrupted_save_keeps_the_old_version(name: &str, fault: SaveFault) {
    let old = numbered_lines(300);
    fresh(name, &old).await;
    let buffer = OpfsBuffer::open(name, small_blocks()).await.unwrap();
    buffer.buffer().insert(100, b"NEW TEXT").unwrap();
    buffer.buffer().delete(2000..3000).unwrap();
    let edited = content(buffer.buffer());
    opfs::inject_save_fault(fault);
    assert!(buffer.save(false).await.is_err());
    // The buffer keeps its edits; the stored document is the old one.
    assert!(buffer.buffer().is_modified());
    assert_eq!(content(buffer.buffer()), edited);
    drop(buffer);
    let before = data_files(name).await;
    assert_eq!(before.len(), 2, "the current file and the interrupted save's: {before:?}");

    let reopened = OpfsBuffer::open(name, small_blocks()).await.unwrap();
    assert_eq!(content(reopened.buffer()), old, "after {fault:?}");
    let after = data_files(name).await;
    let kept: Vec<&String> = before.iter().filter(|f| after.contains(f)).collect();
    assert_eq!(kept.len(), 1, "only the current version survives the open: {before:?} then {after:?}");
    assert_eq!(after.len(), 2, "the current version and the file prepared for the next save: {after:?}");

    // And the document saves normally after.
    reopened.buffer().insert(0, b"#").unwrap();
    reopened.save(false).await.unwrap();
    drop(reopened);
    assert_eq!(stored(name).await, [&b"#"[..], &old].concat());
}

#[wasm_bindgen_test]
async fn a_save_stopped_before_the_switch_leaves_the_old_version() {
    interrupted_save_keeps_the_old_version("stopped", SaveFault::StopBeforeSwitch).await;
}

#[wasm_bindgen_test]
async fn a_save_torn_in_the_header_leaves_the_old_version() {
    interrupted_save_keeps_the_old_version("torn", SaveFault::TornSwitch).await;
}

#[wasm_bindgen_test]
async fn a_document_changed_by_another_buffer_is_saved_only_by_force() {
    let name = "changed";
    fresh(name, b"0123456789").await;
    let first = OpfsBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    let second = OpfsBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    first.buffer().insert(0, b"A").unwrap();
    second.buffer().insert(10, b"B").unwrap();
    first.save(false).await.unwrap();
    match second.save(false).await {
        Err(OpfsError::Buffer(VbufError::Persistence(PersistenceError::ExternallyChanged { .. }))) => {}
        other => panic!("expected ExternallyChanged, got {other:?}"),
    }
    assert_eq!(stored(name).await, b"A0123456789");
    assert!(second.buffer().check_for_external_changes().is_err());
    second.save(true).await.unwrap();
    assert_eq!(stored(name).await, b"0123456789B");
    // An import replaces the document under an open buffer: its save then refuses too.
    opfs::import(name, ImportSource::Bytes(b"imported")).await.unwrap();
    second.buffer().insert(0, b"x").unwrap();
    assert!(second.save(false).await.is_err());
    assert_eq!(stored(name).await, b"imported");
}

#[wasm_bindgen_test]
async fn blobs_import_in_batches_and_list_export_delete_work() {
    let name = "blob";
    opfs::delete(name).await.unwrap();
    // Past the import's 8 MiB batch, so that it takes two reads of the Blob.
    let mut rng = Lcg(5);
    let bytes: Vec<u8> = (0..(8 << 20) + 12_345).map(|_| rng.below(256) as u8).collect();
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(&bytes[..]));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap();
    opfs::import(name, ImportSource::Blob(&blob)).await.unwrap();

    let layer = opfs::open_layer(name).await.unwrap();
    assert_eq!(layer.len().unwrap(), bytes.len() as u64);
    let mut across = vec![0u8; 100];
    layer.read_at((8 << 20) - 50, &mut across).unwrap();
    assert_eq!(&across[..], &bytes[(8 << 20) - 50..(8 << 20) + 50]);
    assert!(matches!(
        layer.read_at(bytes.len() as u64 - 1, &mut across),
        Err(PersistenceError::OutOfRange { .. })
    ));
    drop(layer);

    let listed = opfs::list().await.unwrap();
    assert!(listed.contains(&(name.to_string(), bytes.len() as u64)), "{listed:?}");

    let exported = opfs::export(name).await.unwrap();
    let exported = JsFuture::from(exported.array_buffer()).await.unwrap();
    assert!(js_sys::Uint8Array::new(&exported).to_vec() == bytes, "the exported Blob differs");

    // A document open here is locked: deleting it fails, saying so, and changes nothing.
    let open = opfs::open_layer(name).await.unwrap();
    assert!(matches!(opfs::delete(name).await, Err(OpfsError::OpenHere(n)) if n == name));
    drop(open);
    opfs::delete(name).await.unwrap();
    assert!(!opfs::list().await.unwrap().iter().any(|(n, _)| n == name));
    assert!(matches!(opfs::open_layer(name).await, Err(OpfsError::NotFound(_))));
}

#[wasm_bindgen_test]
async fn bad_names_are_refused() {
    for name in ["", ".", "..", "a/b", "a\\b", "nul\0"] {
        assert!(matches!(
            opfs::import(name, ImportSource::Bytes(b"x")).await,
            Err(OpfsError::InvalidName(_))
        ));
        assert!(matches!(opfs::open_layer(name).await, Err(OpfsError::InvalidName(_))));
    }
    assert!(matches!(opfs::open_layer("never-stored").await, Err(OpfsError::NotFound(_))));
}

#[wasm_bindgen_test]
fn offsets_convert_to_js_exactly_up_to_2_pow_53() {
    for offset in [0, (4 << 30) - 1, 4 << 30, (4 << 30) + 1, (5 << 30) + 3, MAX_OFFSET] {
        assert_eq!(js_offset(offset).unwrap() as u64, offset);
    }
    assert!(js_offset(MAX_OFFSET + 1).is_err());
    assert!(js_offset(u64::MAX).is_err());
}

#[wasm_bindgen_test]
async fn a_sparse_file_reads_and_writes_past_4_gib() {
    let file = opfs::scratch_file("sparse").await.unwrap();
    let len = (5u64 << 30) + 10;
    file.truncate(len).unwrap();
    assert_eq!(file.size().unwrap(), len);
    // Across the 4 GiB line (where a 32-bit offset would wrap), and near the end.
    let across = (4u64 << 30) - 4;
    file.write_at(across, b"past 4 GiB").unwrap();
    file.write_at(len - 3, b"end").unwrap();
    let mut back = [0u8; 10];
    assert_eq!(file.read_at(across, &mut back).unwrap(), 10);
    assert_eq!(&back, b"past 4 GiB");
    // Where a 32-bit offset would have put the bytes past 4 GiB: untouched zeros at the start.
    let mut start = [1u8; 6];
    file.read_at(0, &mut start).unwrap();
    assert_eq!(start, [0; 6]);
    let mut tail = [0u8; 8];
    assert_eq!(file.read_at(len - 5, &mut tail).unwrap(), 5, "a read stops at the end");
    assert_eq!(&tail[..5], b"\0\0end");
    file.truncate(0).unwrap();
}

/// Resolves in a later task of the event loop.
async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        global.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0).unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

#[wasm_bindgen_test]
async fn two_tasks_open_the_same_document_at_once() {
    let name = "concurrent";
    fresh(name, b"shared").await;
    let first = Rc::new(RefCell::new(None));
    let slot = first.clone();
    wasm_bindgen_futures::spawn_local(async move {
        *slot.borrow_mut() = Some(opfs::open_layer(name).await.map(|_| ()));
    });
    // Both opens wait for the same files' handles: the second shares what the first opens.
    let second = OpfsBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    while first.borrow().is_none() {
        next_task().await;
    }
    first.borrow_mut().take().unwrap().unwrap();
    assert_eq!(content(second.buffer()), b"shared");
}

#[wasm_bindgen_test]
async fn a_closed_document_holds_no_lock_of_this_worker() {
    let name = "closed";
    fresh(name, b"abc").await;
    let buffer = OpfsBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    buffer.buffer().insert(3, b"def").unwrap();
    buffer.save(false).await.unwrap();
    // Open: the header and data files are locked, and deleting fails.
    assert!(matches!(opfs::delete(name).await, Err(OpfsError::OpenHere(_))));
    drop(buffer);
    // Closed: the files prepared for its saves were closed with it, so the directory goes whole.
    opfs::delete(name).await.unwrap();
    assert!(matches!(opfs::document_files(name).await, Err(OpfsError::NotFound(_))));
}

/// A real document past 4 GiB: imported from a Blob, read at offsets past the line, edited near the
/// end and saved. It writes about 9 GiB to OPFS (and Chromium spills the 4.5 GiB Blob to its profile,
/// which the runner may leave behind in the temporary directory), so it runs only on request:
/// `cargo test ... --test worker -- --include-ignored past_4_gib`.
#[wasm_bindgen_test]
#[ignore = "writes about 14 GiB to disk; run with --include-ignored"]
async fn a_document_past_4_gib_imports_reads_edits_and_saves() {
    let name = "big";
    opfs::delete(name).await.unwrap();
    const PART: usize = 64 << 20;
    // 72 parts: 4.5 GiB. Each part is its index (8 bytes) and then the same body, so a read at a
    // wrapped offset would see another index; the body is one JS array, referenced by every part.
    let parts_count = 72;
    let mut rng = Lcg(3);
    let body: Vec<u8> = (0..PART - 8).map(|_| rng.below(256) as u8).collect();
    let body_js = js_sys::Uint8Array::from(&body[..]);
    let parts = js_sys::Array::new();
    for i in 0..parts_count {
        parts.push(&js_sys::Uint8Array::from(&(i as u64).to_le_bytes()[..]));
        parts.push(&body_js);
    }
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap();
    let len = PART as u64 * parts_count as u64; // past usize on wasm32
    opfs::import(name, ImportSource::Blob(&blob)).await.unwrap();

    let buffer = OpfsBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    assert_eq!(buffer.buffer().len(), len);
    let index_at = |i: u64| {
        u64::from_le_bytes(
            buffer.buffer().read(i * PART as u64..i * PART as u64 + 8).unwrap()[..].try_into().unwrap(),
        )
    };
    for i in [0, 63, 64, 65, parts_count as u64 - 1] {
        assert_eq!(index_at(i), i, "part {i}, at offset {}", i * PART as u64);
    }
    let at = len - 100;
    buffer.buffer().insert(at, b"edited past 4 GiB").unwrap();
    buffer.save(false).await.unwrap();
    drop(buffer);
    let reopened = OpfsBuffer::open(name, VirtualBufferOptions::default()).await.unwrap();
    assert_eq!(reopened.buffer().len(), len + 17);
    assert_eq!(&reopened.buffer().read(at..at + 17).unwrap()[..], b"edited past 4 GiB");
    assert_eq!(&reopened.buffer().read(at + 17..len + 17).unwrap()[..], &body[body.len() - 100..]);
    drop(reopened);
    opfs::delete(name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_failed_recipe_changes_nothing_and_the_next_save_works() {
    use omnibuf::vbuf::{SaveOptions, SavePiece};
    use omnibuf::{BufferKind, ZeroCopyBuffer};
    let name = "failed-recipe";
    fresh(name, b"0123456789").await;
    let layer = opfs::open_layer(name).await.unwrap();
    // Listing shares the handles this worker has open.
    assert!(opfs::list().await.unwrap().contains(&(name.to_string(), 10)));
    let insert = |b: &'static [u8]| Ok(SavePiece::Insert(ZeroCopyBuffer::from_static(b, BufferKind::raw())));
    let failing = vec![insert(b"new"), Err(PersistenceError::Io(std::io::Error::other("the recipe failed")))];
    assert!(layer.save(&mut failing.into_iter(), SaveOptions::default()).is_err());
    let out_of_range = vec![Ok(SavePiece::Copy { offset: 5, len: 6 })];
    assert!(matches!(
        layer.save(&mut out_of_range.into_iter(), SaveOptions::default()),
        Err(PersistenceError::OutOfRange { .. })
    ));
    // Nothing was committed (and nothing in between may prepare a new file: the next save must
    // find the one the failed saves gave back).
    layer.check_unchanged().unwrap();
    let recipe = vec![Ok(SavePiece::Copy { offset: 5, len: 5 }), insert(b"!")];
    let saved = layer.save(&mut recipe.into_iter(), SaveOptions::default()).unwrap();
    let mut back = [0u8; 6];
    saved.read_at(0, &mut back).unwrap();
    assert_eq!(&back, b"56789!");
    // The old layer still reads its version.
    layer.read_at(0, &mut back).unwrap();
    assert_eq!(&back, b"012345");
    drop((layer, saved));
    assert_eq!(stored(name).await, b"56789!");
}

/// A read inside one stretch of the document goes straight to the file, past the block cache (an OPFS
/// read is a cheap synchronous call the system caches); a read across an edit still goes through it.
#[wasm_bindgen_test]
async fn reads_inside_one_piece_skip_the_block_cache() {
    let name = "direct";
    let bytes = numbered_lines(2000);
    fresh(name, &bytes).await;
    let doc = OpfsBuffer::open(name, small_blocks()).await.unwrap();
    let buffer = doc.buffer();
    for start in [0usize, 700, 30_000, 50_000] {
        assert_eq!(buffer.read(start as u64..start as u64 + 1000).unwrap(), bytes[start..start + 1000]);
    }
    let stats = buffer.stats();
    assert_eq!((stats.cache_misses, stats.cached_bytes), (0, 0), "no block was read into the cache");
    buffer.insert(1000, b"INSERTED").unwrap();
    let mut expected = bytes[990..1000].to_vec();
    expected.extend_from_slice(b"INSERTED");
    expected.extend_from_slice(&bytes[1000..1002]);
    assert_eq!(buffer.read(990..1010).unwrap(), expected[..]);
    assert!(buffer.stats().cache_misses > 0, "a read across the edit went through the cache");
}
