// Map labels that do not collide: a greedy placement with collision boxes. Pure (no DOM), so
// node's test runner checks it (tests/e2e/labels.test.mjs).
//
// Labels are placed most important first; each tries eight positions around its marker (right,
// left, above, below, then the diagonals) and takes the first whose box overlaps no label
// already placed, no marker and stays inside the frame. A label with no free position is not
// drawn (its marker keeps a tooltip), never drawn on top of another.

/** Positions tried around a marker, in order: dx, dy multipliers and the text anchor. */
const POSITIONS = [
  [1, 0], [-1, 0], [0, -1], [0, 1], [1, -1], [1, 1], [-1, -1], [-1, 1],
];
/** Gap between a marker's edge and its label (px). */
const GAP = 3;
/** The most labels one map places; past it the rest are left to tooltips (bounds the O(n²)). */
export const LABELS_MAX = 400;

/** A width estimate for `text` at `fontSize` px: CJK glyphs are square, Latin ones ~0.6 wide. */
export function textWidth(text, fontSize) {
  let width = 0;
  for (const ch of text) width += ch.codePointAt(0) > 0x2e80 ? fontSize : fontSize * 0.6;
  return width;
}

export function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * items: [{x, y, r, text, priority, fontSize?}]; frame: {w, h}; fixed: boxes {x, y, w, h}
 * already taken (e.g. region names).
 * Returns one entry per item, in input order: {x, y, w, h, anchor, placed} where (x, y) is the
 * box's top-left corner and `placed` false means "do not draw".
 */
export function placeLabels(items, frame, fixed = []) {
  const markers = items.map((item) => ({ x: item.x - item.r, y: item.y - item.r, w: 2 * item.r, h: 2 * item.r }));
  const order = items.map((_, i) => i).sort((a, b) => (items[b].priority - items[a].priority) || (a - b));
  const placed = [...fixed];
  const result = items.map(() => ({ x: 0, y: 0, w: 0, h: 0, placed: false }));
  for (const i of order.slice(0, LABELS_MAX)) {
    const item = items[i];
    const fontSize = item.fontSize || 11;
    const w = textWidth(item.text, fontSize);
    const h = fontSize + 2;
    for (const [dx, dy] of POSITIONS) {
      const cx = item.x + dx * (item.r + GAP + (dx === 0 ? 0 : w / 2));
      const cy = item.y + dy * (item.r + GAP + h / 2);
      const box = { x: cx - w / 2, y: cy - h / 2, w, h };
      if (box.x < 0 || box.y < 0 || box.x + w > frame.w || box.y + h > frame.h) continue;
      if (placed.some((other) => overlaps(box, other))) continue;
      if (markers.some((marker, j) => j !== i && overlaps(box, marker))) continue;
      placed.push(box);
      result[i] = { ...box, placed: true };
      break;
    }
  }
  return result;
}
