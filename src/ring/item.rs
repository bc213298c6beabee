//! [`Item`]: what a ring can hold.

/// Plain data a ring can hold: `Copy`, with no drop glue, and valid for every bit pattern (ring
/// memory starts zeroed and readers see whatever bytes the writer published).
///
/// # Safety
/// Every bit pattern of `size_of::<Self>()` bytes must be a valid value of `Self` (so no `bool`,
/// `char`, references, or enums), and the type must have no padding bytes (reading them is undefined).
/// In practice: integers, floats, and arrays and `#[repr(C)]` structs of them without padding.
///
/// ```
/// use omnibuf::ring::Item;
///
/// #[derive(Clone, Copy)]
/// #[repr(C)]
/// struct Sample { left: i16, right: i16 }
/// // SAFETY: two i16s, no padding; every bit pattern is a valid Sample.
/// unsafe impl Item for Sample {}
/// ```
pub unsafe trait Item: Copy + Send + Sync + 'static {}

macro_rules! plain {
    ($($t:ty),*) => {$(
        // SAFETY: a primitive number: every bit pattern is valid, there is no padding.
        unsafe impl Item for $t {}
    )*};
}

plain!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

// SAFETY: an array of items has no padding between elements and every bit pattern of it is an array
// of valid items.
unsafe impl<T: Item, const N: usize> Item for [T; N] {}
