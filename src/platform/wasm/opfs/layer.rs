//! [`OpfsLayer`]: the persistence layer over one version of an OPFS document.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use super::files::SyncFile;
use super::header::{self, Record, HEADER_LEN};
use crate::platform::persistence::{PersistenceError, PersistenceLayer, SaveOptions, SavePiece, SaveRecipe};

/// Bytes copied per step when a save copies a run of the old version.
const COPY_CHUNK: usize = 1 << 20;

/// A fault to inject into the next save of this worker, for tests of crash safety.
///
/// ```no_run
/// # async fn demo(doc: omnibuf::vbuf::opfs::OpfsBuffer) {
/// use omnibuf::vbuf::opfs::{self, SaveFault};
///
/// doc.buffer().insert(0, b"x").unwrap();
/// opfs::inject_save_fault(SaveFault::StopBeforeSwitch);
/// assert!(doc.save(false).await.is_err()); // as if the tab crashed before the switch
/// assert!(doc.buffer().is_modified());
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub enum SaveFault {
    /// No fault.
    #[default]
    None,
    /// Stop as a crash would after the new version is written and flushed, before the header
    /// switches to it: the new file stays behind, closed.
    StopBeforeSwitch,
    /// Stop as a crash would in the middle of writing the header record: half of it is written.
    TornSwitch,
}

thread_local! {
    /// Files prepared for the next saves, per document: a save cannot create a file (that is
    /// asynchronous in OPFS), so it takes one of these, and `OpfsBuffer::save` prepares the next.
    static SPARES: RefCell<HashMap<String, Vec<(u64, SyncFile)>>> = RefCell::new(HashMap::new());
    static FAULT: Cell<SaveFault> = const { Cell::new(SaveFault::None) };
}

/// Makes the next save on this thread fail as `fault` says (once). A test aid (the `testing` feature).
///
/// ```no_run
/// # async fn demo(doc: omnibuf::vbuf::opfs::OpfsBuffer) {
/// use omnibuf::vbuf::opfs::{self, SaveFault};
///
/// opfs::inject_save_fault(SaveFault::TornSwitch); // half a header record, then a "crash"
/// assert!(doc.save(true).await.is_err());
/// # }
/// ```
#[cfg(feature = "testing")]
pub fn inject_save_fault(fault: SaveFault) {
    FAULT.with(|f| f.set(fault));
}

/// Adds a prepared file for saves of `document`.
pub(crate) fn add_spare(document: &str, id: u64, file: SyncFile) {
    SPARES.with(|s| s.borrow_mut().entry(document.to_string()).or_default().push((id, file)));
}

/// How many files are prepared for saves of `document`.
pub(crate) fn spare_count(document: &str) -> usize {
    SPARES.with(|s| s.borrow().get(document).map_or(0, Vec::len))
}

/// Closes the files prepared for saves of `document` (when its last layer here is dropped).
pub(crate) fn drop_spares(document: &str) {
    let spares = SPARES.with(|s| s.borrow_mut().remove(document));
    drop(spares);
}

fn take_spare(document: &str) -> Option<(u64, SyncFile)> {
    SPARES.with(|s| s.borrow_mut().get_mut(document).and_then(Vec::pop))
}

/// Reads the current record of a header file.
pub(crate) fn read_record(head: &SyncFile) -> Result<Option<Record>, PersistenceError> {
    let mut bytes = [0u8; HEADER_LEN];
    let n = head.read_at(0, &mut bytes)?;
    Ok(header::current(&bytes[..n]))
}

/// Writes `record` into its slot of a header file and flushes: the commit point of a version.
pub(crate) fn write_record(head: &SyncFile, record: &Record) -> Result<(), PersistenceError> {
    head.write_at(record.slot_offset(), &record.encode())?;
    head.flush()
}

/// One version of an OPFS document, read synchronously through a sync access handle: usable only in
/// the dedicated worker that opened it (see `files`). Open one with `opfs::open_layer` or
/// `opfs::OpfsBuffer`.
///
/// A save writes the new version into a file prepared beforehand (OPFS creates files only
/// asynchronously), flushes it, and then commits by writing the new record into the header's other
/// slot: the document is the old or the new version whatever happens, and the old version's file
/// stays readable through this layer (undo history, live iterators) until it is dropped; cleanup
/// deletes it after.
///
/// ```no_run
/// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
/// use omnibuf::vbuf::{opfs, ImportSource, PersistenceLayer, VirtualBuffer};
///
/// // In a dedicated worker:
/// opfs::import("log.txt", ImportSource::Bytes(b"line 1\n")).await?;
/// let layer = opfs::open_layer("log.txt").await?;
/// assert_eq!((layer.document(), layer.len()?), ("log.txt", 7));
/// let buffer = VirtualBuffer::with_layer(layer, Default::default())?;
/// assert_eq!(buffer.read(..4)?, b"line"[..]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct OpfsLayer {
    document: String,
    record: Record,
    data: SyncFile,
    head: SyncFile,
}

impl OpfsLayer {
    pub(crate) fn new(document: String, record: Record, data: SyncFile, head: SyncFile) -> OpfsLayer {
        OpfsLayer { document, record, data, head }
    }

    pub(crate) fn record(&self) -> Record {
        self.record
    }

    /// The document's name.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
    /// use omnibuf::vbuf::{opfs, ImportSource};
    ///
    /// opfs::import("notes.md", ImportSource::Bytes(b"# Notes")).await?;
    /// assert_eq!(opfs::open_layer("notes.md").await?.document(), "notes.md");
    /// # Ok(()) }
    /// ```
    pub fn document(&self) -> &str {
        &self.document
    }

    /// The version this layer reads: each import or save of the document adds one.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), omnibuf::vbuf::opfs::OpfsError> {
    /// use omnibuf::vbuf::{opfs, ImportSource};
    ///
    /// opfs::import("g.txt", ImportSource::Bytes(b"1")).await?;
    /// let first = opfs::open_layer("g.txt").await?.generation();
    /// opfs::import("g.txt", ImportSource::Bytes(b"2")).await?;
    /// assert_eq!(opfs::open_layer("g.txt").await?.generation(), first + 1);
    /// # Ok(()) }
    /// ```
    pub fn generation(&self) -> u64 {
        self.record.generation
    }

    fn changed(&self, stored: Option<Record>) -> Option<PersistenceError> {
        let stored_generation = stored.map_or(0, |r| r.generation);
        (stored_generation != self.record.generation).then(|| PersistenceError::ExternallyChanged {
            what: format!("OPFS document {:?}", self.document),
            detail: format!("version {} became {stored_generation}", self.record.generation),
        })
    }

    /// Writes the recipe into `file` from offset 0; returns the new length.
    fn write_version(&self, recipe: &mut SaveRecipe<'_>, file: &SyncFile) -> Result<u64, PersistenceError> {
        file.truncate(0)?;
        let mut at = 0u64;
        let mut scratch = Vec::new();
        for piece in recipe {
            match piece? {
                SavePiece::Insert(bytes) => {
                    file.write_at(at, &bytes)?;
                    at += bytes.len() as u64;
                }
                SavePiece::Copy { offset, len } => {
                    if offset.checked_add(len).is_none_or(|end| end > self.record.len) {
                        return Err(PersistenceError::OutOfRange { offset, len, total: self.record.len });
                    }
                    let mut done = 0;
                    while done < len {
                        let n = (len - done).min(COPY_CHUNK as u64) as usize;
                        scratch.resize(n, 0);
                        self.read_at(offset + done, &mut scratch)?;
                        file.write_at(at, &scratch)?;
                        at += n as u64;
                        done += n as u64;
                    }
                }
            }
        }
        Ok(at)
    }
}

impl Drop for OpfsLayer {
    fn drop(&mut self) {
        // The last layer of the document in this worker: the files prepared for its saves go too,
        // so that no handle of this worker keeps locking the document's files (cleanup deletes them).
        if super::files::users(self.head.key()) == 1 {
            drop_spares(&self.document);
        }
    }
}

impl PersistenceLayer for OpfsLayer {
    fn len(&self) -> Result<u64, PersistenceError> {
        Ok(self.record.len)
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError> {
        let total = self.record.len;
        let len = dst.len() as u64;
        if offset.checked_add(len).is_none_or(|end| end > total) {
            return Err(PersistenceError::OutOfRange { offset, len, total });
        }
        let got = self.data.read_at(offset, dst)?;
        if got < dst.len() {
            return Err(PersistenceError::ShortRead { offset, wanted: len, got: got as u64 });
        }
        Ok(())
    }

    fn reads_directly(&self) -> bool {
        true
    }

    fn check_unchanged(&self) -> Result<(), PersistenceError> {
        match self.changed(read_record(&self.head)?) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn save(
        &self,
        recipe: &mut SaveRecipe<'_>,
        options: SaveOptions,
    ) -> Result<Box<dyn PersistenceLayer>, PersistenceError> {
        let stored = read_record(&self.head)?;
        if let Some(error) = self.changed(stored).filter(|_| !options.force) {
            return Err(error);
        }
        let (file_id, file) = take_spare(&self.document).ok_or(PersistenceError::Unsupported(
            "no OPFS file is prepared for this save (creating one is asynchronous): save through \
             OpfsBuffer::save, which prepares one",
        ))?;
        let len = match self
            .write_version(recipe, &file)
            .and_then(|len| file.flush_checked(len).map(|()| len))
        {
            Ok(len) => len,
            Err(error) => {
                // Nothing points at the file: emptied, it is prepared again for the next save.
                // Unless the quota ran out: an open access handle keeps the space it was granted,
                // so it is closed, to give that back at once (the next save through
                // `OpfsBuffer::save` prepares a new one; the next open or save removes this one).
                let _ = file.truncate(0);
                let quota =
                    matches!(&error, PersistenceError::Io(e) if e.kind() == std::io::ErrorKind::StorageFull);
                if !quota {
                    add_spare(&self.document, file_id, file);
                }
                return Err(error);
            }
        };
        let generation = stored.map_or(0, |r| r.generation).max(self.record.generation) + 1;
        let record = Record { generation, file_id, len };
        match FAULT.with(|f| f.replace(SaveFault::None)) {
            SaveFault::None => {}
            fault => {
                if fault == SaveFault::TornSwitch {
                    let bytes = record.encode();
                    self.head.write_at(record.slot_offset(), &bytes[..bytes.len() / 2])?;
                    self.head.flush()?;
                }
                // As after a crash: the new file is closed and stays behind.
                drop(file);
                return Err(PersistenceError::Io(std::io::Error::other(format!("injected fault {fault:?}"))));
            }
        }
        write_record(&self.head, &record)?;
        Ok(Box::new(OpfsLayer::new(self.document.clone(), record, file, self.head.clone())))
    }
}
