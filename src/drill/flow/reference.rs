//! The primal-dual solver the drill used before the network simplex (successive shortest
//! paths with potentials, a blocking flow per Dijkstra), kept as a second, independent
//! implementation: tests hold the network simplex to the same optimal cost on random networks.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{Arc, Network};

impl Network {
    /// Minimum-cost flow of any value from `source` to `sink` by successive shortest paths.
    /// The network must carry no flow yet and be acyclic over arcs with capacity.
    pub(super) fn solve_by_shortest_paths(&mut self, source: u32, sink: u32) -> usize {
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
}
