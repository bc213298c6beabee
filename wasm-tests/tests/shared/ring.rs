//! The ring on wasm32: mirror-copy memory (wasm cannot map memory twice), non-blocking flavour (a page
//! cannot block), contiguous slices across the wrap.

use omnibuf::ring::{double_mapping_available, nonblocking::Circular, RingBackend, RingError};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn the_ring_uses_mirror_memory_and_slices_across_the_wrap() {
    assert!(!double_mapping_available());
    let mut writer = Circular::with_capacity::<u16>(10).unwrap();
    assert_eq!(writer.backend(), RingBackend::MirrorCopy);
    assert_eq!(writer.capacity(), 10, "no page rounding on the mirror");
    let mut reader = writer.add_reader();
    writer.produce(8);
    reader.consume(8);
    let room = writer.slice();
    assert_eq!(room.len(), 10);
    for (i, slot) in room[..5].iter_mut().enumerate() {
        *slot = 100 + i as u16;
    }
    writer.produce(5);
    assert_eq!(reader.slice().unwrap(), &[100, 101, 102, 103, 104], "one slice across the end");
    reader.consume(5);
    drop(writer);
    assert_eq!(reader.slice(), None);
}

#[wasm_bindgen_test]
fn bad_ring_input_is_an_error() {
    assert!(matches!(Circular::with_capacity::<u8>(0), Err(RingError::Memory(_))));
    let mut writer = Circular::with_capacity::<u8>(4).unwrap();
    assert!(matches!(writer.try_produce(5), Err(RingError::ProduceTooMuch { .. })));
}

/// Issue 13, where it bit: a slice filled across the end and published in two steps (the first
/// crossing the end) arrives whole on the mirror, as on double-mapped memory natively; re-slicing
/// before the rest is produced shows the writer its own writes.
#[wasm_bindgen_test]
fn a_slice_produced_in_two_steps_across_the_end_arrives_whole() {
    let mut writer = Circular::with_capacity::<u32>(100).unwrap();
    let cap = writer.capacity();
    let mut reader = writer.add_reader();
    writer.produce(cap - 10);
    reader.consume(cap - 10);
    let written: Vec<u32> = (1000..1050).collect();
    writer.slice()[..50].copy_from_slice(&written);
    writer.produce(20);
    assert_eq!(writer.slice()[..30], written[20..], "the writer sees its own writes");
    writer.produce(30);
    let mut got = Vec::new();
    while got.len() < 50 {
        let items = reader.slice().unwrap();
        got.extend_from_slice(items);
        let n = items.len();
        reader.consume(n);
    }
    assert_eq!(got, written);
}
