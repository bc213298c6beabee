//! The limits of a length: a buffer whose persistence layer reports a length near `u64::MAX` (only a
//! layer of one's own can) refuses edits past it and ranges one past it, with typed errors that
//! change nothing.

use std::ops::Bound;
use std::sync::Arc;

use omnibuf::vbuf::{
    PersistenceError, PersistenceLayer, SaveOptions, SaveRecipe, VbufError, VirtualBuffer,
    VirtualBufferOptions,
};

/// `u64::MAX` bytes of `z`, never saved.
#[derive(Debug)]
struct Endless;

impl PersistenceLayer for Endless {
    fn len(&self) -> Result<u64, PersistenceError> {
        Ok(u64::MAX)
    }
    fn read_at(&self, _offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError> {
        dst.fill(b'z');
        Ok(())
    }
    fn save(
        &self,
        _: &mut SaveRecipe<'_>,
        _: SaveOptions,
    ) -> Result<Box<dyn PersistenceLayer>, PersistenceError> {
        Err(PersistenceError::Unsupported("saving an endless layer"))
    }
}

#[test]
fn an_edit_past_u64_max_is_refused_and_changes_nothing() {
    let buf = VirtualBuffer::with_layer(Arc::new(Endless), VirtualBufferOptions::default()).unwrap();
    for at in [0, 1 << 40, u64::MAX] {
        match buf.insert(at, b"x") {
            Err(VbufError::TooLong { len: u64::MAX, adding: 1 }) => {}
            other => panic!("insert at {at}: {other:?}"),
        }
    }
    assert!(
        matches!(buf.replace(5..6, b"ab"), Err(VbufError::TooLong { len, adding: 2 }) if len == u64::MAX - 1)
    );
    assert_eq!(buf.len(), u64::MAX);
    assert!(!buf.is_modified());
    assert!(!buf.undo());
    assert_eq!(buf.read(u64::MAX - 3..u64::MAX).unwrap(), b"zzz"[..]);
    // An edit that keeps within the limit still works.
    buf.replace(5..7, b"ab").unwrap();
    assert_eq!(buf.len(), u64::MAX);
    assert_eq!(buf.read(4..8).unwrap(), b"zabz"[..]);
    buf.delete(0..1).unwrap();
    buf.insert(0, b"!").unwrap();
    assert_eq!(buf.read(0..2).unwrap(), b"!z"[..]);
}

#[test]
fn a_bound_one_past_u64_max_is_out_of_range() {
    let buf = VirtualBuffer::with_layer(Arc::new(Endless), VirtualBufferOptions::default()).unwrap();
    let out_of_range = |r: Result<(), VbufError>| matches!(r, Err(VbufError::OutOfRange { .. }));
    assert!(out_of_range(buf.read(..=u64::MAX).map(drop)));
    assert!(out_of_range(buf.read((Bound::Excluded(u64::MAX), Bound::Unbounded)).map(drop)));
    assert!(out_of_range(buf.delete(u64::MAX - 1..=u64::MAX)));
    assert_eq!(buf.read(u64::MAX - 1..=u64::MAX - 1).unwrap(), b"z"[..]);
    assert_eq!(buf.len(), u64::MAX);
}
