//! How a [`ZeroCopyBuffer`](super::ZeroCopyBuffer) reaches the storage it shares: a [`Storage`] word
//! and the [`Vtable`] of the storage's representation, in the manner of the `bytes` crate.
//!
//! The word is one of:
//! - null: `'static` bytes, nothing to count.
//! - a pointer to a [`Counted`] header: its first field counts the views, so a clone is one atomic
//!   increment and a drop one decrement, inline, whatever the storage; only the last drop calls the
//!   vtable, which knows the header's type (an owner `T` of any [`BufferOwner`] type, or a vector's
//!   buffer and capacity) and frees it.
//! - a vector's capacity with the low bit set ([`UNIQUE`]): a heap vector (what
//!   [`BufferMut::freeze`](super::BufferMut::freeze) and `from_bytes` make) that one view holds, with no
//!   header. The first clone *promotes* it: it allocates the header and swaps it into the word with a
//!   compare-and-swap, since two threads may clone the same unique view at once. Freezing a vector and
//!   dropping the buffer thus cost no allocation beyond the vector's own.
//!
//! The invariant the vector representation relies on: while the word is tagged (unique), the view's
//! pointer is the vector's first byte. Only `subview` moves a pointer, and it clones first, which
//! promotes; truncation changes the length only.

use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use super::BufferOwner;

/// The word a view keeps about its storage (see the module's documentation).
pub(super) type Storage = AtomicPtr<()>;

/// The operations that depend on the storage's type; counting views does not.
pub(super) struct Vtable {
    /// Makes the header of a unique vector and returns the word of a new view (see [`VEC`]); `word`
    /// is the unique word, `ptr` the view's first byte.
    promote: unsafe fn(&Storage, *mut (), NonNull<u8>) -> *mut (),
    /// Frees the storage after its last view: `word` is a header whose count reached zero, or a unique
    /// word, whose view's first byte is `ptr`.
    free: unsafe fn(*mut (), NonNull<u8>),
}

/// Low bit of the word: set while one view holds a vector and no header exists.
const UNIQUE: usize = 1;

/// A shared header: the count of views, then what the storage's vtable knows how to free. `repr(C)`
/// puts the count first, where [`clone_view`] and [`drop_view`] find it without knowing `T`; the
/// header's alignment keeps the low bit of its address clear for [`UNIQUE`].
#[repr(C)]
struct Counted<T> {
    views: AtomicUsize,
    body: T,
}

/// The view count at the start of the header `word` points at.
///
/// # Safety
/// `word` points at a live [`Counted`] header.
unsafe fn views<'a>(word: *mut ()) -> &'a AtomicUsize {
    // SAFETY: the caller's promise; `Counted` is `repr(C)`, so its first field is at its address.
    unsafe { &*word.cast::<AtomicUsize>() }
}

/// The word for a new view of the same storage.
///
/// # Safety
/// `storage` and `vtable` are a view's, and `ptr` its first byte.
#[inline]
pub(super) unsafe fn clone_view(storage: &Storage, vtable: &Vtable, ptr: NonNull<u8>) -> *mut () {
    // Acquire: when another thread promoted a unique vector, its header's fields are read later.
    let word = storage.load(Ordering::Acquire);
    if word.addr() & UNIQUE != 0 {
        // SAFETY: a unique word: the caller's view is the vector's only one and `ptr` its first byte.
        return unsafe { (vtable.promote)(storage, word, ptr) };
    }
    if !word.is_null() {
        // SAFETY: an untagged, non-null word points at the header the view holds a reference to.
        add_view(unsafe { views(word) });
    }
    word
}

/// Gives up a view's reference; the last one frees the storage.
///
/// # Safety
/// `storage` and `vtable` are a view's, `ptr` its first byte, and the view is not used again.
#[inline]
pub(super) unsafe fn drop_view(storage: &mut Storage, vtable: &Vtable, ptr: NonNull<u8>) {
    let word = *storage.get_mut();
    if word.is_null() {
        return;
    }
    if word.addr() & UNIQUE == 0 {
        // SAFETY: an untagged, non-null word points at the header the view holds a reference to.
        let views = unsafe { views(word) };
        // Release: this view's reads of the bytes happen before whichever drop frees them.
        if views.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Acquire: every other view's reads happened before the free. A load rather than a fence:
        // the same order on every target, and one that ThreadSanitizer, which does not model
        // fences, can check.
        views.load(Ordering::Acquire);
    }
    // SAFETY: the last view: a header whose count reached zero, or a unique vector whose first byte is
    // `ptr`.
    unsafe { (vtable.free)(word, ptr) }
}

/// How many views share the storage, for observability.
pub(super) fn sharers(storage: &Storage) -> usize {
    let word = storage.load(Ordering::Acquire);
    if word.is_null() || word.addr() & UNIQUE != 0 {
        return 1;
    }
    // SAFETY: an untagged, non-null word points at the header the view holds a reference to.
    unsafe { views(word) }.load(Ordering::Relaxed)
}

/// Counts one more view, stopping the process (as `Arc` does) rather than letting the count wrap
/// around after `isize::MAX` leaked views.
#[inline]
fn add_view(views: &AtomicUsize) {
    if views.fetch_add(1, Ordering::Relaxed) > isize::MAX as usize {
        std::process::abort();
    }
}

unsafe fn not_unique(_: &Storage, _: *mut (), _: NonNull<u8>) -> *mut () {
    unreachable!("only a frozen vector's word is ever tagged unique")
}

// ── 'static bytes ────────────────────────────────────────────────────────────────────────────────

/// `'static` bytes: the word stays null and nothing is ever freed.
pub(super) static STATIC: Vtable = Vtable { promote: not_unique, free: static_free };

/// The word of `'static` bytes.
pub(super) const fn static_storage() -> Storage {
    AtomicPtr::new(ptr::null_mut())
}

unsafe fn static_free(_: *mut (), _: NonNull<u8>) {}

// ── any owner ────────────────────────────────────────────────────────────────────────────────────

/// The vtable of owners of type `T`: the word points at a `Counted<T>`.
pub(super) struct OwnerVtable<T>(PhantomData<T>);

impl<T: BufferOwner> OwnerVtable<T> {
    pub(super) const VTABLE: &'static Vtable = &Vtable { promote: not_unique, free: owner_free::<T> };
}

/// Moves `owner` into a header counting one view, and returns the header's word and the owner's bytes
/// (which stay where they are as long as the owner lives: [`BufferOwner`]'s contract).
pub(super) fn owner_storage<T: BufferOwner>(owner: T) -> (Storage, NonNull<u8>, usize) {
    /// Frees the header if the owner's `owned_bytes` panics: the owner is dropped, not leaked.
    struct FreedOnUnwind<T>(*mut Counted<T>);
    impl<T> Drop for FreedOnUnwind<T> {
        fn drop(&mut self) {
            // SAFETY: the pointer came from `Box::into_raw`, and this guard is forgotten once it is
            // handed on, so it runs only while nothing else holds it.
            drop(unsafe { Box::from_raw(self.0) });
        }
    }
    let header = Box::into_raw(Box::new(Counted { views: AtomicUsize::new(1), body: owner }));
    let guard = FreedOnUnwind(header);
    // SAFETY: `header` came from `Box::into_raw` just above; only a shared borrow is taken, which ends
    // before the pointer is handed on.
    let bytes = unsafe { &(*header).body }.owned_bytes();
    std::mem::forget(guard);
    (AtomicPtr::new(header.cast()), NonNull::from(bytes).cast(), bytes.len())
}

unsafe fn owner_free<T: BufferOwner>(word: *mut (), _: NonNull<u8>) {
    // SAFETY: the word of a view with this vtable is a `Counted<T>` from `owner_storage`'s
    // `Box::into_raw`, and its count reached zero: no view uses it any more.
    drop(unsafe { Box::from_raw(word.cast::<Counted<T>>()) });
}

// ── a heap vector, promoted to a shared header on its first clone ────────────────────────────────

/// The vtable of frozen vectors, in either state (unique or shared, told apart by the word's low bit).
pub(super) static VEC: Vtable = Vtable { promote: vec_promote, free: vec_free };

/// A vector's allocation, as it was frozen.
struct VecParts {
    buf: NonNull<u8>,
    cap: usize,
}

/// The word of a vector of capacity `cap` held by one view. Capacities are at most `isize::MAX`, so
/// the shift loses nothing.
pub(super) fn unique_vec_storage(cap: usize) -> Storage {
    AtomicPtr::new(ptr::without_provenance_mut(cap << 1 | UNIQUE))
}

#[cold]
unsafe fn vec_promote(storage: &Storage, word: *mut (), ptr: NonNull<u8>) -> *mut () {
    // By the module's invariant `ptr` is the vector's first byte. The count starts at 2: the view
    // being cloned and its clone.
    let parts = VecParts { buf: ptr, cap: word.addr() >> 1 };
    let header = Box::into_raw(Box::new(Counted { views: AtomicUsize::new(2), body: parts })).cast::<()>();
    // AcqRel: the header's fields are published with it; Acquire on failure: the winner's are seen.
    match storage.compare_exchange(word, header, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => header,
        Err(winner) => {
            // Another thread cloned the same view at the same moment and promoted it first: ours was
            // never published, so it is dropped, and the clone counts itself in the winner's header.
            // SAFETY: `header` came from `Box::into_raw` above and nobody else saw it.
            drop(unsafe { Box::from_raw(header.cast::<Counted<VecParts>>()) });
            // SAFETY: the winner's word points at its header, alive because the view being cloned now
            // holds one of its references.
            add_view(unsafe { views(winner) });
            winner
        }
    }
}

unsafe fn vec_free(word: *mut (), ptr: NonNull<u8>) {
    let (buf, cap) = if word.addr() & UNIQUE != 0 {
        // Unique: `ptr` is the vector's first byte (the module's invariant), the word its capacity.
        (ptr, word.addr() >> 1)
    } else {
        // SAFETY: the count reached zero, so the header (from `Box::into_raw` in `vec_promote`) is no
        // one else's.
        let header = unsafe { Box::from_raw(word.cast::<Counted<VecParts>>()) };
        (header.body.buf, header.body.cap)
    };
    // SAFETY: `buf` and `cap` are the vector's allocation as it was frozen, and no view reads it any
    // more; the length does not matter for freeing bytes.
    drop(unsafe { Vec::from_raw_parts(buf.as_ptr(), 0, cap) });
}
