//! loom models of the budget and waiting protocol (`budget.rs`).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release --lib loom`. loom explores every interleaving
//! of the threads below; a lost wake-up shows up as a deadlock, a budget overrun as a failed assertion.

use super::budget::{Budget, Request};
use loom::sync::Arc;
use loom::thread;

fn req(class: usize, size: usize) -> Request {
    Request { class, size, tenant: None }
}

#[test]
fn loom_a_release_always_wakes_the_waiter() {
    loom::model(|| {
        let budget = Arc::new(Budget::new(1, vec![0]));
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
        let budget = Arc::new(Budget::new(1, vec![0, 0]));
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
        let budget = Arc::new(Budget::new(1, vec![0, 0]));
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
        let budget = Arc::new(Budget::new(10, vec![0]));
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
        let budget = Arc::new(Budget::new(1, vec![1]));
        let lease = budget.new_lease();
        assert!(budget.try_reserve_leased(&lease, &req(0, 1)));
        let (b, l) = (budget.clone(), lease.clone());
        let releaser = thread::spawn(move || b.release_leased(&l, &req(0, 1)));
        assert!(budget.wait(&req(0, 1), None));
        releaser.join().unwrap();
        assert_eq!(budget.reserved(), 1);
        assert_eq!(lease.bytes(), 0);
    });
}

#[test]
fn loom_leased_bytes_are_taken_back_for_a_waiter() {
    // Thread A acquires and releases twice through its lease, ending with its budget parked in the
    // lease; the main thread must still get the room.
    loom::model(|| {
        let budget = Arc::new(Budget::new(1, vec![1]));
        let lease = budget.new_lease();
        let (b, l) = (budget.clone(), lease.clone());
        let worker = thread::spawn(move || {
            for _ in 0..2 {
                if b.try_reserve_leased(&l, &req(0, 1)) {
                    b.release_leased(&l, &req(0, 1));
                }
            }
        });
        assert!(budget.wait(&req(0, 1), None));
        worker.join().unwrap();
        // The waiter holds the one byte; nothing else may be reserved.
        assert_eq!(budget.reserved(), 1);
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
        let budget = Arc::new(Budget::new(2, vec![0]));
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
        let budget = Arc::new(Budget::new(3, vec![0, 2]));
        let alpha = std::sync::Arc::new(TenantState::new("alpha".into(), 2));
        assert!(budget.try_reserve(&tenant_req(&alpha, 0, 1)));
        let lease = budget.new_lease();
        assert!(budget.try_reserve_leased(&lease, &req(1, 2))); // the budget is full
        let (b, l, a) = (budget.clone(), lease.clone(), alpha.clone());
        let releaser = thread::spawn(move || {
            b.release_leased(&l, &req(1, 2));
            b.release(&tenant_req(&a, 0, 1));
        });
        assert!(budget.wait(&tenant_req(&alpha, 1, 2), None));
        releaser.join().unwrap();
        assert_eq!((budget.reserved(), lease.bytes(), alpha.in_use()), (2, 0, 2));
    });
}
