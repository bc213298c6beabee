//! A table of native values that JS holds by number: what a JS `PooledBuffer` keeps instead of a
//! wrapped native object, and a JS `BufferPool` beside its native one (see `js/addon-pool.mjs` for
//! why).
//!
//! A handle is a slot index and the slot's generation, in one integer a JS number holds exactly. A slot
//! is reused (last freed, first reused) once its value is removed, with the next generation, so a stale
//! handle (kept by mistake, or forged) finds nothing rather than another buffer. 0 is never a handle.

/// Generations count from 1 and wrap below this, so a handle stays below 2^52.
const GENERATIONS: u32 = 1 << 20;
/// Slots per table: at most `u32::MAX` live values.
const SLOT_SHIFT: u32 = 32;

/// Native values by handle.
pub(crate) struct Handles<T> {
    slots: Vec<Slot<T>>,
    /// Indexes of the empty slots, the last freed on top.
    empty: Vec<u32>,
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

impl<T> Default for Handles<T> {
    fn default() -> Self {
        Handles { slots: Vec::new(), empty: Vec::new() }
    }
}

impl<T> Handles<T> {
    /// Stores `value` and returns its handle; `Err(value)` when the table is full.
    pub(crate) fn insert(&mut self, value: T) -> Result<u64, T> {
        let index = match self.empty.pop() {
            Some(index) => index,
            None => {
                let Ok(index) = u32::try_from(self.slots.len()) else { return Err(value) };
                self.slots.push(Slot { generation: 1, value: None });
                index
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.value = Some(value);
        Ok((u64::from(slot.generation) << SLOT_SHIFT) | u64::from(index))
    }

    /// The value of `handle`, unless it was removed (or never was).
    pub(crate) fn get(&self, handle: u64) -> Option<&T> {
        let (index, generation) = split(handle)?;
        let slot = self.slots.get(index as usize)?;
        if slot.generation == generation {
            slot.value.as_ref()
        } else {
            None
        }
    }

    /// [`get`](Self::get), mutably.
    pub(crate) fn get_mut(&mut self, handle: u64) -> Option<&mut T> {
        let (index, generation) = split(handle)?;
        let slot = self.slots.get_mut(index as usize)?;
        if slot.generation == generation {
            slot.value.as_mut()
        } else {
            None
        }
    }

    /// Takes the value of `handle` out; its slot is free for the next `insert`.
    pub(crate) fn remove(&mut self, handle: u64) -> Option<T> {
        let (index, generation) = split(handle)?;
        let slot = self.slots.get_mut(index as usize)?;
        if slot.generation != generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = if slot.generation + 1 == GENERATIONS { 1 } else { slot.generation + 1 };
        self.empty.push(index);
        Some(value)
    }

    /// Takes every value out (when the JS environment goes away).
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.empty.clear();
        self.slots.drain(..).filter_map(|slot| slot.value)
    }
}

/// A handle's slot index and generation, if it can be one.
fn split(handle: u64) -> Option<(u32, u32)> {
    let generation = u32::try_from(handle >> SLOT_SHIFT).ok()?;
    if generation == 0 || generation >= GENERATIONS {
        return None;
    }
    Some((handle as u32, generation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_find_their_value_until_removed_and_never_another() {
        let mut table = Handles::default();
        let a = table.insert('a').unwrap();
        let b = table.insert('b').unwrap();
        assert_ne!(a, 0);
        assert_eq!(table.get_mut(a), Some(&mut 'a'));
        assert_eq!(table.remove(a), Some('a'));
        assert_eq!(table.get_mut(a), None);
        assert_eq!(table.remove(a), None);
        let c = table.insert('c').unwrap();
        assert_ne!(c, a, "the slot is reused with a new generation");
        assert_eq!(c as u32, a as u32);
        assert_eq!(table.get_mut(a), None, "a stale handle finds nothing");
        assert_eq!(table.get_mut(c), Some(&mut 'c'));
        for forged in [0, 1, u64::MAX, (u64::from(GENERATIONS) << 32) | 1] {
            assert_eq!(table.get_mut(forged), None);
        }
        assert!((c as f64) < 2f64.powi(53), "JS numbers hold handles exactly");
        let mut left: Vec<char> = table.drain().collect();
        left.sort();
        assert_eq!(left, ['b', 'c']);
        let _ = b;
    }

    #[test]
    fn generations_wrap_without_reaching_zero() {
        let mut table = Handles::default();
        let mut last = table.insert(0).unwrap();
        for i in 1..(GENERATIONS as u64 + 5) {
            table.remove(last).unwrap();
            last = table.insert(i).unwrap();
            assert_ne!(last >> 32, 0);
        }
    }
}
