//! Min-cost flow by the primal network simplex, for networks with negative arc costs but no
//! directed cycle; a max-flow (Dinic) for the equity policy's feasibility checks; the residual
//! distances the drill's pricing reads; and an independent optimality certificate
//! (Bellman-Ford: no negative cycle in the residual graph).
//!
//! `solve` finds a minimum-cost flow of *any* value from `source` to `sink`: it adds a free
//! return arc sink → source and solves the min-cost circulation. The simplex keeps a spanning
//! tree of basic arcs (an artificial root joined to every node by a free arc that can carry
//! no flow), prices arcs in blocks of about √m (the entering arc is the most violating arc of
//! the first block that has one), and picks the leaving arc by the strongly-feasible-tree rule
//! (the last blocking arc met going round the cycle from its apex), which rules out cycling
//! on degenerate pivots. It stops when no arc violates its optimality condition: the node
//! potentials it ends with give every residual arc a non-negative reduced cost, which is
//! exactly "no negative cycle" — `certify` checks that independently.
//!
//! Integer capacities and costs, so the optimum is integral and exact. Arcs are priced in a
//! fixed order and ties keep the first candidate, so the same network gives the same flow.
//! (The drill's earlier solver, successive shortest paths, is kept in `reference.rs` as a
//! second implementation for the tests.)

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The most nodes and arcs one network may have: a bound on memory per category.
pub const NODES_MAX: usize = 4_000_000;
pub const ARCS_MAX: usize = 16_000_000;

/// A capacity that never binds.
pub const UNBOUNDED: i64 = i64::MAX / 4;

/// A node index that names no node (tree and list ends).
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Arc {
    to: u32,
    /// Index of the reverse arc in `arcs`.
    rev: u32,
    /// Residual capacity.
    capacity: i64,
    cost: i64,
}

/// A directed network with capacities and costs; arcs are stored in pairs (forward, reverse)
/// whose capacities are the residual capacities of the current flow.
#[derive(Debug, Clone, Default)]
pub struct Network {
    arcs: Vec<Arc>,
    /// Outgoing arc indexes per node.
    out: Vec<Vec<u32>>,
    /// Forward arc index per arc id (the id `add_arc` returned).
    forward: Vec<u32>,
    original_capacity: Vec<i64>,
    /// The first limit an `add_*` call ran into; from then on the network takes nothing more
    /// and must not be solved (`allocate` checks, and answers with the limit).
    exceeded: Option<&'static str>,
    /// Node potentials after `solve`: every residual arc (u, v), and the return arc, has
    /// `cost + potential[u] − potential[v] ≥ 0`.
    potential: Vec<i64>,
}

/// Identifies an arc added with `add_arc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArcId(pub u32);

impl Network {
    /// A new node, or — past `NODES_MAX` — a placeholder that marks the network exceeded.
    pub fn add_node(&mut self) -> u32 {
        if self.exceeded.is_some() || self.out.len() >= NODES_MAX {
            self.exceeded.get_or_insert("NODES_MAX");
            return 0;
        }
        self.out.push(Vec::new());
        (self.out.len() - 1) as u32
    }

    /// The limit the network ran into while being built, if any.
    pub fn exceeded(&self) -> Option<&'static str> {
        self.exceeded
    }

    pub fn n_nodes(&self) -> usize {
        self.out.len()
    }

    pub fn n_arcs(&self) -> usize {
        self.forward.len()
    }

    /// A new arc, or — past `ARCS_MAX`, or on an exceeded network — a placeholder that marks
    /// the network exceeded. A negative capacity is a defect of the builder, never of a request:
    /// it stays an assertion (on a server, the pool turns it into INTERNAL for that call).
    pub fn add_arc(&mut self, from: u32, to: u32, capacity: i64, cost: i64) -> ArcId {
        assert!(capacity >= 0, "negative capacity");
        if self.exceeded.is_some() || self.arcs.len() + 2 > ARCS_MAX {
            self.exceeded.get_or_insert("ARCS_MAX");
            return ArcId(0);
        }
        let at = self.arcs.len() as u32;
        self.arcs.push(Arc { to, rev: at + 1, capacity, cost });
        self.arcs.push(Arc { to: from, rev: at, capacity: 0, cost: -cost });
        self.out[from as usize].push(at);
        self.out[to as usize].push(at + 1);
        self.forward.push(at);
        self.original_capacity.push(capacity);
        ArcId((self.forward.len() - 1) as u32)
    }

    /// Flow on an arc (after `solve` or `max_flow`).
    pub fn flow(&self, arc: ArcId) -> i64 {
        let forward = &self.arcs[self.forward[arc.0 as usize] as usize];
        self.arcs[forward.rev as usize].capacity
    }

    pub fn cost(&self, arc: ArcId) -> i64 {
        self.arcs[self.forward[arc.0 as usize] as usize].cost
    }

    pub fn capacity(&self, arc: ArcId) -> i64 {
        self.original_capacity[arc.0 as usize]
    }

    pub fn endpoints(&self, arc: ArcId) -> (u32, u32) {
        let forward = &self.arcs[self.forward[arc.0 as usize] as usize];
        (self.arcs[forward.rev as usize].to, forward.to)
    }

    /// Total cost of the current flow.
    pub fn total_cost(&self) -> i128 {
        (0..self.forward.len())
            .map(|i| {
                i128::from(self.flow(ArcId(i as u32))) * i128::from(self.cost(ArcId(i as u32)))
            })
            .sum()
    }

    /// Removes all flow, so the network can be solved again (after `set_capacity`).
    pub fn clear_flow(&mut self) {
        for (i, &at) in self.forward.iter().enumerate() {
            let rev = self.arcs[at as usize].rev as usize;
            self.arcs[at as usize].capacity = self.original_capacity[i];
            self.arcs[rev].capacity = 0;
        }
    }

    /// Changes an arc's capacity; the network must carry no flow (`clear_flow`).
    pub fn set_capacity(&mut self, arc: ArcId, capacity: i64) {
        debug_assert!(capacity >= 0 && self.flow(arc) == 0);
        self.original_capacity[arc.0 as usize] = capacity.max(0);
        self.arcs[self.forward[arc.0 as usize] as usize].capacity = capacity.max(0);
    }

    /// A topological order of the nodes over arcs with capacity (whatever flow they carry),
    /// or `None` if they form a cycle.
    fn topological_order(&self) -> Option<Vec<u32>> {
        let n = self.n_nodes();
        let mut in_degree = vec![0u32; n];
        let forward_arcs = |v: u32| {
            self.out[v as usize]
                .iter()
                .filter(|at| *at % 2 == 0 && self.original_capacity[(**at / 2) as usize] > 0)
                .map(|at| self.arcs[*at as usize].to)
        };
        for v in 0..n as u32 {
            for to in forward_arcs(v) {
                in_degree[to as usize] += 1;
            }
        }
        let mut order: Vec<u32> = (0..n as u32).filter(|v| in_degree[*v as usize] == 0).collect();
        let mut head = 0;
        while head < order.len() {
            let v = order[head];
            head += 1;
            for to in forward_arcs(v) {
                in_degree[to as usize] -= 1;
                if in_degree[to as usize] == 0 {
                    order.push(to);
                }
            }
        }
        (order.len() == n).then_some(order)
    }

    /// Minimum-cost flow of any value from `source` to `sink` (see the module doc). The network
    /// must carry no flow yet and its arcs with capacity must form no directed cycle (the
    /// drill's networks go forward in time). Returns the number of pivots.
    pub fn solve(&mut self, source: u32, sink: u32) -> usize {
        Simplex::new(source, sink).solve(self)
    }

    /// Shortest residual distances from every node back to `source` after `solve(source,
    /// sink)`, counting the free return arc sink → source (and source → sink when flow runs);
    /// `None` where `source` cannot be reached. By Dijkstra on the reduced costs of the solve's
    /// potentials (all non-negative at an optimum).
    pub fn distances_to_source(&self, source: u32, sink: u32) -> Vec<Option<i64>> {
        let n = self.n_nodes();
        let reduced = |from: u32, to: u32, cost: i64| {
            cost + self.potential[from as usize] - self.potential[to as usize]
        };
        let flow_value: i64 = self.out[sink as usize]
            .iter()
            .filter(|at| *at % 2 == 1)
            .map(|at| self.arcs[*at as usize].capacity)
            .sum();
        let mut distance: Vec<Option<i64>> = vec![None; n];
        let mut done = vec![false; n];
        let mut heap = BinaryHeap::new();
        distance[source as usize] = Some(0);
        heap.push(Reverse((0i64, source)));
        while let Some(Reverse((d, y))) = heap.pop() {
            if done[y as usize] {
                continue;
            }
            done[y as usize] = true;
            let mut relax = |x: u32, cost: i64, heap: &mut BinaryHeap<Reverse<(i64, u32)>>| {
                let candidate = d + reduced(x, y, cost);
                debug_assert!(reduced(x, y, cost) >= 0, "not an optimal potential");
                if distance[x as usize].is_none_or(|known| candidate < known) {
                    distance[x as usize] = Some(candidate);
                    heap.push(Reverse((candidate, x)));
                }
            };
            // Residual arcs x → y are the partners of y's arcs whose capacity is left.
            for &at in &self.out[y as usize] {
                let partner = &self.arcs[self.arcs[at as usize].rev as usize];
                if partner.capacity > 0 {
                    relax(self.arcs[at as usize].to, partner.cost, &mut heap);
                }
            }
            if y == source {
                relax(sink, 0, &mut heap);
            }
            if y == sink && flow_value > 0 {
                relax(source, 0, &mut heap);
            }
        }
        // Undo the potentials: a reduced path cost is the true cost + π(x) − π(source).
        let p_source = self.potential[source as usize];
        distance
            .iter()
            .enumerate()
            .map(|(x, d)| d.map(|d| d - self.potential[x] + p_source))
            .collect()
    }

    /// Maximum flow from `source` to `sink` over the arcs' capacities (costs ignored), by
    /// Dinic's algorithm, added to whatever flow the network carries. Returns the flow added.
    pub fn max_flow(&mut self, source: u32, sink: u32) -> i64 {
        let n = self.n_nodes();
        let mut level = vec![-1i32; n];
        let mut next_arc = vec![0usize; n];
        let mut queue: Vec<u32> = Vec::with_capacity(n);
        let mut total = 0i64;
        loop {
            level.iter_mut().for_each(|l| *l = -1);
            queue.clear();
            queue.push(source);
            level[source as usize] = 0;
            let mut head = 0;
            while head < queue.len() {
                let v = queue[head];
                head += 1;
                for &at in &self.out[v as usize] {
                    let arc = &self.arcs[at as usize];
                    if arc.capacity > 0 && level[arc.to as usize] < 0 {
                        level[arc.to as usize] = level[v as usize] + 1;
                        queue.push(arc.to);
                    }
                }
            }
            if level[sink as usize] < 0 {
                return total;
            }
            next_arc.iter_mut().for_each(|a| *a = 0);
            // Blocking flow: depth-first along level-increasing arcs, one path at a time.
            let mut path: Vec<u32> = Vec::new();
            let mut v = source;
            loop {
                if v == sink {
                    let bottleneck =
                        path.iter().map(|at| self.arcs[*at as usize].capacity).min().unwrap_or(0);
                    for &at in &path {
                        self.arcs[at as usize].capacity -= bottleneck;
                        let rev = self.arcs[at as usize].rev as usize;
                        self.arcs[rev].capacity += bottleneck;
                    }
                    total += bottleneck;
                    path.clear();
                    v = source;
                    continue;
                }
                let mut advanced = false;
                while next_arc[v as usize] < self.out[v as usize].len() {
                    let at = self.out[v as usize][next_arc[v as usize]];
                    let arc = &self.arcs[at as usize];
                    if arc.capacity > 0 && level[arc.to as usize] == level[v as usize] + 1 {
                        path.push(at);
                        v = arc.to;
                        advanced = true;
                        break;
                    }
                    next_arc[v as usize] += 1;
                }
                if advanced {
                    continue;
                }
                // A dead end: never come back here in this phase.
                if v == source {
                    break;
                }
                level[v as usize] = -1;
                let Some(at) = path.pop() else { break };
                v = self.arcs[self.arcs[at as usize].rev as usize].to;
                next_arc[v as usize] += 1;
            }
        }
    }

    /// The nodes reachable from `from` over arcs with residual capacity.
    pub fn reachable_from(&self, from: u32) -> Vec<bool> {
        let mut seen = vec![false; self.n_nodes()];
        let mut stack = vec![from];
        seen[from as usize] = true;
        while let Some(v) = stack.pop() {
            for &at in &self.out[v as usize] {
                let arc = &self.arcs[at as usize];
                if arc.capacity > 0 && !seen[arc.to as usize] {
                    seen[arc.to as usize] = true;
                    stack.push(arc.to);
                }
            }
        }
        seen
    }

    /// The independent optimality certificate: with an uncapacitated, zero-cost arc from
    /// `sink` back to `source`, a flow is a minimum-cost flow of free value exactly when the
    /// residual graph has no negative-cost cycle. Bellman-Ford from a virtual root (distance 0
    /// to every node) finds one if it exists. Also checks capacity and conservation. Returns
    /// a description of the first violation.
    pub fn certify(&self, source: u32, sink: u32) -> Result<(), String> {
        let n = self.n_nodes();
        let mut balance = vec![0i64; n];
        for i in 0..self.n_arcs() {
            let id = ArcId(i as u32);
            let flow = self.flow(id);
            if flow < 0 || flow > self.capacity(id) {
                return Err(format!("arc {i} carries {flow} outside [0, {}]", self.capacity(id)));
            }
            let (from, to) = self.endpoints(id);
            balance[from as usize] -= flow;
            balance[to as usize] += flow;
        }
        for (v, b) in balance.iter().enumerate() {
            if *b != 0 && v as u32 != source && v as u32 != sink {
                return Err(format!("node {v} does not conserve flow ({b})"));
            }
        }
        // Residual arcs as (from, to, cost), including the sink→source return arc both ways.
        let mut residual: Vec<(u32, u32, i64)> = Vec::new();
        for i in 0..self.n_arcs() {
            let id = ArcId(i as u32);
            let (from, to) = self.endpoints(id);
            let (flow, capacity, cost) = (self.flow(id), self.capacity(id), self.cost(id));
            if flow < capacity {
                residual.push((from, to, cost));
            }
            if flow > 0 {
                residual.push((to, from, -cost));
            }
        }
        residual.push((sink, source, 0));
        if balance[sink as usize] > 0 {
            residual.push((source, sink, 0));
        }
        let mut distance = vec![0i128; n];
        for round in 0..=n {
            let mut changed = false;
            for &(from, to, cost) in &residual {
                let candidate = distance[from as usize] + i128::from(cost);
                if candidate < distance[to as usize] {
                    distance[to as usize] = candidate;
                    changed = true;
                }
            }
            if !changed {
                return Ok(());
            }
            if round == n {
                break;
            }
        }
        Err("the residual graph has a negative-cost cycle: the flow is not optimal".into())
    }
}

/// Arc states of the simplex: in the spanning tree, or out of it at a bound.
const TREE: i8 = 0;
const LOWER: i8 = 1;
const UPPER: i8 = -1;

/// The network simplex's working state for one network, kept between solves so that a network
/// that only grows (column generation adds arcs and nodes) is re-solved from the last optimal
/// tree instead of from scratch: new arcs join at their lower bound (no flow), new nodes hang
/// from the root by artificial arcs, and the pivots carry on.
///
/// Simplex node 0 is the artificial root; network node `v` is simplex node `v + 1`. Simplex
/// arc `a` is the network's arc `arc_of[a]`, or the return arc sink → source, or the
/// artificial arc of one node (never priced: once out of the tree it is gone for good).
#[derive(Debug, Clone)]
pub struct Simplex {
    source: u32,
    sink: u32,
    /// Network nodes and arcs already taken in.
    nodes_seen: usize,
    arcs_seen: usize,
    /// Per network arc: its simplex arc.
    simplex_arc: Vec<u32>,
    /// What the pricing scan reads, packed together.
    arc: Vec<SimplexArc>,
    capacity: Vec<i64>,
    /// Whether the network gave the arc no bound (capped at what the source can send).
    unbounded: Vec<bool>,
    flow: Vec<i64>,
    /// Where the block search resumes.
    next_arc: usize,
    parent: Vec<u32>,
    /// The tree arc joining a node to its parent, and whether it points from the node up.
    pred: Vec<u32>,
    pred_up: Vec<bool>,
    depth: Vec<u32>,
    first_child: Vec<u32>,
    next_sibling: Vec<u32>,
    prev_sibling: Vec<u32>,
    pi: Vec<i64>,
}

const ROOT: u32 = 0;

/// One arc as the pricing scan sees it.
#[derive(Debug, Clone, Copy)]
struct SimplexArc {
    from: u32,
    to: u32,
    cost: i64,
    state: i8,
    /// An artificial arc to the root: never priced.
    artificial: bool,
}

impl Simplex {
    pub fn new(source: u32, sink: u32) -> Simplex {
        Simplex {
            source,
            sink,
            nodes_seen: 0,
            arcs_seen: 0,
            simplex_arc: Vec::new(),
            arc: Vec::new(),
            capacity: Vec::new(),
            unbounded: Vec::new(),
            flow: Vec::new(),
            next_arc: 0,
            parent: vec![NONE],
            pred: vec![NONE],
            pred_up: vec![true],
            depth: vec![0],
            first_child: vec![NONE],
            next_sibling: vec![NONE],
            prev_sibling: vec![NONE],
            pi: vec![0],
        }
    }

    fn push_arc(&mut self, from: u32, to: u32, capacity: i64, cost: i64, state: i8) -> u32 {
        self.arc.push(SimplexArc { from, to, cost, state, artificial: false });
        self.capacity.push(capacity);
        self.unbounded.push(capacity >= UNBOUNDED);
        self.flow.push(0);
        (self.arc.len() - 1) as u32
    }

    /// Takes in the nodes and arcs the network gained since the last solve, then pivots to an
    /// optimum and writes the flow and the potentials back. The network's earlier arcs must
    /// not have changed. Returns the number of pivots.
    pub fn solve(&mut self, net: &mut Network) -> usize {
        debug_assert!(net.topological_order().is_some(), "the network has a directed cycle");
        if self.arc.is_empty() {
            // The return arc sink → source (capacity set below).
            self.push_arc(self.sink + 1, self.source + 1, UNBOUNDED, 0, LOWER);
        }
        for v in self.nodes_seen..net.n_nodes() {
            let node = (v + 1) as u32;
            let artificial = self.push_arc(node, ROOT, UNBOUNDED, 0, TREE);
            self.arc[artificial as usize].artificial = true;
            self.parent.push(ROOT);
            self.pred.push(artificial);
            self.pred_up.push(true);
            self.depth.push(1);
            self.first_child.push(NONE);
            self.next_sibling.push(NONE);
            self.prev_sibling.push(NONE);
            // The artificial arc costs nothing: a new node starts at the root's potential.
            self.pi.push(self.pi[ROOT as usize]);
            self.add_child(ROOT, node);
        }
        self.nodes_seen = net.n_nodes();
        for i in self.arcs_seen..net.n_arcs() {
            let (from, to) = net.endpoints(ArcId(i as u32));
            let arc = self.push_arc(
                from + 1,
                to + 1,
                net.original_capacity[i],
                net.cost(ArcId(i as u32)),
                LOWER,
            );
            self.simplex_arc.push(arc);
        }
        self.arcs_seen = net.n_arcs();
        // Every flow of an acyclic network is a sum of paths source → sink closed by the
        // return arc, so no arc ever carries more than the source can send: capping the
        // unbounded arcs there (+1, so they never saturate) changes no optimum and keeps every
        // pivot's cycle bounded. Adding supply only raises the cap, which no flow reaches.
        let source_total: i64 = net.out[self.source as usize]
            .iter()
            .filter(|at| *at % 2 == 0)
            .map(|at| net.original_capacity[(*at / 2) as usize].min(UNBOUNDED))
            .fold(0i64, |total, c| total.saturating_add(c));
        let cap = source_total.saturating_add(1).min(UNBOUNDED);
        for a in 0..self.arc.len() {
            if self.unbounded[a] && !self.arc[a].artificial {
                self.capacity[a] = cap;
            }
        }
        let pivots = self.run();
        for (i, &arc) in self.simplex_arc.iter().enumerate() {
            let flow = self.flow[arc as usize];
            let at = net.forward[i] as usize;
            let rev = net.arcs[at].rev as usize;
            net.arcs[at].capacity = net.original_capacity[i] - flow;
            net.arcs[rev].capacity = flow;
        }
        net.potential = self.pi[1..].to_vec();
        pivots
    }

    fn add_child(&mut self, parent: u32, child: u32) {
        let first = self.first_child[parent as usize];
        self.next_sibling[child as usize] = first;
        self.prev_sibling[child as usize] = NONE;
        if first != NONE {
            self.prev_sibling[first as usize] = child;
        }
        self.first_child[parent as usize] = child;
    }

    fn remove_child(&mut self, parent: u32, child: u32) {
        let (prev, next) = (self.prev_sibling[child as usize], self.next_sibling[child as usize]);
        if prev != NONE {
            self.next_sibling[prev as usize] = next;
        } else {
            self.first_child[parent as usize] = next;
        }
        if next != NONE {
            self.prev_sibling[next as usize] = prev;
        }
    }

    /// Pivots until no arc violates its optimality condition; returns the number of pivots.
    fn run(&mut self) -> usize {
        let n_arcs = self.arc.len();
        let block = ((n_arcs as f64).sqrt().ceil() as usize).max(10);
        let mut pivots = 0;
        loop {
            // Block search: the most violating arc of the first block (from where the last
            // search stopped, wrapping round) that has one.
            let (mut best, mut entering) = (0i64, usize::MAX);
            let mut in_block = 0;
            let mut arc = self.next_arc.min(n_arcs - 1);
            for _ in 0..n_arcs {
                let a = &self.arc[arc];
                if a.state != TREE && !a.artificial {
                    let reduced = a.cost + self.pi[a.from as usize] - self.pi[a.to as usize];
                    let violation = i64::from(a.state) * reduced;
                    if violation < best {
                        best = violation;
                        entering = arc;
                    }
                }
                arc += 1;
                if arc == n_arcs {
                    arc = 0;
                }
                in_block += 1;
                if in_block == block {
                    if entering != usize::MAX {
                        break;
                    }
                    in_block = 0;
                }
            }
            if entering == usize::MAX {
                return pivots;
            }
            self.next_arc = arc;
            self.pivot(entering);
            pivots += 1;
        }
    }

    fn pivot(&mut self, entering: usize) {
        // Flow goes round the cycle entering arc → second → up to the apex → down to first.
        let (first, second) = if self.arc[entering].state == LOWER {
            (self.arc[entering].from, self.arc[entering].to)
        } else {
            (self.arc[entering].to, self.arc[entering].from)
        };
        let (mut a, mut b) = (first, second);
        while a != b {
            let (da, db) = (self.depth[a as usize], self.depth[b as usize]);
            if da >= db {
                a = self.parent[a as usize];
            }
            if db >= da {
                b = self.parent[b as usize];
            }
        }
        let apex = a;
        // The leaving arc: the blocking arc met last going round the cycle from the apex
        // (strict on the first side, which is met last; ties on the second side move on).
        let mut delta = self.capacity[entering];
        let (mut leaving_node, mut leaving_side) = (NONE, 0u8);
        let mut u = first;
        while u != apex {
            let arc = self.pred[u as usize] as usize;
            // Flow runs down this side (parent → u).
            let room = if self.pred_up[u as usize] {
                self.flow[arc]
            } else {
                self.capacity[arc] - self.flow[arc]
            };
            if room < delta {
                delta = room;
                leaving_node = u;
                leaving_side = 1;
            }
            u = self.parent[u as usize];
        }
        u = second;
        while u != apex {
            let arc = self.pred[u as usize] as usize;
            // Flow runs up this side (u → parent).
            let room = if self.pred_up[u as usize] {
                self.capacity[arc] - self.flow[arc]
            } else {
                self.flow[arc]
            };
            if room <= delta {
                delta = room;
                leaving_node = u;
                leaving_side = 2;
            }
            u = self.parent[u as usize];
        }
        if delta > 0 {
            self.flow[entering] += i64::from(self.arc[entering].state) * delta;
            let mut u = first;
            while u != apex {
                let arc = self.pred[u as usize] as usize;
                self.flow[arc] += if self.pred_up[u as usize] { -delta } else { delta };
                u = self.parent[u as usize];
            }
            u = second;
            while u != apex {
                let arc = self.pred[u as usize] as usize;
                self.flow[arc] += if self.pred_up[u as usize] { delta } else { -delta };
                u = self.parent[u as usize];
            }
        }
        if leaving_side == 0 {
            // The entering arc blocks itself: it moves to its other bound, the tree stays.
            self.arc[entering].state = -self.arc[entering].state;
            return;
        }
        let leaving = self.pred[leaving_node as usize] as usize;
        self.arc[leaving].state = if self.flow[leaving] == 0 { LOWER } else { UPPER };
        self.arc[entering].state = TREE;
        // The subtree under the leaving arc holds one end of the entering arc (`u_in`); it is
        // re-hung from the other end (`v_in`), reversing the path from u_in up to it.
        let (u_in, v_in) = if leaving_side == 1 { (first, second) } else { (second, first) };
        self.remove_child(self.parent[leaving_node as usize], leaving_node);
        let (mut child, mut new_parent) = (u_in, v_in);
        let (mut new_pred, mut new_up) = (entering as u32, self.arc[entering].from == u_in);
        loop {
            let old_parent = self.parent[child as usize];
            let (old_pred, old_up) = (self.pred[child as usize], self.pred_up[child as usize]);
            if child != leaving_node {
                self.remove_child(old_parent, child);
            }
            self.parent[child as usize] = new_parent;
            self.pred[child as usize] = new_pred;
            self.pred_up[child as usize] = new_up;
            self.add_child(new_parent, child);
            if child == leaving_node {
                break;
            }
            (new_parent, new_pred, new_up) = (child, old_pred, !old_up);
            child = old_parent;
        }
        // Potentials of the re-hung subtree shift so the entering arc's reduced cost is 0;
        // depths are recomputed along the way (pre-order walk of the subtree).
        let sigma = if self.arc[entering].from == u_in {
            self.pi[v_in as usize] - self.arc[entering].cost - self.pi[u_in as usize]
        } else {
            self.arc[entering].cost + self.pi[v_in as usize] - self.pi[u_in as usize]
        };
        let mut x = u_in;
        loop {
            self.pi[x as usize] += sigma;
            self.depth[x as usize] = self.depth[self.parent[x as usize] as usize] + 1;
            if self.first_child[x as usize] != NONE {
                x = self.first_child[x as usize];
                continue;
            }
            while x != u_in && self.next_sibling[x as usize] == NONE {
                x = self.parent[x as usize];
            }
            if x == u_in {
                break;
            }
            x = self.next_sibling[x as usize];
        }
    }
}

#[cfg(test)]
mod reference;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    #[test]
    fn it_takes_only_profitable_paths() {
        // s → a (cap 5, cost 0), a → t (cap 3, cost -4), a → t (cap 10, cost 2).
        let mut net = Network::default();
        let (s, a, t) = (net.add_node(), net.add_node(), net.add_node());
        net.add_arc(s, a, 5, 0);
        let profitable = net.add_arc(a, t, 3, -4);
        let costly = net.add_arc(a, t, 10, 2);
        net.solve(s, t);
        assert_eq!(net.flow(profitable), 3);
        assert_eq!(net.flow(costly), 0);
        assert_eq!(net.total_cost(), -12);
        net.certify(s, t).expect("optimal");
    }

    #[test]
    fn the_certificate_catches_a_suboptimal_flow() {
        let mut net = Network::default();
        let (s, a, t) = (net.add_node(), net.add_node(), net.add_node());
        net.add_arc(s, a, 1, 0);
        let cheap = net.add_arc(a, t, 1, -5);
        let dear = net.add_arc(a, t, 1, -1);
        net.solve(s, t);
        assert_eq!((net.flow(cheap), net.flow(dear)), (1, 0));
        // Move the unit onto the dearer arc by hand: the certificate must refuse it.
        let (c, d) =
            (net.forward[cheap.0 as usize] as usize, net.forward[dear.0 as usize] as usize);
        net.arcs[c].capacity += 1;
        let rc = net.arcs[c].rev as usize;
        net.arcs[rc].capacity -= 1;
        net.arcs[d].capacity -= 1;
        let rd = net.arcs[d].rev as usize;
        net.arcs[rd].capacity += 1;
        assert!(net.certify(s, t).is_err());
    }

    /// A random layered (hence acyclic) network: source → layer 0 → … → layer k → sink, with
    /// costs of both signs, some unbounded arcs, and arcs that skip layers.
    fn random_network(rng: &mut SplitMix64, layers: usize, width: usize) -> (Network, u32, u32) {
        let mut net = Network::default();
        let source = net.add_node();
        let sink = net.add_node();
        let nodes: Vec<Vec<u32>> =
            (0..layers).map(|_| (0..width).map(|_| net.add_node()).collect()).collect();
        for &v in &nodes[0] {
            net.add_arc(source, v, 1 + rng.below(20) as i64, 0);
        }
        for l in 0..layers {
            for &v in &nodes[l] {
                for later in nodes.iter().skip(l + 1).take(2) {
                    for &w in later {
                        if rng.below(3) == 0 {
                            let capacity =
                                if rng.below(4) == 0 { UNBOUNDED } else { rng.below(15) as i64 };
                            net.add_arc(v, w, capacity, rng.below(21) as i64 - 10);
                        }
                    }
                }
                if l == layers - 1 || rng.below(4) == 0 {
                    net.add_arc(v, sink, 1 + rng.below(20) as i64, rng.below(31) as i64 - 20);
                }
            }
        }
        (net, source, sink)
    }

    #[test]
    fn the_simplex_equals_successive_shortest_paths_and_is_certified() {
        let mut rng = SplitMix64::new(77);
        for case in 0..300 {
            let layers = 2 + rng.below(5) as usize;
            let width = 1 + rng.below(7) as usize;
            let (net, source, sink) = random_network(&mut rng, layers, width);
            let mut simplex = net.clone();
            simplex.solve(source, sink);
            simplex.certify(source, sink).unwrap_or_else(|e| panic!("case {case}: {e}"));
            let mut reference = net.clone();
            reference.solve_by_shortest_paths(source, sink);
            reference.certify(source, sink).expect("the reference is optimal");
            assert_eq!(simplex.total_cost(), reference.total_cost(), "case {case}");
            // The same network gives the same flow.
            let mut again = net.clone();
            again.solve(source, sink);
            for i in 0..net.n_arcs() {
                assert_eq!(again.flow(ArcId(i as u32)), simplex.flow(ArcId(i as u32)));
            }
        }
    }

    /// A network that grows between solves (new nodes, new arcs, more supply) is re-solved
    /// from the last tree to the same optimal cost as a cold solve, with a certificate.
    #[test]
    fn a_warm_started_simplex_equals_a_cold_solve_as_the_network_grows() {
        let mut rng = SplitMix64::new(123);
        for case in 0..100 {
            let (full, source, sink) = random_network(&mut rng, 5, 5);
            // Replay the full network's arcs in three instalments.
            let mut growing = Network::default();
            for _ in 0..full.n_nodes() {
                growing.add_node();
            }
            let mut simplex = Simplex::new(source, sink);
            let cuts = [full.n_arcs() / 3, 2 * full.n_arcs() / 3, full.n_arcs()];
            let mut done = 0;
            for cut in cuts {
                for i in done..cut {
                    let id = ArcId(i as u32);
                    let (from, to) = full.endpoints(id);
                    growing.add_arc(from, to, full.capacity(id), full.cost(id));
                }
                done = cut;
                simplex.solve(&mut growing);
                growing.certify(source, sink).unwrap_or_else(|e| panic!("case {case}: {e}"));
                let mut cold = growing.clone();
                cold.clear_flow();
                cold.solve(source, sink);
                assert_eq!(growing.total_cost(), cold.total_cost(), "case {case}");
            }
        }
    }

    /// The distances back to the source, checked against Bellman-Ford on the residual graph.
    #[test]
    fn distances_to_the_source_equal_bellman_ford() {
        let mut rng = SplitMix64::new(31);
        for case in 0..100 {
            let (mut net, source, sink) = random_network(&mut rng, 4, 5);
            net.solve(source, sink);
            let fast = net.distances_to_source(source, sink);
            let n = net.n_nodes();
            let mut residual: Vec<(u32, u32, i64)> = vec![(sink, source, 0)];
            if net.out[sink as usize]
                .iter()
                .any(|at| at % 2 == 1 && net.arcs[*at as usize].capacity > 0)
            {
                residual.push((source, sink, 0));
            }
            for arc in &net.arcs {
                if arc.capacity > 0 {
                    let from = net.arcs[arc.rev as usize].to;
                    residual.push((from, arc.to, arc.cost));
                }
            }
            let mut slow: Vec<Option<i64>> = vec![None; n];
            slow[source as usize] = Some(0);
            for _ in 0..n {
                for &(from, to, cost) in &residual {
                    if let Some(d) = slow[to as usize] {
                        if slow[from as usize].is_none_or(|known| d + cost < known) {
                            slow[from as usize] = Some(d + cost);
                        }
                    }
                }
            }
            assert_eq!(fast, slow, "case {case}");
        }
    }

    #[test]
    fn max_flow_equals_the_minimum_cut_found_by_enumeration() {
        let mut rng = SplitMix64::new(3);
        for case in 0..60 {
            let (mut net, source, sink) = random_network(&mut rng, 2, 3);
            let n = net.n_nodes();
            let arcs: Vec<(u32, u32, i64)> = (0..net.n_arcs())
                .map(|i| {
                    let (from, to) = net.endpoints(ArcId(i as u32));
                    (from, to, net.capacity(ArcId(i as u32)))
                })
                .collect();
            let value = net.max_flow(source, sink);
            // Every cut that separates source from sink: the smallest capacity is the max flow.
            let mut best = i64::MAX;
            for mask in 0u32..(1 << n) {
                if mask & (1 << source) == 0 || mask & (1 << sink) != 0 {
                    continue;
                }
                let cut: i64 = arcs
                    .iter()
                    .filter(|(f, t, _)| mask & (1 << f) != 0 && mask & (1 << t) == 0)
                    .map(|(_, _, c)| *c)
                    .fold(0i64, |a, c| a.saturating_add(c));
                best = best.min(cut);
            }
            assert_eq!(value, best.min(UNBOUNDED), "case {case}");
            let reach = net.reachable_from(source);
            assert!(!reach[sink as usize]);
        }
    }

    #[test]
    fn a_network_past_its_node_limit_records_the_limit_instead_of_panicking() {
        let mut net = Network::default();
        for _ in 0..NODES_MAX {
            net.add_node();
        }
        assert_eq!(net.exceeded(), None);
        let extra = net.add_node();
        assert_eq!(net.exceeded(), Some("NODES_MAX"));
        assert_eq!(net.n_nodes(), NODES_MAX);
        // Whatever the builder adds next is refused too, without touching the arrays.
        net.add_arc(extra, 1, 5, 0);
        assert_eq!(net.n_arcs(), 0);
        assert_eq!(net.exceeded(), Some("NODES_MAX"));
    }
}
