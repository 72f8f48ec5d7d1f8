//! The held-stock snapshot the engine reads: a persistent trie over stock line indexes, so a
//! commit publishes a new snapshot by copying only the paths of the lines it touched
//! (O(touched × depth), depth 4 at 1e6 lines) while every older snapshot a reader still holds
//! stays valid and unchanged (path copying, as in Clojure's vectors or the `im` crate).
//!
//! Besides "how much of line L is held", each node keeps the largest availability below it, so
//! "the most any overridden line of a category can give" — what the engine's search needs to
//! bound lines UpdateStock raised above the catalog — is a range query over the category's
//! contiguous line indexes, O(fan-out × depth) whatever the number of lines. The lines raised
//! above the catalog (negative `held`) are also kept as one sorted list, shared between
//! snapshots until a commit moves a line into or out of it (an UpdateStock, rarely a hold):
//! that costs O(raised lines), every other commit nothing.

use std::ops::Range;
use std::sync::Arc;

use super::LineLevel;
use crate::domain::HeldStock;
use crate::domain::StockLineIdx;

/// Lines per leaf (2^LEAF_BITS): a leaf is 16 × 24 bytes, small enough that a sparse set of
/// held lines does not cost a large leaf each.
const LEAF_BITS: u32 = 4;
const LEAF: usize = 1 << LEAF_BITS;
/// Children per branch (2^BRANCH_BITS): 3 branch levels cover 4.2M lines, 5 cover the
/// registry's `STOCK_LINES_MAX`.
const BRANCH_BITS: u32 = 6;
const BRANCH: usize = 1 << BRANCH_BITS;

/// What the snapshot knows of one stock line that has a hold or an on-hand override.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineEntry {
    /// Units the engine must not offer: catalog on-hand − available. Negative when
    /// UpdateStock raised the on-hand above the catalog's.
    pub held: f64,
    /// Units the engine may offer from stock: the catalog's quantity − `held`.
    pub available: f64,
}

impl LineEntry {
    /// The entry of a line whose catalog quantity is `catalog_quantity` (`catalog_units` in
    /// whole units) and whose stored level is `level`.
    pub fn from_level(catalog_quantity: f64, catalog_units: u64, level: LineLevel) -> LineEntry {
        let held = catalog_units as f64 - level.available_units() as f64;
        LineEntry { held, available: catalog_quantity - held }
    }
}

#[derive(Debug, Clone)]
struct Leaf {
    entries: [Option<LineEntry>; LEAF],
}

#[derive(Debug, Clone)]
struct Branch {
    children: [Option<Node>; BRANCH],
    /// The largest `available` under each child (−∞ when the child is empty), kept inline so
    /// a path update recomputes its maxima without touching the siblings.
    child_max: [f64; BRANCH],
}

#[derive(Debug, Clone)]
enum Node {
    Branch(Arc<Branch>),
    Leaf(Arc<Leaf>),
}

/// The engine's view of holds and stock overrides (see the module doc). Cloning is O(1): the
/// clone shares every node until one side changes a line.
#[derive(Debug, Clone)]
pub struct HeldSnapshot {
    root: Option<Node>,
    /// Branch levels above the leaves.
    levels: u32,
    n_lines: usize,
    /// Lines with an entry.
    len: usize,
    /// The lines whose `held` is negative, ascending, each once.
    raised: Arc<Vec<StockLineIdx>>,
}

impl Default for HeldSnapshot {
    fn default() -> HeldSnapshot {
        HeldSnapshot::new(0)
    }
}

/// Lines one node at `level` covers (level 0: a leaf).
fn span(level: u32) -> usize {
    1usize << (LEAF_BITS + level * BRANCH_BITS)
}

fn max_of(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(f64::NEG_INFINITY, f64::max)
}

impl Leaf {
    fn max_available(&self) -> f64 {
        max_of(self.entries.iter().flatten().map(|entry| entry.available))
    }
}

impl HeldSnapshot {
    /// No holds and no overrides, for a catalog of `n_lines` stock lines.
    pub fn new(n_lines: usize) -> HeldSnapshot {
        let mut levels = 0;
        while span(levels) < n_lines {
            levels += 1;
        }
        HeldSnapshot { root: None, levels, n_lines, len: 0, raised: Arc::new(Vec::new()) }
    }

    /// Lines with an entry (a hold or an override, now or in the past).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entry of `line`, if it has a hold or an override.
    pub fn entry(&self, line: StockLineIdx) -> Option<LineEntry> {
        let index = line.0 as usize;
        let mut node = self.root.as_ref()?;
        let mut level = self.levels;
        loop {
            match node {
                Node::Branch(branch) => {
                    let slot = (index >> (LEAF_BITS + (level - 1) * BRANCH_BITS)) & (BRANCH - 1);
                    node = branch.children[slot].as_ref()?;
                    level -= 1;
                }
                Node::Leaf(leaf) => return leaf.entries[index & (LEAF - 1)],
            }
        }
    }

    /// Sets the entry of `line`, copying the nodes on its path that another snapshot shares.
    /// A line outside the catalog is ignored (the stores only pass catalog lines).
    pub fn set(&mut self, line: StockLineIdx, entry: LineEntry) {
        let index = line.0 as usize;
        if index >= self.n_lines {
            debug_assert!(false, "line {index} outside a catalog of {} lines", self.n_lines);
            return;
        }
        let was_raised = self.entry(line).is_some_and(|old| old.held < 0.0);
        if set_in(&mut self.root, self.levels, index, entry) {
            self.len += 1;
        }
        let is_raised = entry.held < 0.0;
        if was_raised != is_raised {
            let raised = Arc::make_mut(&mut self.raised);
            match (raised.binary_search(&line), is_raised) {
                (Err(at), true) => raised.insert(at, line),
                (Ok(at), false) => {
                    raised.remove(at);
                }
                _ => debug_assert!(false, "the raised list disagrees with the entries"),
            }
        }
    }

    /// The lines an override raised above the catalog (negative `held`), ascending: the lines
    /// whose availability the catalog's per-category bounds do not cover (issue 11, defect a).
    pub fn raised(&self) -> &[StockLineIdx] {
        &self.raised
    }

    /// The largest `available` among the entries of `lines` (a category's contiguous range),
    /// or `None` when none of them has an entry.
    pub fn available_max_in(&self, lines: Range<usize>) -> Option<f64> {
        let hi = lines.end.min(self.n_lines);
        let root = self.root.as_ref()?;
        if lines.start >= hi {
            return None;
        }
        let max = max_in(root, self.levels, 0, lines.start, hi);
        (max > f64::NEG_INFINITY).then_some(max)
    }

    /// Every entry in line order (tests and diagnostics; O(entries)).
    pub fn entries(&self) -> Vec<(StockLineIdx, LineEntry)> {
        let mut out = Vec::with_capacity(self.len);
        if let Some(root) = &self.root {
            collect(root, self.levels, 0, &mut out);
        }
        out
    }
}

impl HeldStock for HeldSnapshot {
    fn held(&self, line: StockLineIdx) -> f64 {
        self.entry(line).map_or(0.0, |entry| entry.held)
    }

    fn raised(&self) -> &[StockLineIdx] {
        HeldSnapshot::raised(self)
    }
}

/// Sets `entry` under `node` (a node at `level`, created when missing); answers whether the
/// line is new.
fn set_in(node: &mut Option<Node>, level: u32, index: usize, entry: LineEntry) -> bool {
    if level == 0 {
        let node = node.get_or_insert_with(|| Node::Leaf(Arc::new(Leaf { entries: [None; LEAF] })));
        let Node::Leaf(leaf) = node else { unreachable!("a leaf level holds leaves") };
        let slot = &mut Arc::make_mut(leaf).entries[index & (LEAF - 1)];
        let new = slot.is_none();
        *slot = Some(entry);
        return new;
    }
    let node = node.get_or_insert_with(|| {
        Node::Branch(Arc::new(Branch {
            children: std::array::from_fn(|_| None),
            child_max: [f64::NEG_INFINITY; BRANCH],
        }))
    });
    let Node::Branch(branch) = node else { unreachable!("a branch level holds branches") };
    let branch = Arc::make_mut(branch);
    let slot = (index >> (LEAF_BITS + (level - 1) * BRANCH_BITS)) & (BRANCH - 1);
    let new = set_in(&mut branch.children[slot], level - 1, index, entry);
    branch.child_max[slot] = match &branch.children[slot] {
        Some(Node::Branch(child)) => max_of(child.child_max.iter().copied()),
        Some(Node::Leaf(child)) => child.max_available(),
        None => f64::NEG_INFINITY,
    };
    new
}

/// The largest `available` in [lo, hi) under `node`, which covers [base, base + span(level)).
fn max_in(node: &Node, level: u32, base: usize, lo: usize, hi: usize) -> f64 {
    match node {
        Node::Leaf(leaf) => max_of(
            (lo.max(base)..hi.min(base + LEAF))
                .filter_map(|index| leaf.entries[index - base])
                .map(|entry| entry.available),
        ),
        Node::Branch(branch) => {
            let child_span = span(level - 1);
            let mut max = f64::NEG_INFINITY;
            for slot in 0..BRANCH {
                let start = base + slot * child_span;
                let end = start + child_span;
                if end <= lo || start >= hi {
                    continue;
                }
                max = max.max(if lo <= start && end <= hi {
                    branch.child_max[slot]
                } else if let Some(child) = &branch.children[slot] {
                    max_in(child, level - 1, start, lo, hi)
                } else {
                    f64::NEG_INFINITY
                });
            }
            max
        }
    }
}

fn collect(node: &Node, level: u32, base: usize, out: &mut Vec<(StockLineIdx, LineEntry)>) {
    match node {
        Node::Leaf(leaf) => {
            for (offset, entry) in leaf.entries.iter().enumerate() {
                if let Some(entry) = entry {
                    out.push((StockLineIdx((base + offset) as u32), *entry));
                }
            }
        }
        Node::Branch(branch) => {
            for (slot, child) in branch.children.iter().enumerate() {
                if let Some(child) = child {
                    collect(child, level - 1, base + slot * span(level - 1), out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// SplitMix64: a tiny deterministic generator for the property tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn raised_in(model: &BTreeMap<usize, LineEntry>) -> Vec<StockLineIdx> {
        model
            .iter()
            .filter(|(_, entry)| entry.held < 0.0)
            .map(|(line, _)| StockLineIdx(*line as u32))
            .collect()
    }

    fn check_against_model(snapshot: &HeldSnapshot, model: &BTreeMap<usize, LineEntry>) {
        assert_eq!(snapshot.len(), model.len());
        assert_eq!(snapshot.raised(), raised_in(model));
        let listed: BTreeMap<usize, LineEntry> =
            snapshot.entries().into_iter().map(|(line, entry)| (line.0 as usize, entry)).collect();
        assert_eq!(&listed, model);
        for line in 0..snapshot.n_lines {
            let expected = model.get(&line).map_or(0.0, |entry| entry.held);
            assert_eq!(snapshot.held(StockLineIdx(line as u32)), expected, "line {line}");
        }
    }

    fn brute_max(model: &BTreeMap<usize, LineEntry>, lines: Range<usize>) -> Option<f64> {
        model.range(lines).map(|(_, entry)| entry.available).reduce(f64::max)
    }

    #[test]
    fn agrees_with_a_map_on_random_updates_and_ranges() {
        // Sizes around the level boundaries: one leaf, one branch level, several.
        for (seed, n_lines) in [(1, 1), (2, 16), (3, 17), (4, 1024), (5, 1025), (6, 70_000)] {
            let mut rng = Rng(seed);
            let mut snapshot = HeldSnapshot::new(n_lines);
            let mut model = BTreeMap::new();
            // Clustered lines as well as scattered ones, so leaves fill and values repeat.
            for step in 0..3000 {
                let line =
                    if step % 3 == 0 { rng.below(n_lines.min(40)) } else { rng.below(n_lines) };
                let available = rng.below(1000) as f64 - 100.0;
                let entry = LineEntry { held: 500.0 - available, available };
                snapshot.set(StockLineIdx(line as u32), entry);
                model.insert(line, entry);
                if step % 97 == 0 {
                    let a = rng.below(n_lines + 1);
                    let b = rng.below(n_lines + 1);
                    let lines = a.min(b)..a.max(b);
                    assert_eq!(
                        snapshot.available_max_in(lines.clone()),
                        brute_max(&model, lines.clone()),
                        "n_lines {n_lines}, range {lines:?}"
                    );
                }
            }
            if n_lines <= 1025 {
                check_against_model(&snapshot, &model);
            } else {
                let listed: BTreeMap<usize, LineEntry> = snapshot
                    .entries()
                    .into_iter()
                    .map(|(line, entry)| (line.0 as usize, entry))
                    .collect();
                assert_eq!(listed, model);
            }
            assert_eq!(snapshot.available_max_in(0..n_lines), brute_max(&model, 0..n_lines));
            assert_eq!(snapshot.raised(), raised_in(&model), "n_lines {n_lines}");
        }
    }

    #[test]
    fn an_older_snapshot_never_sees_a_later_change() {
        let mut rng = Rng(9);
        let n_lines = 5000;
        let mut snapshot = HeldSnapshot::new(n_lines);
        let mut model = BTreeMap::new();
        let mut history = Vec::new();
        for _ in 0..200 {
            history.push((snapshot.clone(), model.clone()));
            for _ in 0..rng.below(8) + 1 {
                let line = rng.below(n_lines);
                let entry = LineEntry {
                    held: rng.below(50) as f64 - 10.0,
                    available: rng.below(50) as f64,
                };
                snapshot.set(StockLineIdx(line as u32), entry);
                model.insert(line, entry);
            }
        }
        for (old, old_model) in &history {
            let listed: BTreeMap<usize, LineEntry> =
                old.entries().into_iter().map(|(line, entry)| (line.0 as usize, entry)).collect();
            assert_eq!(&listed, old_model);
            assert_eq!(old.available_max_in(0..n_lines), brute_max(old_model, 0..n_lines));
            assert_eq!(old.raised(), raised_in(old_model));
        }
    }

    #[test]
    fn an_update_copies_one_path_and_shares_the_rest() {
        let n_lines = 1_000_000;
        let mut snapshot = HeldSnapshot::new(n_lines);
        assert_eq!(snapshot.levels, 3, "16 × 64³ lines cover 1e6");
        for line in (0..n_lines).step_by(200) {
            snapshot.set(StockLineIdx(line as u32), LineEntry { held: 1.0, available: 2.0 });
        }
        let before = snapshot.clone();
        snapshot.set(StockLineIdx(400), LineEntry { held: 2.0, available: 1.0 });
        let (Some(Node::Branch(old_root)), Some(Node::Branch(new_root))) =
            (&before.root, &snapshot.root)
        else {
            panic!("branch roots")
        };
        assert!(!Arc::ptr_eq(old_root, new_root), "the root is on the path");
        let shared = old_root
            .children
            .iter()
            .zip(&new_root.children)
            .filter(|(a, b)| match (a, b) {
                (Some(Node::Branch(a)), Some(Node::Branch(b))) => Arc::ptr_eq(a, b),
                _ => false,
            })
            .count();
        let present = old_root.children.iter().flatten().count();
        assert_eq!(shared, present - 1, "every child but the one on the path is shared");
        assert_eq!(before.held(StockLineIdx(400)), 1.0);
        assert_eq!(snapshot.held(StockLineIdx(400)), 2.0);
    }

    #[test]
    fn entries_come_from_levels() {
        let level = LineLevel { on_hand_units: 40, pending_units: 3, confirmed_units: 2 };
        // Catalog 10.5 units (10 whole); on hand raised to 40: 35 available, held −25.
        let entry = LineEntry::from_level(10.5, 10, level);
        assert_eq!(entry, LineEntry { held: -25.0, available: 35.5 });
        let empty = HeldSnapshot::new(10);
        assert_eq!(empty.held(StockLineIdx(3)), 0.0);
        assert_eq!(empty.available_max_in(0..10), None);
    }
}
