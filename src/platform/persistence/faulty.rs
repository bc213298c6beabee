//! Fault injection: a wrapper around any persistence layer that makes chosen calls fail the way real
//! storage fails, so that code over a layer (the virtual buffer, its save) can be tested against
//! short reads, I/O errors, failing saves and files changed underneath.

use std::io::ErrorKind;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{PersistenceError, PersistenceLayer, SaveOptions, SaveRecipe};
use crate::ZeroCopyBuffer;

/// A call of [`PersistenceLayer`] that a [`FaultPlan`] can make fail.
///
/// ```
/// use omnibuf::testing::{Call, FaultyPersistence, Trigger};
/// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
///
/// let layer = FaultyPersistence::new(MemoryPersistence::new(b"abc".to_vec()));
/// layer.plan().io_error(Call::Len, Trigger::Always, std::io::ErrorKind::Other);
/// assert!(layer.len().is_err());
/// assert_eq!(layer.plan().calls(Call::Len), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Call {
    /// [`PersistenceLayer::len`] (also reached through `is_empty`).
    Len,
    /// [`PersistenceLayer::read_at`].
    ReadAt,
    /// [`PersistenceLayer::read_buffer`].
    ReadBuffer,
    /// `PersistenceLayer::copy_range_to_file` (native targets), how saves copy runs.
    CopyRangeToFile,
    /// [`PersistenceLayer::check_unchanged`].
    CheckUnchanged,
    /// [`PersistenceLayer::save`].
    Save,
}

/// A call that reads a range, the calls a short read can hit.
///
/// ```
/// use omnibuf::testing::{FaultyPersistence, ReadCall, Trigger};
/// use omnibuf::vbuf::{MemoryPersistence, PersistenceError, PersistenceLayer};
///
/// let layer = FaultyPersistence::new(MemoryPersistence::new(b"abcdef".to_vec()));
/// layer.plan().short_read(ReadCall::ReadBuffer, Trigger::Always);
/// assert!(matches!(layer.read_buffer(0, 6), Err(PersistenceError::ShortRead { .. })));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadCall {
    /// [`PersistenceLayer::read_at`].
    ReadAt,
    /// [`PersistenceLayer::read_buffer`].
    ReadBuffer,
    /// `PersistenceLayer::copy_range_to_file` (native targets).
    CopyRangeToFile,
}

impl From<ReadCall> for Call {
    fn from(call: ReadCall) -> Self {
        match call {
            ReadCall::ReadAt => Call::ReadAt,
            ReadCall::ReadBuffer => Call::ReadBuffer,
            ReadCall::CopyRangeToFile => Call::CopyRangeToFile,
        }
    }
}

/// Which calls of its kind a fault hits. Calls are counted per [`Call`] kind, from 1.
///
/// ```
/// use omnibuf::testing::{FaultyPersistence, ReadCall, Trigger};
/// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
///
/// let layer = FaultyPersistence::new(MemoryPersistence::new(vec![0u8; 100]));
/// // A damaged region: reads that touch bytes 40..50 come back short.
/// layer.plan().short_read(ReadCall::ReadAt, Trigger::Overlapping { offset: 40, len: 10 });
/// let mut dst = [0u8; 10];
/// assert!(layer.read_at(0, &mut dst).is_ok());
/// assert!(layer.read_at(35, &mut dst).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Every call.
    Always,
    /// Only the n-th call (1 is the first).
    Nth(u64),
    /// The n-th call and every one after it.
    FromNth(u64),
    /// Calls whose range overlaps `offset..offset + len`, like a damaged region of a disk. Calls
    /// without a range (`len`, `check_unchanged`, `save`) never match.
    Overlapping {
        /// Start of the damaged region.
        offset: u64,
        /// Length of the damaged region.
        len: u64,
    },
}

impl Trigger {
    fn matches(self, count: u64, range: Option<(u64, u64)>) -> bool {
        match self {
            Trigger::Always => true,
            Trigger::Nth(n) => count == n,
            Trigger::FromNth(n) => count >= n,
            Trigger::Overlapping { offset, len } => range.is_some_and(|(start, n)| {
                let (end, bad_end) = (start.saturating_add(n), offset.saturating_add(len));
                start < bad_end && offset < end
            }),
        }
    }
}

/// What a rule does to the calls it hits.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Half the bytes, then [`PersistenceError::ShortRead`]; only ever set on a [`ReadCall`].
    ShortRead,
    /// The call fails: at once, or for a save at the end of the recipe the wrapped layer writes.
    Fail(Failure),
}

#[derive(Debug, Clone, Copy)]
enum Failure {
    Io(ErrorKind),
    ExternallyChanged,
}

#[derive(Debug)]
struct Rule {
    call: Call,
    trigger: Trigger,
    fault: Fault,
}

/// The number of [`Call`] kinds.
const CALL_KINDS: usize = 6;

#[derive(Debug, Default)]
struct PlanState {
    rules: Vec<Rule>,
    /// Calls made so far, per kind, indexed by `Call as usize`.
    calls: [u64; CALL_KINDS],
    injected: u64,
}

/// Which faults a [`FaultyPersistence`] injects, and a count of the calls it saw.
///
/// Cloning gives another handle on the same plan: keep one to change the faults after the layer has
/// been handed to a virtual buffer. Rules are tried in the order they were added; the first that
/// matches a call decides its fault.
///
/// ```
/// use omnibuf::testing::{Call, FaultPlan, FaultyPersistence, ReadCall, Trigger};
/// use omnibuf::vbuf::MemoryPersistence;
/// use omnibuf::vbuf::{PersistenceError, PersistenceLayer};
///
/// let layer = FaultyPersistence::new(MemoryPersistence::new(b"0123456789".to_vec()));
/// let plan = layer.plan().clone();
/// plan.short_read(ReadCall::ReadAt, Trigger::Nth(2));
///
/// let mut dst = [0u8; 4];
/// layer.read_at(0, &mut dst).unwrap();
/// let second = layer.read_at(4, &mut dst);
/// assert!(matches!(second, Err(PersistenceError::ShortRead { got: 2, .. })));
/// assert_eq!(&dst[..2], b"45"); // the bytes before the fault did arrive
/// assert_eq!(plan.calls(Call::ReadAt), 2);
/// assert_eq!(plan.injected(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    state: Arc<Mutex<PlanState>>,
}

impl FaultPlan {
    /// A plan that injects nothing (yet).
    ///
    /// ```
    /// use omnibuf::testing::{Call, FaultPlan, FaultyPersistence};
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// let plan = FaultPlan::new();
    /// let inner = Box::new(MemoryPersistence::new(b"ok".to_vec()));
    /// let layer = FaultyPersistence::with_plan(inner, plan.clone());
    /// assert_eq!(layer.len().unwrap(), 2); // nothing injected
    /// assert_eq!((plan.calls(Call::Len), plan.injected()), (1, 0));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Reading calls matching `trigger` deliver the first half of the bytes asked for, then fail
    /// with [`PersistenceError::ShortRead`], as a file truncated underneath does. (`read_buffer`
    /// returns only the error; `copy_range_to_file` has written the first half.)
    ///
    /// ```
    /// use omnibuf::testing::{FaultyPersistence, ReadCall, Trigger};
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceError, PersistenceLayer};
    ///
    /// let layer = FaultyPersistence::new(MemoryPersistence::new(b"abcdefgh".to_vec()));
    /// layer.plan().short_read(ReadCall::ReadAt, Trigger::FromNth(1));
    /// let mut dst = [0u8; 8];
    /// let err = layer.read_at(0, &mut dst).unwrap_err();
    /// assert!(matches!(err, PersistenceError::ShortRead { wanted: 8, got: 4, .. }));
    /// ```
    pub fn short_read(&self, call: ReadCall, trigger: Trigger) -> &Self {
        self.add(call.into(), trigger, Fault::ShortRead)
    }

    /// Calls matching `trigger` fail with an I/O error of `kind` (for example
    /// [`ErrorKind::StorageFull`] for a full disk). A failing [`Call::Save`] hands the wrapped layer
    /// its recipe with the error as the last item, after every piece, so that the layer writes
    /// everything and then runs its own abort path; the save returns what the layer returns.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use omnibuf::testing::{Call, FaultyPersistence, Trigger};
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceError, PersistenceLayer};
    ///
    /// let layer = FaultyPersistence::new(MemoryPersistence::new(b"abc".to_vec()));
    /// layer.plan().io_error(Call::Len, Trigger::Nth(1), ErrorKind::PermissionDenied);
    /// let err = layer.len().unwrap_err();
    /// assert!(matches!(err, PersistenceError::Io(e) if e.kind() == ErrorKind::PermissionDenied));
    /// assert_eq!(layer.len().unwrap(), 3); // only the first call fails
    /// ```
    pub fn io_error(&self, call: Call, trigger: Trigger, kind: ErrorKind) -> &Self {
        self.add(call, trigger, Fault::Fail(Failure::Io(kind)))
    }

    /// `check_unchanged` calls matching `trigger` report [`PersistenceError::ExternallyChanged`], so a
    /// save refuses unless forced, as after another program wrote the file.
    ///
    /// ```
    /// use omnibuf::testing::{FaultyPersistence, Trigger};
    /// use omnibuf::vbuf::{MemoryPersistence, SaveOptions, VirtualBuffer, VirtualBufferOptions};
    /// use std::sync::Arc;
    ///
    /// let layer = FaultyPersistence::new(MemoryPersistence::new(b"text".to_vec()));
    /// layer.plan().external_change(Trigger::Always);
    /// let buf = VirtualBuffer::with_layer(Arc::new(layer), VirtualBufferOptions::default()).unwrap();
    /// buf.insert(0, b"my ").unwrap();
    /// assert!(buf.save().is_err()); // refused, as over a file another program wrote
    /// buf.save_with(SaveOptions { force: true }).unwrap();
    /// ```
    pub fn external_change(&self, trigger: Trigger) -> &Self {
        self.add(Call::CheckUnchanged, trigger, Fault::Fail(Failure::ExternallyChanged))
    }

    /// Removes every fault; the call counts stay.
    ///
    /// ```
    /// use omnibuf::testing::{Call, FaultyPersistence, Trigger};
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// let layer = FaultyPersistence::new(MemoryPersistence::new(b"abc".to_vec()));
    /// layer.plan().external_change(Trigger::Always);
    /// assert!(layer.check_unchanged().is_err());
    /// layer.plan().clear();
    /// assert!(layer.check_unchanged().is_ok());
    /// assert_eq!(layer.plan().calls(Call::CheckUnchanged), 2); // the counts stay
    /// ```
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// How many `call`s the layers under this plan received, failed or not.
    ///
    /// ```
    /// use omnibuf::testing::{Call, FaultyPersistence};
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// let layer = FaultyPersistence::new(MemoryPersistence::new(b"abc".to_vec()));
    /// layer.read_buffer(0, 1).unwrap();
    /// layer.read_buffer(1, 1).unwrap();
    /// assert_eq!((layer.plan().calls(Call::ReadBuffer), layer.plan().calls(Call::ReadAt)), (2, 0));
    /// ```
    pub fn calls(&self, call: Call) -> u64 {
        self.lock().calls[call as usize]
    }

    /// How many faults were injected so far.
    ///
    /// ```
    /// use omnibuf::testing::{FaultyPersistence, ReadCall, Trigger};
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// let layer = FaultyPersistence::new(MemoryPersistence::new(vec![0; 10]));
    /// layer.plan().short_read(ReadCall::ReadBuffer, Trigger::Overlapping { offset: 5, len: 1 });
    /// assert!(layer.read_buffer(0, 4).is_ok());
    /// assert!(layer.read_buffer(4, 4).is_err());
    /// assert_eq!(layer.plan().injected(), 1);
    /// ```
    pub fn injected(&self) -> u64 {
        self.lock().injected
    }

    fn add(&self, call: Call, trigger: Trigger, fault: Fault) -> &Self {
        self.lock().rules.push(Rule { call, trigger, fault });
        self
    }

    fn lock(&self) -> MutexGuard<'_, PlanState> {
        // A panic elsewhere while holding the lock leaves counts and rules consistent (each update is
        // a single statement), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a call and returns the fault it must suffer, if any, with the call's number.
    fn on_call(&self, call: Call, range: Option<(u64, u64)>) -> (u64, Option<Fault>) {
        let mut state = self.lock();
        state.calls[call as usize] += 1;
        let count = state.calls[call as usize];
        let fault =
            state.rules.iter().find(|r| r.call == call && r.trigger.matches(count, range)).map(|r| r.fault);
        if fault.is_some() {
            state.injected += 1;
        }
        (count, fault)
    }
}

/// A [`PersistenceLayer`] that forwards to another and injects the faults of its [`FaultPlan`].
///
/// A test aid, for users and for omnibuf's own tests: wrap the layer a virtual buffer reads, set
/// faults on the plan, and check that the buffer reports them as errors and never hands out wrong
/// bytes. The layer a [`save`](PersistenceLayer::save) returns is wrapped too, under the same plan.
///
/// ```
/// use std::io::ErrorKind;
/// use omnibuf::testing::{Call, FaultyPersistence, Trigger};
/// use omnibuf::vbuf::MemoryPersistence;
/// use omnibuf::vbuf::{PersistenceError, PersistenceLayer, SaveOptions, SavePiece};
///
/// let layer = FaultyPersistence::new(MemoryPersistence::new(b"old".to_vec()));
/// layer.plan().io_error(Call::Save, Trigger::Nth(1), ErrorKind::StorageFull);
///
/// let recipe = || vec![Ok(SavePiece::Copy { offset: 0, len: 3 })].into_iter();
/// let err = layer.save(&mut recipe(), SaveOptions::default()).unwrap_err();
/// assert!(matches!(err, PersistenceError::Io(e) if e.kind() == ErrorKind::StorageFull));
///
/// let saved = layer.save(&mut recipe(), SaveOptions::default()).unwrap(); // the second save works
/// assert_eq!(saved.read_buffer(0, 3).unwrap(), b"old"[..]);
/// ```
#[derive(Debug)]
pub struct FaultyPersistence {
    inner: Box<dyn PersistenceLayer>,
    plan: FaultPlan,
}

impl FaultyPersistence {
    /// Wraps `inner` under a new, empty plan.
    ///
    /// ```
    /// use omnibuf::testing::FaultyPersistence;
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// let layer = FaultyPersistence::new(MemoryPersistence::new(b"abc".to_vec()));
    /// assert_eq!(layer.read_buffer(0, 3).unwrap(), b"abc"[..]); // no faults yet: forwards every call
    /// assert_eq!(layer.plan().injected(), 0);
    /// ```
    pub fn new(inner: impl PersistenceLayer + 'static) -> Self {
        Self::with_plan(Box::new(inner), FaultPlan::new())
    }

    /// Wraps `inner` (for example a layer a save returned) under an existing plan.
    ///
    /// ```
    /// use omnibuf::testing::{Call, FaultPlan, FaultyPersistence};
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// let plan = FaultPlan::new();
    /// let a = FaultyPersistence::with_plan(Box::new(MemoryPersistence::new(vec![1])), plan.clone());
    /// let b = FaultyPersistence::with_plan(Box::new(MemoryPersistence::new(vec![2])), plan.clone());
    /// a.len().unwrap();
    /// b.len().unwrap();
    /// assert_eq!(plan.calls(Call::Len), 2); // one plan counts for both layers
    /// ```
    pub fn with_plan(inner: Box<dyn PersistenceLayer>, plan: FaultPlan) -> Self {
        Self { inner, plan }
    }

    /// The plan: set faults and read call counts through it (clone it to keep a handle).
    ///
    /// ```
    /// use omnibuf::testing::{Call, FaultyPersistence, Trigger};
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// let layer = FaultyPersistence::new(MemoryPersistence::new(b"abc".to_vec()));
    /// let plan = layer.plan().clone(); // a handle that outlives handing the layer away
    /// plan.external_change(Trigger::Nth(1));
    /// assert!(layer.check_unchanged().is_err());
    /// assert_eq!(plan.calls(Call::CheckUnchanged), 1);
    /// ```
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// The wrapped layer.
    ///
    /// ```
    /// use omnibuf::testing::{FaultyPersistence, Trigger};
    /// use omnibuf::vbuf::{MemoryPersistence, PersistenceLayer};
    ///
    /// let layer = FaultyPersistence::new(MemoryPersistence::new(b"abc".to_vec()));
    /// layer.plan().external_change(Trigger::Always);
    /// assert!(layer.check_unchanged().is_err());
    /// assert!(layer.inner().check_unchanged().is_ok()); // the wrapped layer injects nothing
    /// ```
    pub fn inner(&self) -> &dyn PersistenceLayer {
        &*self.inner
    }

    /// The error an injected failure of the `count`-th `call` returns.
    fn error(&self, call: Call, count: u64, failure: Failure) -> PersistenceError {
        let detail = format!("injected fault on {call:?} call #{count}");
        match failure {
            Failure::Io(kind) => PersistenceError::Io(std::io::Error::new(kind, detail)),
            Failure::ExternallyChanged => PersistenceError::ExternallyChanged {
                what: self.inner.path().map_or_else(|| "the content".to_owned(), |p| p.display().to_string()),
                detail,
            },
        }
    }

    /// Counts a call that reads nothing and returns the failure planned for it, if any.
    fn planned_failure(&self, call: Call) -> Result<(), PersistenceError> {
        match self.plan.on_call(call, None) {
            (count, Some(Fault::Fail(failure))) => Err(self.error(call, count, failure)),
            // Short reads are set on reading calls only (`short_read` takes a `ReadCall`).
            (_, Some(Fault::ShortRead) | None) => Ok(()),
        }
    }
}

impl PersistenceLayer for FaultyPersistence {
    fn len(&self) -> Result<u64, PersistenceError> {
        self.planned_failure(Call::Len)?;
        self.inner.len()
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<(), PersistenceError> {
        match self.plan.on_call(Call::ReadAt, Some((offset, dst.len() as u64))) {
            (_, Some(Fault::ShortRead)) => {
                let half = dst.len() / 2;
                self.inner.read_at(offset, &mut dst[..half])?;
                Err(PersistenceError::ShortRead { offset, wanted: dst.len() as u64, got: half as u64 })
            }
            (count, Some(Fault::Fail(failure))) => Err(self.error(Call::ReadAt, count, failure)),
            (_, None) => self.inner.read_at(offset, dst),
        }
    }

    fn read_buffer(&self, offset: u64, len: usize) -> Result<ZeroCopyBuffer, PersistenceError> {
        match self.plan.on_call(Call::ReadBuffer, Some((offset, len as u64))) {
            (_, Some(Fault::ShortRead)) => {
                Err(PersistenceError::ShortRead { offset, wanted: len as u64, got: (len / 2) as u64 })
            }
            (count, Some(Fault::Fail(failure))) => Err(self.error(Call::ReadBuffer, count, failure)),
            (_, None) => self.inner.read_buffer(offset, len),
        }
    }

    fn is_mapped(&self) -> bool {
        self.inner.is_mapped()
    }

    fn check_unchanged(&self) -> Result<(), PersistenceError> {
        self.planned_failure(Call::CheckUnchanged)?;
        self.inner.check_unchanged()
    }

    fn check_intact(&self) -> Result<(), PersistenceError> {
        self.inner.check_intact()
    }

    fn save(
        &self,
        recipe: &mut SaveRecipe<'_>,
        options: SaveOptions,
    ) -> Result<Box<dyn PersistenceLayer>, PersistenceError> {
        // The save's failure is not returned here but handed to the wrapped layer at the recipe's end.
        let injected = match self.plan.on_call(Call::Save, None) {
            (count, Some(Fault::Fail(failure))) => Some(self.error(Call::Save, count, failure)),
            (_, Some(Fault::ShortRead) | None) => None,
        };
        if !options.force {
            // Here, so that an injected external change refuses the save as a real one would.
            self.check_unchanged()?;
        }
        let saved = match injected {
            None => self.inner.save(recipe, options)?,
            Some(injected) => {
                let mut failing = recipe.chain(std::iter::once(Err(injected)));
                self.inner.save(&mut failing, options)?
            }
        };
        Ok(Box::new(FaultyPersistence::with_plan(saved, self.plan.clone())))
    }

    fn path(&self) -> Option<&std::path::Path> {
        self.inner.path()
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn copy_range_to_file(
        &self,
        offset: u64,
        len: u64,
        dst: &mut std::fs::File,
    ) -> Result<(), PersistenceError> {
        match self.plan.on_call(Call::CopyRangeToFile, Some((offset, len))) {
            (_, Some(Fault::ShortRead)) => {
                let half = len / 2;
                self.inner.copy_range_to_file(offset, half, dst)?;
                Err(PersistenceError::ShortRead { offset, wanted: len, got: half })
            }
            (count, Some(Fault::Fail(failure))) => Err(self.error(Call::CopyRangeToFile, count, failure)),
            (_, None) => self.inner.copy_range_to_file(offset, len, dst),
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn next_data(&self, offset: u64, end: u64) -> Result<u64, PersistenceError> {
        self.inner.next_data(offset, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::persistence::{MemoryPersistence, SavePiece};

    fn layer() -> FaultyPersistence {
        FaultyPersistence::new(MemoryPersistence::new(b"0123456789".to_vec()))
    }

    fn read(layer: &FaultyPersistence, offset: u64, len: usize) -> Result<Vec<u8>, PersistenceError> {
        let mut dst = vec![0u8; len];
        layer.read_at(offset, &mut dst).map(|()| dst)
    }

    #[test]
    fn triggers_pick_the_calls_they_name() {
        let l = layer();
        l.plan().io_error(Call::ReadAt, Trigger::Nth(2), ErrorKind::Other);
        l.plan().short_read(ReadCall::ReadAt, Trigger::FromNth(4));
        assert_eq!(read(&l, 0, 2).unwrap(), b"01");
        let err = read(&l, 0, 2).unwrap_err();
        assert!(err.to_string().contains("injected fault on ReadAt call #2"), "{err}");
        assert_eq!(read(&l, 2, 2).unwrap(), b"23");
        for _ in 0..3 {
            assert!(matches!(read(&l, 0, 2), Err(PersistenceError::ShortRead { got: 1, .. })));
        }
        assert_eq!((l.plan().calls(Call::ReadAt), l.plan().injected()), (6, 4));
        l.plan().clear();
        assert_eq!(read(&l, 0, 10).unwrap(), b"0123456789");
    }

    #[test]
    fn overlapping_hits_only_reads_of_the_damaged_region() {
        let l = layer();
        l.plan().io_error(
            Call::ReadBuffer,
            Trigger::Overlapping { offset: 4, len: 2 },
            ErrorKind::InvalidData,
        );
        l.plan().short_read(ReadCall::ReadAt, Trigger::Overlapping { offset: 4, len: 2 });
        assert_eq!(l.read_buffer(0, 4).unwrap(), b"0123"[..]);
        assert_eq!(l.read_buffer(6, 4).unwrap(), b"6789"[..]);
        assert!(
            matches!(l.read_buffer(5, 1), Err(PersistenceError::Io(e)) if e.kind() == ErrorKind::InvalidData)
        );
        assert!(matches!(l.read_buffer(0, 10), Err(PersistenceError::Io(_))));
        assert_eq!(read(&l, 0, 4).unwrap(), b"0123");
        assert!(matches!(read(&l, 3, 4), Err(PersistenceError::ShortRead { offset: 3, wanted: 4, got: 2 })));
        // Calls without a range are never hit.
        l.plan().io_error(Call::Len, Trigger::Overlapping { offset: 0, len: 100 }, ErrorKind::Other);
        assert_eq!(l.len().unwrap(), 10);
    }

    #[test]
    fn an_injected_external_change_refuses_saves_unless_forced() {
        let l = layer();
        l.plan().external_change(Trigger::Always);
        assert!(matches!(l.check_unchanged(), Err(PersistenceError::ExternallyChanged { .. })));
        let recipe = || vec![Ok(SavePiece::Copy { offset: 0, len: 4 })].into_iter();
        assert!(matches!(
            l.save(&mut recipe(), SaveOptions::default()),
            Err(PersistenceError::ExternallyChanged { .. })
        ));
        let saved = l.save(&mut recipe(), SaveOptions { force: true }).unwrap();
        assert_eq!(saved.read_buffer(0, 4).unwrap(), b"0123"[..]);
    }

    #[test]
    fn a_failing_save_reaches_the_wrapped_layer_and_the_saved_layer_keeps_the_plan() {
        let l = layer();
        l.plan().io_error(Call::Save, Trigger::Nth(1), ErrorKind::StorageFull);
        l.plan().io_error(Call::Len, Trigger::Nth(1), ErrorKind::Other);
        let recipe = || vec![Ok(SavePiece::Copy { offset: 2, len: 3 })].into_iter();
        let err = l.save(&mut recipe(), SaveOptions::default()).unwrap_err();
        assert!(matches!(err, PersistenceError::Io(e) if e.kind() == ErrorKind::StorageFull));
        let saved = l.save(&mut recipe(), SaveOptions::default()).unwrap();
        // The save returns a wrapped layer under the same plan: its first `len` is the plan's first.
        assert!(saved.len().is_err());
        assert_eq!(saved.len().unwrap(), 3);
        assert_eq!(l.plan().calls(Call::Save), 2);
    }
}
