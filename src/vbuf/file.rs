//! Opening files and saving to a new path (native targets).

use std::path::Path;
use std::sync::Arc;

use super::buffer::{lock, VirtualBuffer};
use super::error::VbufError;
use super::options::VirtualBufferOptions;
use super::store::source;
use crate::platform::persistence::{save_recipe_as, FileBackend, FilePersistence, PersistenceLayer};

impl VirtualBuffer {
    /// Opens a file, memory-mapped ([`FileBackend::Mapped`]), with default options. Nothing is read:
    /// opening a 10 GiB file costs what opening a 10 MiB one does.
    ///
    /// Use [`open_with`](Self::open_with) and [`FileBackend::Positional`] for files other programs may
    /// truncate while they are open (a truncated mapping kills the process with `SIGBUS`).
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
        Self::open_with(path, FileBackend::Mapped, VirtualBufferOptions::default())
    }

    /// Opens a file with a backend and options.
    pub fn open_with(
        path: impl AsRef<Path>,
        backend: FileBackend,
        options: VirtualBufferOptions,
    ) -> Result<VirtualBuffer, VbufError> {
        Self::with_layer(Arc::new(FilePersistence::open(path, backend)?), options)
    }

    /// Saves the content to a new file at `path` (atomically, as [`save`](Self::save) does), read back
    /// with `backend`; later saves go to that file.
    pub fn save_as(&self, path: impl AsRef<Path>, backend: FileBackend) -> Result<(), VbufError> {
        let _one_save_at_a_time = lock(&self.inner.save_lock);
        let (snapshot, base) = self.save_start();
        let new_layer: Arc<dyn PersistenceLayer> = {
            let base_layer = source(&snapshot.sources, base).layer.clone();
            let mut recipe = super::buffer::recipe(&snapshot, &self.inner.store, base);
            Arc::new(save_recipe_as(base_layer.as_ref(), &mut recipe, path, backend)?)
        };
        self.adopt_saved(snapshot, new_layer)
    }
}
