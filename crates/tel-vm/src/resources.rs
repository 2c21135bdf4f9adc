//! Resources a run consumes, and the allocator that grants them.
//!
//! A [`ResourceAllocator`] hands out [`Grant`]s: budgets of fuel (VM instructions), heap bytes,
//! effects and wall-clock milliseconds. Grants form a tree. [`ResourceAllocator::subdivide`]
//! makes a child of a grant that can never exceed what its parent has left, and every charge
//! to a child also counts against all its ancestors, so siblings share their parent's budget.
//! Releasing a grant ends it; what it used stays counted in its ancestors. Heap bytes are a
//! level rather than a total: [`ResourceAllocator::refund`] gives back what a run frees. The
//! allocator is thread-safe: one process-wide instance ([`ResourceAllocator::global`]) serves
//! every run that is not given another, and tests make their own.
//!
//! The VM charges its grant between slices of instructions and before every change of grant
//! (docs/vm.md, "Resources"), and computes its budget for the next slice from the grant's
//! remaining, so a single run stops exactly at a grant's limit.

use std::sync::{Arc, Mutex, OnceLock};

/// A resource a run consumes and may exhaust.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Resource {
    /// VM instructions.
    Fuel,
    /// Bytes of live values (by the VM's size estimate; what a run frees is given back).
    HeapBytes,
    /// Effects performed.
    Effects,
    /// Wall-clock milliseconds spent running.
    WallTime,
    /// Frames on the call stack (a limit of the run, not granted by the allocator).
    CallDepth,
}

impl Resource {
    /// The resources an allocator grants, in the order of [`Amounts`]' fields.
    pub const GRANTED: [Resource; 4] =
        [Resource::Fuel, Resource::HeapBytes, Resource::Effects, Resource::WallTime];

    pub fn name(self) -> &'static str {
        match self {
            Resource::Fuel => "fuel",
            Resource::HeapBytes => "heap bytes",
            Resource::Effects => "effects",
            Resource::WallTime => "wall time (ms)",
            Resource::CallDepth => "call depth",
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An amount of each granted resource (a limit, a usage or a remainder). `u64::MAX` means
/// unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Amounts {
    pub fuel: u64,
    pub heap_bytes: u64,
    pub effects: u64,
    pub wall_ms: u64,
}

/// What a grant has used (its children's use included).
pub type ResourceUsage = Amounts;

impl Amounts {
    pub const UNLIMITED: Amounts =
        Amounts { fuel: u64::MAX, heap_bytes: u64::MAX, effects: u64::MAX, wall_ms: u64::MAX };

    pub fn get(&self, r: Resource) -> u64 {
        match r {
            Resource::Fuel => self.fuel,
            Resource::HeapBytes => self.heap_bytes,
            Resource::Effects => self.effects,
            Resource::WallTime => self.wall_ms,
            Resource::CallDepth => u64::MAX,
        }
    }

    fn slot(&mut self, r: Resource) -> Option<&mut u64> {
        match r {
            Resource::Fuel => Some(&mut self.fuel),
            Resource::HeapBytes => Some(&mut self.heap_bytes),
            Resource::Effects => Some(&mut self.effects),
            Resource::WallTime => Some(&mut self.wall_ms),
            Resource::CallDepth => None,
        }
    }
}

/// What to grant: for each resource an exact amount, or `None` for all that the parent
/// (for [`ResourceAllocator::allocate`], the allocator's capacity) has left.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResourceRequest {
    pub fuel: Option<u64>,
    pub heap_bytes: Option<u64>,
    pub effects: Option<u64>,
    pub wall_ms: Option<u64>,
}

impl ResourceRequest {
    /// All that is left of everything.
    pub const REST: ResourceRequest =
        ResourceRequest { fuel: None, heap_bytes: None, effects: None, wall_ms: None };

    fn get(&self, r: Resource) -> Option<u64> {
        match r {
            Resource::Fuel => self.fuel,
            Resource::HeapBytes => self.heap_bytes,
            Resource::Effects => self.effects,
            Resource::WallTime => self.wall_ms,
            Resource::CallDepth => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    #[error("cannot grant {requested} {resource}: only {available} left")]
    Insufficient { resource: Resource, requested: u64, available: u64 },
    #[error("{resource} exhausted (limit {limit})")]
    Exhausted { resource: Resource, limit: u64 },
    #[error("the grant was released")]
    Released,
}

#[derive(Debug)]
struct Node {
    parent: Option<usize>,
    limit: Amounts,
    used: Amounts,
    /// A `Grant` handle still refers to the node.
    held: bool,
    children: usize,
}

#[derive(Debug)]
struct Tree {
    /// Node 0 is the root: the allocator's capacity.
    nodes: Vec<Option<Node>>,
    free: Vec<usize>,
}

impl Tree {
    fn node(&self, id: usize) -> Option<&Node> {
        self.nodes.get(id).and_then(Option::as_ref)
    }

    /// What `id` may still use of `r`: the least remainder along its chain of ancestors, and
    /// the limit of the grant where that remainder is.
    fn remaining(&self, id: usize, r: Resource) -> (u64, u64) {
        let mut best = (u64::MAX, u64::MAX);
        let mut at = Some(id);
        while let Some(n) = at.and_then(|i| self.node(i)) {
            let limit = n.limit.get(r);
            let left =
                if limit == u64::MAX { u64::MAX } else { limit.saturating_sub(n.used.get(r)) };
            if left < best.0 {
                best = (left, n.limit.get(r));
            }
            at = n.parent;
        }
        best
    }

    fn insert(&mut self, node: Node) -> usize {
        if let Some(p) = node.parent
            && let Some(Some(parent)) = self.nodes.get_mut(p)
        {
            parent.children += 1;
        }
        match self.free.pop() {
            Some(i) => {
                self.nodes[i] = Some(node);
                i
            }
            None => {
                self.nodes.push(Some(node));
                self.nodes.len() - 1
            }
        }
    }

    /// Frees `id` once nothing refers to it (no handle, no child), then its parent likewise.
    fn collect(&mut self, mut id: usize) {
        while id != 0 {
            let Some(n) = self.node(id) else { return };
            if n.held || n.children > 0 {
                return;
            }
            let parent = n.parent;
            self.nodes[id] = None;
            self.free.push(id);
            let Some(p) = parent else { return };
            if let Some(Some(pn)) = self.nodes.get_mut(p) {
                pn.children -= 1;
            }
            id = p;
        }
    }
}

/// Hands out hierarchical grants of resources; thread-safe and cheap to clone (clones share
/// one tree).
#[derive(Clone, Debug)]
pub struct ResourceAllocator {
    tree: Arc<Mutex<Tree>>,
}

/// A budget of resources from a [`ResourceAllocator`]. Dropping it releases it.
#[derive(Debug)]
pub struct Grant {
    allocator: ResourceAllocator,
    id: usize,
    limit: Amounts,
}

impl Grant {
    /// What this grant was given.
    pub fn limit(&self) -> Amounts {
        self.limit
    }

    pub fn allocator(&self) -> &ResourceAllocator {
        &self.allocator
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        let mut tree = self.allocator.lock();
        if let Some(Some(n)) = tree.nodes.get_mut(self.id) {
            n.held = false;
        }
        tree.collect(self.id);
    }
}

impl ResourceAllocator {
    /// An allocator whose grants together can use at most `capacity`.
    pub fn new(capacity: Amounts) -> ResourceAllocator {
        let root = Node {
            parent: None,
            limit: capacity,
            used: Amounts::default(),
            held: true,
            children: 0,
        };
        ResourceAllocator {
            tree: Arc::new(Mutex::new(Tree { nodes: vec![Some(root)], free: Vec::new() })),
        }
    }

    /// The process-wide allocator (unlimited capacity): what a run uses unless it is given
    /// a grant of another.
    pub fn global() -> &'static ResourceAllocator {
        static GLOBAL: OnceLock<ResourceAllocator> = OnceLock::new();
        GLOBAL.get_or_init(|| ResourceAllocator::new(Amounts::UNLIMITED))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tree> {
        // A panic while holding the lock cannot leave the tree half-updated in a way that
        // matters more than losing the whole allocator would: keep going.
        self.tree.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A top-level grant: a child of the allocator's capacity.
    pub fn allocate(&self, request: ResourceRequest) -> Result<Grant, ResourceError> {
        self.grant(0, request)
    }

    /// A child of `parent`: each resource is the requested amount, or all that `parent` has
    /// left; asking for more than it has left is refused. The child's use counts against
    /// `parent` (and its ancestors) as it happens.
    pub fn subdivide(
        &self,
        parent: &Grant,
        request: ResourceRequest,
    ) -> Result<Grant, ResourceError> {
        if !Arc::ptr_eq(&self.tree, &parent.allocator.tree) {
            return Err(ResourceError::Released);
        }
        self.grant(parent.id, request)
    }

    fn grant(&self, parent: usize, request: ResourceRequest) -> Result<Grant, ResourceError> {
        let mut tree = self.lock();
        if tree.node(parent).is_none() {
            return Err(ResourceError::Released);
        }
        let mut limit = Amounts::default();
        for r in Resource::GRANTED {
            let (available, _) = tree.remaining(parent, r);
            let amount = match request.get(r) {
                Some(n) if n > available => {
                    return Err(ResourceError::Insufficient {
                        resource: r,
                        requested: n,
                        available,
                    });
                }
                Some(n) => n,
                None => available,
            };
            *limit.slot(r).expect("a granted resource") = amount;
        }
        let node =
            Node { parent: Some(parent), limit, used: Amounts::default(), held: true, children: 0 };
        let id = tree.insert(node);
        Ok(Grant { allocator: self.clone(), id, limit })
    }

    /// Ends a grant (as dropping it does). Its use stays counted in its ancestors; children
    /// still held keep working against what remains.
    pub fn release(&self, grant: Grant) {
        drop(grant);
    }

    /// What `grant` and its children have used.
    pub fn check_usage(&self, grant: &Grant) -> ResourceUsage {
        self.lock().node(grant.id).map_or_else(Amounts::default, |n| n.used)
    }

    /// What `grant` may still use: for each resource the least remainder along its chain of
    /// ancestors.
    pub fn remaining(&self, grant: &Grant) -> Amounts {
        let tree = self.lock();
        let mut out = Amounts::default();
        for r in Resource::GRANTED {
            *out.slot(r).expect("a granted resource") = tree.remaining(grant.id, r).0;
        }
        out
    }

    /// What `grant` may still use of `r`, and the limit of the grant (itself or an
    /// ancestor) where that remainder is the least: the limit a run stopping there names.
    pub fn binding(&self, grant: &Grant, r: Resource) -> (u64, u64) {
        self.lock().remaining(grant.id, r)
    }

    /// Records that `grant` used `amounts`, in it and every ancestor. The use is recorded
    /// even when it passes a limit; the error names the first resource that did and the
    /// limit of the (innermost) grant it passed.
    pub fn charge(&self, grant: &Grant, amounts: Amounts) -> Result<(), ResourceError> {
        let mut tree = self.lock();
        if tree.node(grant.id).is_none() {
            return Err(ResourceError::Released);
        }
        let mut exceeded: Option<ResourceError> = None;
        let mut at = Some(grant.id);
        while let Some(i) = at {
            let Some(Some(n)) = tree.nodes.get_mut(i) else { break };
            for r in Resource::GRANTED {
                let used = n.used.slot(r).expect("a granted resource");
                *used = used.saturating_add(amounts.get(r));
                let limit = n.limit.get(r);
                if *used > limit && exceeded.is_none() {
                    exceeded = Some(ResourceError::Exhausted { resource: r, limit });
                }
            }
            at = n.parent;
        }
        exceeded.map_or(Ok(()), Err)
    }

    /// Records that `grant` gave back `amount` of `r`, in it and every ancestor (never
    /// below zero). Heap bytes are a level, not a total: a run gives back what it frees.
    pub fn refund(&self, grant: &Grant, r: Resource, amount: u64) {
        let mut tree = self.lock();
        let mut at = Some(grant.id);
        while let Some(i) = at {
            let Some(Some(n)) = tree.nodes.get_mut(i) else { break };
            if let Some(used) = n.used.slot(r) {
                *used = used.saturating_sub(amount);
            }
            at = n.parent;
        }
    }

    /// How many grants are live (held or with live children), for tests and diagnostics.
    pub fn live_grants(&self) -> usize {
        self.lock().nodes.iter().skip(1).filter(|n| n.is_some()).count()
    }

    /// What all grants of this allocator have used.
    pub fn total_usage(&self) -> ResourceUsage {
        self.lock().node(0).map_or_else(Amounts::default, |n| n.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amounts(fuel: u64, heap_bytes: u64, effects: u64, wall_ms: u64) -> Amounts {
        Amounts { fuel, heap_bytes, effects, wall_ms }
    }

    fn fuel(n: u64) -> ResourceRequest {
        ResourceRequest { fuel: Some(n), ..ResourceRequest::REST }
    }

    #[test]
    fn allocate_takes_from_the_capacity_and_refuses_more_than_is_left() {
        let a = ResourceAllocator::new(amounts(1000, 1 << 20, 10, 5000));
        let g = a.allocate(fuel(600)).unwrap();
        assert_eq!(g.limit(), amounts(600, 1 << 20, 10, 5000));
        a.charge(&g, amounts(400, 0, 0, 0)).unwrap();
        // 600 of the capacity's 1000 are used or promised to nobody: only the use counts.
        assert_eq!(a.remaining(&g).fuel, 200);
        let err = a.allocate(fuel(700)).unwrap_err();
        assert_eq!(
            err,
            ResourceError::Insufficient {
                resource: Resource::Fuel,
                requested: 700,
                available: 600
            }
        );
        let rest = a.allocate(ResourceRequest::REST).unwrap();
        assert_eq!(rest.limit().fuel, 600);
    }

    #[test]
    fn a_child_never_exceeds_its_parent_and_its_use_counts_against_it() {
        let a = ResourceAllocator::new(Amounts::UNLIMITED);
        let parent = a
            .allocate(ResourceRequest {
                fuel: Some(100),
                effects: Some(5),
                ..ResourceRequest::REST
            })
            .unwrap();
        a.charge(&parent, amounts(30, 0, 1, 0)).unwrap();
        assert_eq!(
            a.subdivide(&parent, fuel(71)).unwrap_err(),
            ResourceError::Insufficient { resource: Resource::Fuel, requested: 71, available: 70 }
        );
        let child = a.subdivide(&parent, fuel(50)).unwrap();
        assert_eq!((child.limit().fuel, child.limit().effects), (50, 4));
        let grandchild = a.subdivide(&child, ResourceRequest::REST).unwrap();
        assert_eq!(grandchild.limit().fuel, 50);
        a.charge(&grandchild, amounts(20, 64, 2, 0)).unwrap();
        assert_eq!(a.check_usage(&grandchild), amounts(20, 64, 2, 0));
        assert_eq!(a.check_usage(&child), amounts(20, 64, 2, 0));
        assert_eq!(a.check_usage(&parent), amounts(50, 64, 3, 0));
        // The parent's own use shrinks what its descendants have left.
        a.charge(&parent, amounts(45, 0, 0, 0)).unwrap();
        assert_eq!(a.remaining(&grandchild).fuel, 5);
        // Passing the grandchild's limit is reported with the innermost limit passed.
        let err = a.charge(&grandchild, amounts(31, 0, 0, 0)).unwrap_err();
        assert_eq!(err, ResourceError::Exhausted { resource: Resource::Fuel, limit: 50 });
        assert_eq!(a.check_usage(&parent).fuel, 126, "the use is recorded all the same");
    }

    #[test]
    fn siblings_share_what_their_parent_has_left() {
        let a = ResourceAllocator::new(Amounts::UNLIMITED);
        let parent = a.allocate(fuel(100)).unwrap();
        let x = a.subdivide(&parent, ResourceRequest::REST).unwrap();
        let y = a.subdivide(&parent, ResourceRequest::REST).unwrap();
        a.charge(&x, amounts(70, 0, 0, 0)).unwrap();
        assert_eq!(a.remaining(&y).fuel, 30);
        let err = a.charge(&y, amounts(40, 0, 0, 0)).unwrap_err();
        assert_eq!(err, ResourceError::Exhausted { resource: Resource::Fuel, limit: 100 });
    }

    #[test]
    fn release_keeps_the_use_and_frees_the_grant() {
        let a = ResourceAllocator::new(Amounts::UNLIMITED);
        let parent = a.allocate(fuel(100)).unwrap();
        let child = a.subdivide(&parent, fuel(10)).unwrap();
        a.charge(&child, amounts(7, 0, 1, 0)).unwrap();
        assert_eq!(a.live_grants(), 2);
        a.release(child);
        assert_eq!(a.live_grants(), 1);
        assert_eq!(a.check_usage(&parent), amounts(7, 0, 1, 0));
        // A released parent whose child is still held stays until the child goes.
        let child = a.subdivide(&parent, fuel(10)).unwrap();
        drop(parent);
        assert_eq!(a.live_grants(), 2);
        a.charge(&child, amounts(3, 0, 0, 0)).unwrap();
        drop(child);
        assert_eq!(a.live_grants(), 0);
        assert_eq!(a.total_usage().fuel, 10);
    }

    #[test]
    fn grants_are_shared_across_threads() {
        let a = ResourceAllocator::new(Amounts::UNLIMITED);
        let parent = a.allocate(fuel(1_000_000)).unwrap();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let child = a.subdivide(&parent, ResourceRequest::REST).unwrap();
                    for _ in 0..1000 {
                        a.charge(&child, amounts(1, 0, 0, 0)).unwrap();
                    }
                });
            }
        });
        assert_eq!(a.check_usage(&parent).fuel, 4000);
        assert_eq!(a.live_grants(), 1);
    }
}
