//! Opening files and saving to a new path (native targets).

use std::path::Path;
use std::sync::Arc;

use super::buffer::{lock, VirtualBuffer};
use super::error::VbufError;
use super::options::VirtualBufferOptions;
use super::store::source;
use crate::platform::persistence::{save_recipe_as, FileBackend, FilePersistence, PersistenceLayer};

impl VirtualBuffer {
    /// Opens a file with positional reads ([`FileBackend::Positional`]) and default options. Nothing
    /// is read: opening a 10 GiB file costs what opening a 10 MiB one does.
    ///
    /// Another program that truncates or rewrites the file while it is open cannot crash this one:
    /// reads give what they find or an error, and save refuses (see
    /// [`check_for_external_changes`](Self::check_for_external_changes)); a save forced over a
    /// change writes this buffer's content only where it still can: over a file replaced under
    /// its path, not from one changed in place, whose bytes the buffer had not loaded may be gone
    /// (then a save that needs them fails, changing nothing). For files nobody else
    /// changes, [`open_with`](Self::open_with) and the `unsafe` [`FileBackend::mapped`] read faster.
    ///
    /// Fails with [`VbufError::Persistence`] as [`FilePersistence::open`] does: a file that cannot be
    /// opened, or is not a regular file.
    ///
    /// ```
    /// use omnibuf::vbuf::VirtualBuffer;
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("notes.txt");
    /// std::fs::write(&path, b"hello world")?;
    ///
    /// let buf = VirtualBuffer::open(&path)?;
    /// buf.replace(0..5, b"goodbye")?;
    /// buf.save()?;
    /// assert_eq!(std::fs::read(&path)?, b"goodbye world");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<VirtualBuffer, VbufError> {
        Self::open_with(path, FileBackend::Positional, VirtualBufferOptions::default())
    }

    /// Opens a file with a backend and options. Fails as [`open`](Self::open) does, and also when
    /// a [`FileBackend::Mapped`] file cannot be mapped.
    ///
    /// ```
    /// use omnibuf::vbuf::FileBackend;
    /// use omnibuf::vbuf::{VirtualBuffer, VirtualBufferOptions};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("scratch.txt");
    /// std::fs::write(&path, b"one\ntwo\n")?;
    /// // SAFETY: the file is this program's own scratch file; nothing else writes or truncates it.
    /// let backend = unsafe { FileBackend::mapped() };
    /// let buf = VirtualBuffer::open_with(&path, backend, VirtualBufferOptions::default())?;
    /// assert_eq!(buf.line_count()?, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_with(
        path: impl AsRef<Path>,
        backend: FileBackend,
        options: VirtualBufferOptions,
    ) -> Result<VirtualBuffer, VbufError> {
        Self::with_layer(Arc::new(FilePersistence::open(path, backend)?), options)
    }

    /// Saves the content to a new file at `path` (atomically, as [`save`](Self::save) does), read back
    /// with `backend`; later saves go to that file. Fails with [`VbufError::Persistence`] when the
    /// new file cannot be written, synced or renamed into place, or the content it copies from the
    /// old file cannot be read; what a failed save leaves is as [`save_with`](Self::save_with) says.
    ///
    /// ```
    /// use omnibuf::vbuf::{FileBackend, VirtualBuffer};
    /// # let dir = tempfile::tempdir()?;
    /// let (original, copy) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
    /// std::fs::write(&original, b"version 1")?;
    /// let buf = VirtualBuffer::open(&original)?;
    /// buf.replace(8.., b"2")?;
    /// buf.save_as(&copy, FileBackend::Positional)?;
    /// assert_eq!(std::fs::read(&copy)?, b"version 2");
    /// assert_eq!(std::fs::read(&original)?, b"version 1"); // untouched
    /// buf.insert(buf.len(), b".1")?;
    /// buf.save()?; // later saves go to the new file
    /// assert_eq!(std::fs::read(&copy)?, b"version 2.1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save_as(&self, path: impl AsRef<Path>, backend: FileBackend) -> Result<(), VbufError> {
        let _one_save_at_a_time = lock(&self.inner.save_lock);
        let (snapshot, base) = self.save_start();
        let new_layer: Arc<dyn PersistenceLayer> = {
            let base_layer = source(&snapshot.sources, base).layer.clone();
            let mut recipe = super::buffer::recipe(&snapshot, &self.inner.store, base);
            Arc::new(save_recipe_as(base_layer.as_ref(), &mut recipe, path, backend)?)
        };
        self.adopt_saved(snapshot, new_layer);
        Ok(())
    }
}
