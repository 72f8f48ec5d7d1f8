// Unit tests of the console's pure modules (no browser): label placement never overlaps and
// stays in the frame (checked against every pair, brute force), and CSV quoting.

import { test } from "node:test";
import assert from "node:assert/strict";
import { placeLabels, overlaps, textWidth } from "../../console/js/labels.js";
import { toCsv } from "../../console/js/csv.js";

/** SplitMix-like deterministic numbers in [0, 1). */
function random(seed) {
  let state = BigInt(seed);
  return () => {
    state = (state + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
    return Number((z ^ (z >> 31n)) >> 11n) / 2 ** 53;
  };
}

test("placed labels never overlap each other, any marker or the frame's edge", () => {
  for (let seed = 1; seed <= 50; seed++) {
    const next = random(seed);
    const frame = { w: 520, h: 440 };
    const items = Array.from({ length: 5 + Math.floor(next() * 60) }, (_, i) => ({
      x: next() * frame.w, y: next() * frame.h, r: 2 + next() * 6, text: i % 3 ? `place-${i}` : `城市${i}`, priority: Math.floor(next() * 5),
    }));
    const fixed = [{ x: 200, y: 200, w: 60, h: 16 }];
    const boxes = placeLabels(items, frame, fixed);
    assert.equal(boxes.length, items.length);
    const placed = boxes.filter((b) => b.placed);
    for (const [i, a] of placed.entries()) {
      assert.ok(a.x >= 0 && a.y >= 0 && a.x + a.w <= frame.w && a.y + a.h <= frame.h, "inside the frame");
      assert.ok(!overlaps(a, fixed[0]), "clear of reserved boxes");
      for (const b of placed.slice(i + 1)) assert.ok(!overlaps(a, b), `seed ${seed}: two labels overlap`);
    }
    boxes.forEach((box, i) => {
      if (!box.placed) return;
      items.forEach((other, j) => {
        if (i === j) return;
        const marker = { x: other.x - other.r, y: other.y - other.r, w: 2 * other.r, h: 2 * other.r };
        assert.ok(!overlaps(box, marker), `seed ${seed}: label ${i} covers marker ${j}`);
      });
    });
  }
});

test("a lone label is always placed, and more important labels win a contested spot", () => {
  const [only] = placeLabels([{ x: 100, y: 100, r: 4, text: "唐山", priority: 1 }], { w: 300, h: 300 });
  assert.ok(only.placed);
  assert.ok(only.x > 100, "to the right of its marker first");
  // Two markers at one point: both labels fit around it, the important one takes the right.
  const boxes = placeLabels([
    { x: 150, y: 150, r: 4, text: "low", priority: 1 },
    { x: 150, y: 150, r: 4, text: "high", priority: 9 },
  ], { w: 300, h: 300 });
  assert.ok(boxes[1].x > 150 && boxes[0].x < boxes[1].x);
});

test("a label with no free spot is dropped, never drawn on top", () => {
  // A frame just big enough for one label.
  const items = [
    { x: 10, y: 10, r: 1, text: "aaaa", priority: 2 },
    { x: 10, y: 10, r: 1, text: "bbbb", priority: 1 },
  ];
  const frame = { w: 10 + 1 + 3 + textWidth("aaaa", 11) + 1, h: 20 };
  const boxes = placeLabels(items, frame);
  assert.equal(boxes.filter((b) => b.placed).length, 1);
  assert.ok(boxes[0].placed);
});

test("CSV quotes what spreadsheets need quoted, with CRLF line ends", () => {
  const csv = toCsv(["a", "b"], [["x,y", 'say "hi"'], ["=1+1", -3], ["line\nbreak", null]]);
  assert.equal(csv, 'a,b\r\n"x,y","say ""hi"""\r\n\'=1+1,-3\r\n"line\nbreak",\r\n');
});
