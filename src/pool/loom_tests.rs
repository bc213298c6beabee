//! loom models of the budget and waiting protocol (`budget.rs`) and of the thread slots' protocol
//! (`thread_slot.rs`).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release --lib loom`. loom explores every interleaving
//! of the threads below; a lost wake-up shows up as a deadlock, a budget overrun as a failed assertion,
//! and an owner's step overlapping a taker's access to a slot's blocks as a causality violation of the
//! block stack's `UnsafeCell`.

use super::budget::{Budget, NoLeases, Request};
use super::thread_slot::{Registry, Reserved, ThreadSlot};
use loom::sync::Arc;
use loom::thread;

fn req(class: usize, size: usize) -> Request {
    Request { class, size, tenant: None }
}

/// A budget without leases.
fn plain(limit: usize, classes: usize) -> Arc<Budget> {
    Arc::new(Budget::new(limit, classes, std::sync::Arc::new(NoLeases)))
}

/// A budget whose leases hold up to `lease_cap[class]` bytes, in the slots of the returned registry
/// (which keep up to `blocks` idle blocks per class).
fn leased(
    limit: usize,
    lease_cap: Vec<usize>,
    blocks: usize,
) -> (Arc<Budget>, std::sync::Arc<Registry<Blk>>) {
    let classes = lease_cap.len();
    let registry = std::sync::Arc::new(Registry::new(vec![blocks; classes], lease_cap));
    (Arc::new(Budget::new(limit, classes, registry.clone())), registry)
}

/// A block of the models: an id.
struct Blk(u32);

/// A release through `slot` as the thread cache does it; the block's id unless the slot kept it.
fn put(slot: &ThreadSlot<Blk>, budget: &Budget, r: &Request, block: Blk) -> Option<u32> {
    assert!(r.class < slot.class_count());
    // SAFETY: `budget` is the model's own, not part of the block; the class is one of the slot's
    // (checked above).
    unsafe { slot.put(r, budget, block) }.err().map(|block| block.0)
}

/// An acquire through `slot` as the thread cache does it: from the lease, else from the budget.
/// `None`: no room; `Some(block)`: reserved, with the slot's idle block if it had one.
fn slot_acquire(slot: &ThreadSlot<Blk>, budget: &Budget, r: &Request) -> Option<Option<Blk>> {
    assert!(r.class < slot.class_count());
    // SAFETY: the class is one of the slot's (checked above).
    match unsafe { slot.take_leased(r.class, r.size) } {
        Reserved::BytesAndBlock(block) => Some(Some(block)),
        Reserved::Bytes => Some(None),
        Reserved::No => {
            if !budget.try_reserve(r) {
                return None;
            }
            Some(slot.pop(r.class))
        }
    }
}

#[test]
fn loom_a_release_always_wakes_the_waiter() {
    loom::model(|| {
        let budget = plain(1, 1);
        assert!(budget.try_reserve(&req(0, 1)));
        let b = budget.clone();
        let releaser = thread::spawn(move || b.release(&req(0, 1)));
        // Blocks until granted: if the release's wake-up were lost, loom reports a deadlock.
        assert!(budget.wait(&req(0, 1), None));
        releaser.join().unwrap();
        assert_eq!(budget.reserved(), 1);
    });
}

#[test]
fn loom_racing_reservations_never_overrun_the_budget() {
    loom::model(|| {
        let budget = plain(1, 2);
        let b = budget.clone();
        let other = thread::spawn(move || b.try_reserve(&req(1, 1)));
        let mine = budget.try_reserve(&req(0, 1));
        let theirs = other.join().unwrap();
        assert!(!(mine && theirs), "both reservations succeeded over a budget of one");
        assert_eq!(budget.reserved(), usize::from(mine) + usize::from(theirs));
    });
}

#[test]
fn loom_a_racing_fast_path_request_does_not_strand_a_waiter() {
    // A waiter of class 0 and a try_reserve of class 1 race a release. Whatever the order, the waiter
    // must end up granted (the try_reserve may or may not get in first, and then gives its room back).
    loom::model(|| {
        let budget = plain(1, 2);
        assert!(budget.try_reserve(&req(0, 1)));
        let b1 = budget.clone();
        let releaser = thread::spawn(move || b1.release(&req(0, 1)));
        let b2 = budget.clone();
        let racer = thread::spawn(move || {
            if b2.try_reserve(&req(1, 1)) {
                b2.release(&req(1, 1));
            }
        });
        assert!(budget.wait(&req(0, 1), None));
        releaser.join().unwrap();
        racer.join().unwrap();
        assert_eq!(budget.reserved(), 1);
    });
}

#[test]
fn loom_a_tenant_release_wakes_a_waiter_held_by_its_quota() {
    use super::budget::TenantState;
    loom::model(|| {
        // Plenty of budget; the tenant's quota of one is what makes the waiter wait.
        let budget = plain(10, 1);
        let tenant = std::sync::Arc::new(TenantState::new("t".into(), 1));
        let r = Request { class: 0, size: 1, tenant: Some(tenant) };
        assert!(budget.try_reserve(&r));
        let (b, r2) = (budget.clone(), r.clone());
        let releaser = thread::spawn(move || b.release(&r2));
        assert!(budget.wait(&r, None));
        releaser.join().unwrap();
        assert_eq!(budget.reserved(), 1);
    });
}

#[test]
fn loom_a_release_into_a_lease_never_strands_a_waiter() {
    // Thread A releases into its lease while the main thread, finding no room, queues (taking every
    // lease on the way). Whichever comes first, the room must reach the waiter.
    loom::model(|| {
        let (budget, registry) = leased(1, vec![1], 0);
        let slot = registry.register();
        assert!(budget.try_reserve(&req(0, 1)));
        let (b, s) = (budget.clone(), slot.clone());
        let releaser = thread::spawn(move || assert_eq!(put(&s, &b, &req(0, 1), Blk(7)), Some(7)));
        assert!(budget.wait(&req(0, 1), None));
        releaser.join().unwrap();
        assert_eq!((budget.reserved(), budget.leased()), (1, 0));
    });
}

#[test]
fn loom_leased_bytes_are_taken_back_for_a_waiter() {
    // Thread A acquires and releases twice through its slot, ending with its budget parked in the
    // lease; the main thread must still get the room.
    loom::model(|| {
        let (budget, registry) = leased(1, vec![1], 1);
        let slot = registry.register();
        let (b, s) = (budget.clone(), slot.clone());
        let worker = thread::spawn(move || {
            for _ in 0..2 {
                if let Some(block) = slot_acquire(&s, &b, &req(0, 1)) {
                    put(&s, &b, &req(0, 1), block.unwrap_or(Blk(1)));
                }
            }
        });
        assert!(budget.wait(&req(0, 1), None));
        worker.join().unwrap();
        // The waiter holds the one byte; nothing else may be reserved.
        assert_eq!(budget.reserved(), 1);
    });
}

#[test]
fn loom_a_waiter_takes_a_lease_the_owner_is_using() {
    // The owner takes from and gives back to its lease while a waiter takes every lease: the lease's
    // bytes are counted exactly once, and the waiter gets the room (a lost wake-up is a deadlock).
    loom::model(|| {
        let (budget, registry) = leased(2, vec![2], 0);
        let slot = registry.register();
        assert!(budget.try_reserve(&req(0, 1)));
        assert!(budget.try_reserve(&req(0, 1)));
        put(&slot, &budget, &req(0, 1), Blk(0)); // one byte parked in the lease, one checked out
        let (b, s) = (budget.clone(), slot.clone());
        let owner = thread::spawn(move || {
            if slot_acquire(&s, &b, &req(0, 1)).is_some() {
                put(&s, &b, &req(0, 1), Blk(0));
            }
            put(&s, &b, &req(0, 1), Blk(0)); // the byte checked out before
        });
        assert!(budget.wait(&req(0, 2), None));
        owner.join().unwrap();
        assert_eq!((budget.reserved(), budget.leased()), (2, 0));
    });
}

#[test]
fn loom_closing_takes_every_block_exactly_once_while_the_owner_works() {
    // The owner takes its cached block (and leased byte) and gives them back while another thread
    // seals every slot (the pool closing). The block must end up in exactly one place, with the owner
    // (refused by its sealed slot) or with the sealer, and the byte reserved only while a lease holds
    // it; the two must never touch the slot's blocks at once (loom's `UnsafeCell` check).
    loom::model(|| {
        let (budget, registry) = leased(1, vec![1], 1);
        let slot = registry.register();
        assert!(budget.try_reserve(&req(0, 1)));
        assert_eq!(put(&slot, &budget, &req(0, 1), Blk(1)), None); // cached, byte leased
        let (b, s) = (budget.clone(), slot.clone());
        let owner = thread::spawn(move || {
            let block = slot_acquire(&s, &b, &req(0, 1)).map(|got| got.unwrap_or(Blk(2)));
            block.and_then(|block| put(&s, &b, &req(0, 1), block))
        });
        let taken = registry.seal_all();
        let mut all: Vec<u32> = owner.join().unwrap().into_iter().collect();
        all.extend(taken.blocks.iter().map(|(_, block)| block.0));
        all.sort_unstable();
        assert!(all == [1] || all == [1, 2], "a block was lost or taken twice: {all:?}");
        assert_eq!(budget.reserved(), taken.leased[0], "budget kept that no lease holds");
        // A sealed slot keeps nothing from now on.
        assert!(slot.pop(0).is_none());
    });
}

fn tenant_req(tenant: &std::sync::Arc<super::budget::TenantState>, class: usize, size: usize) -> Request {
    Request { class, size, tenant: Some(tenant.clone()) }
}

#[test]
fn loom_a_waiter_held_by_its_quota_holds_up_nobody() {
    // Alpha (quota 1) holds its quota and waits for more; a request of another tenant, with room in
    // the budget, must be served whatever the interleaving, and alpha once its own byte comes back.
    use super::budget::TenantState;
    loom::model(|| {
        let budget = plain(2, 1);
        let alpha = std::sync::Arc::new(TenantState::new("alpha".into(), 1));
        let beta = std::sync::Arc::new(TenantState::new("beta".into(), 2));
        assert!(budget.try_reserve(&tenant_req(&alpha, 0, 1)));
        let (b, a) = (budget.clone(), alpha.clone());
        let blocked = thread::spawn(move || assert!(b.wait(&tenant_req(&a, 0, 1), None)));
        // Never granted if alpha's waiter held it up: loom reports the deadlock.
        assert!(budget.wait(&tenant_req(&beta, 0, 1), None));
        budget.release(&tenant_req(&alpha, 0, 1));
        blocked.join().unwrap();
        assert_eq!(budget.reserved(), 2);
        assert_eq!((alpha.in_use(), beta.in_use()), (1, 1));
    });
}

#[test]
fn loom_a_waiter_freed_from_its_quota_gets_leased_budget() {
    // Alpha (quota 2) holds 1 and waits for 2: its quota holds it, so the budget is not flagged and a
    // release may park budget in a lease. When alpha's byte comes back the waiter needs budget: the
    // leased bytes must reach it, wherever the waiter's queueing falls between the releases.
    use super::budget::TenantState;
    loom::model(|| {
        let (budget, registry) = leased(3, vec![0, 2], 0);
        let alpha = std::sync::Arc::new(TenantState::new("alpha".into(), 2));
        assert!(budget.try_reserve(&tenant_req(&alpha, 0, 1)));
        let slot = registry.register();
        assert!(budget.try_reserve(&req(1, 2))); // the budget is full
        let (b, s, a) = (budget.clone(), slot.clone(), alpha.clone());
        let releaser = thread::spawn(move || {
            put(&s, &b, &req(1, 2), Blk(0));
            b.release(&tenant_req(&a, 0, 1));
        });
        assert!(budget.wait(&tenant_req(&alpha, 1, 2), None));
        releaser.join().unwrap();
        assert_eq!((budget.reserved(), budget.leased(), alpha.in_use()), (2, 0, 2));
    });
}
