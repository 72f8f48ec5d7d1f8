//! Min-cost flow by successive shortest paths with node potentials (Dijkstra on reduced
//! costs, then a blocking flow over all shortest paths at once: the primal-dual method), for
//! networks with negative arc costs but no cycles, plus an independent optimality
//! certificate (Bellman-Ford: no negative cycle in the residual graph).
//!
//! The solver finds a minimum-cost flow of *any* value from `source` to `sink`: it augments
//! along shortest paths while their cost is negative and stops at the first path that would
//! not lower the cost. Shortest-path costs never decrease between augmentations, so the flow
//! it stops at is optimal over all flow values (the residual graph then has no negative
//! cycle once the sink→source arc is added: `certify` checks exactly that).
//!
//! Integer capacities and costs, so the optimum is integral and exact. Ties in Dijkstra are
//! broken by node index, so the same network gives the same flow.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The most nodes and arcs one network may have: a bound on memory per category.
pub const NODES_MAX: usize = 4_000_000;
pub const ARCS_MAX: usize = 16_000_000;

/// A capacity that never binds.
pub const UNBOUNDED: i64 = i64::MAX / 4;

#[derive(Debug, Clone)]
struct Arc {
    to: u32,
    /// Index of the reverse arc in `arcs`.
    rev: u32,
    capacity: i64,
    cost: i64,
}

/// A directed network with capacities and costs; arcs are stored in pairs (forward, reverse).
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

    /// Flow on an arc (after `solve`).
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

    /// A topological order of the nodes over arcs with capacity, or `None` if they form a cycle.
    fn topological_order(&self) -> Option<Vec<u32>> {
        let n = self.n_nodes();
        let mut in_degree = vec![0u32; n];
        for &at in &self.forward {
            let arc = &self.arcs[at as usize];
            if arc.capacity > 0 {
                in_degree[arc.to as usize] += 1;
            }
        }
        let mut order: Vec<u32> = (0..n as u32).filter(|v| in_degree[*v as usize] == 0).collect();
        let mut head = 0;
        while head < order.len() {
            let v = order[head];
            head += 1;
            for &at in &self.out[v as usize] {
                let arc = &self.arcs[at as usize];
                // Forward arcs only: a reverse arc has capacity 0 before any flow.
                if arc.capacity > 0 {
                    in_degree[arc.to as usize] -= 1;
                    if in_degree[arc.to as usize] == 0 {
                        order.push(arc.to);
                    }
                }
            }
        }
        (order.len() == n).then_some(order)
    }

    /// Minimum-cost flow of any value from `source` to `sink` (see the module doc). The network
    /// must carry no flow yet and its arcs with capacity must form no cycle. Returns the number
    /// of shortest-path rounds (Dijkstra runs that led to augmenting).
    pub fn solve(&mut self, source: u32, sink: u32) -> usize {
        let n = self.n_nodes();
        // Initial potentials: shortest distances from the source over the acyclic network, so
        // every reduced cost starts non-negative despite negative arc costs.
        let order = self.topological_order().expect("the drill network is acyclic by construction");
        const UNREACHED: i64 = i64::MAX / 2;
        let mut potential = vec![UNREACHED; n];
        potential[source as usize] = 0;
        for &v in &order {
            let dv = potential[v as usize];
            if dv == UNREACHED {
                continue;
            }
            for &at in &self.out[v as usize] {
                let arc = &self.arcs[at as usize];
                if arc.capacity > 0 && dv + arc.cost < potential[arc.to as usize] {
                    potential[arc.to as usize] = dv + arc.cost;
                }
            }
        }
        // Nodes the source cannot reach never join a path (reverse arcs only appear on arcs
        // that carried flow); any finite potential will do for them.
        for p in &mut potential {
            if *p == UNREACHED {
                *p = 0;
            }
        }

        let mut distance = vec![UNREACHED; n];
        let mut parent_arc = vec![u32::MAX; n];
        let mut done = vec![false; n];
        let mut heap = BinaryHeap::new();
        let mut touched: Vec<u32> = Vec::new();
        let mut level = vec![-1i32; n];
        let mut next_arc = vec![0usize; n];
        let mut paths = 0;
        loop {
            // Reset only what the last round touched: a round often explores a small part of
            // a large network.
            for v in touched.drain(..) {
                distance[v as usize] = UNREACHED;
                done[v as usize] = false;
            }
            touched.push(source);
            distance[source as usize] = 0;
            heap.clear();
            heap.push(Reverse((0i64, source)));
            while let Some(Reverse((d, v))) = heap.pop() {
                if done[v as usize] {
                    continue;
                }
                done[v as usize] = true;
                if v == sink {
                    break;
                }
                for &at in &self.out[v as usize] {
                    let arc = &self.arcs[at as usize];
                    if arc.capacity == 0 {
                        continue;
                    }
                    let to = arc.to as usize;
                    let reduced = arc.cost + potential[v as usize] - potential[to];
                    debug_assert!(reduced >= 0, "negative reduced cost {reduced}");
                    let candidate = d + reduced;
                    if candidate < distance[to] {
                        if distance[to] == UNREACHED {
                            touched.push(arc.to);
                        }
                        distance[to] = candidate;
                        parent_arc[to] = at;
                        heap.push(Reverse((candidate, arc.to)));
                    }
                }
            }
            if !done[sink as usize] {
                break;
            }
            // Johnson's update, capped at the sink's distance: conceptually every node gains
            // `min(distance, dt)`. Adding `dt` to all nodes changes no reduced cost, so only the
            // settled nodes move, by `distance - dt` (the AtCoder Library's rule); potential
            // differences, and so path costs, are as if all had moved.
            let dt = distance[sink as usize];
            for &v in &touched {
                if done[v as usize] {
                    potential[v as usize] -= dt - distance[v as usize].min(dt);
                }
            }
            let path_cost = potential[sink as usize] - potential[source as usize];
            if path_cost >= 0 {
                break;
            }
            // Every admissible path (zero reduced cost) is now a shortest path of the same
            // negative cost: push a blocking flow through all of them before the next Dijkstra
            // (primal-dual), instead of one path per Dijkstra.
            self.blocking_flow(source, sink, &potential, &mut level, &mut next_arc);
            paths += 1;
        }
        paths
    }

    /// One phase of Dinic's blocking flow on the admissible subgraph (residual arcs with zero
    /// reduced cost): every shortest path of the fewest arcs, saturated at once. Further phases
    /// would only find longer (in arcs) paths of the same cost, and time-expanded chains have
    /// many lengths; the next Dijkstra finds those more cheaply than a BFS per length.
    fn blocking_flow(
        &mut self,
        source: u32,
        sink: u32,
        potential: &[i64],
        level: &mut [i32],
        next_arc: &mut [usize],
    ) {
        let admissible = |arcs: &[Arc], from: u32, at: u32| {
            let arc = &arcs[at as usize];
            arc.capacity > 0
                && arc.cost + potential[from as usize] - potential[arc.to as usize] == 0
        };
        let mut queue: Vec<u32> = vec![source];
        level[source as usize] = 0;
        let mut head = 0;
        while head < queue.len() {
            let v = queue[head];
            head += 1;
            for &at in &self.out[v as usize] {
                let to = self.arcs[at as usize].to;
                if level[to as usize] < 0 && admissible(&self.arcs, v, at) {
                    level[to as usize] = level[v as usize] + 1;
                    queue.push(to);
                }
            }
        }
        let mut path: Vec<u32> = Vec::new();
        let mut v = source;
        while level[sink as usize] >= 0 {
            if v == sink {
                let bottleneck =
                    path.iter().map(|at| self.arcs[*at as usize].capacity).min().unwrap_or(0);
                for &at in &path {
                    self.arcs[at as usize].capacity -= bottleneck;
                    let rev = self.arcs[at as usize].rev as usize;
                    self.arcs[rev].capacity += bottleneck;
                }
                path.clear();
                v = source;
                continue;
            }
            let mut advanced = false;
            while next_arc[v as usize] < self.out[v as usize].len() {
                let at = self.out[v as usize][next_arc[v as usize]];
                let to = self.arcs[at as usize].to;
                if level[to as usize] == level[v as usize] + 1 && admissible(&self.arcs, v, at) {
                    path.push(at);
                    v = to;
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
        // Leave the scratch arrays as found: only the nodes this phase reached changed.
        for &v in &queue {
            level[v as usize] = -1;
            next_arc[v as usize] = 0;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
