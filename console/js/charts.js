// SVG charts for drill reports: coverage over time (one line per series) and stacked stage bars.

const SVG = "http://www.w3.org/2000/svg";
/** Okabe–Ito colours: apart for colour-blind readers (the drill report's palette). */
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"];
/** Lines one chart draws; more are unreadable (the tables carry every incident). */
export const CHART_SERIES_MAX = 12;

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** series: [{label, colour, dashed?, points: [[hours, share]]}]; xMax: hours. */
export function lineChart(series, { xMax, title }) {
  const [w, h, left, bottom, top, right] = [620, 280, 44, 30, 10, 160];
  const plotW = w - left - right, plotH = h - top - bottom;
  const x = (v) => left + (plotW * v) / Math.max(1, xMax);
  const y = (v) => top + plotH * (1 - v);
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, class: "chart", role: "img", "aria-label": title });
  svg.appendChild(el("title", {}, title));
  for (let k = 0; k <= 4; k++) {
    svg.appendChild(el("line", { x1: left, x2: left + plotW, y1: y(k / 4), y2: y(k / 4), stroke: "#e5e5e5" }));
    svg.appendChild(el("text", { x: 4, y: y(k / 4) + 4 }, `${k * 25}%`));
  }
  for (let k = 0; k <= 6; k++) {
    const hours = (xMax * k) / 6;
    svg.appendChild(el("text", { x: x(hours), y: h - 10, "text-anchor": "middle" }, `${Math.round(hours)} h`));
  }
  series.slice(0, CHART_SERIES_MAX).forEach((s, n) => {
    const points = s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(" ");
    svg.appendChild(el("polyline", { fill: "none", stroke: s.colour, "stroke-width": 2, points, "stroke-dasharray": s.dashed ? "6 4" : "none" }));
    const ly = top + 16 * n + 8;
    svg.appendChild(el("line", { x1: left + plotW + 8, x2: left + plotW + 22, y1: ly - 4, y2: ly - 4, stroke: s.colour, "stroke-width": 3, "stroke-dasharray": s.dashed ? "4 2" : "none" }));
    svg.appendChild(el("text", { x: left + plotW + 26, y: ly }, s.label.length > 22 ? `${s.label.slice(0, 21)}…` : s.label));
  });
  return svg;
}

/** rows: [{label, parts: [{value, colour, name}]}], each bar scaled to its own total. */
export function stackedBars(rows, { title }) {
  const [w, barH, gap, left] = [520, 20, 10, 190];
  const h = rows.length * (barH + gap) + 30;
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, class: "chart", role: "img", "aria-label": title });
  rows.forEach((row, n) => {
    const total = Math.max(1, row.parts.reduce((s, p) => s + p.value, 0));
    const yy = n * (barH + gap) + 6;
    svg.appendChild(el("text", { x: 4, y: yy + 14 }, row.label));
    let xx = left;
    for (const part of row.parts) {
      const width = ((w - left - 10) * part.value) / total;
      const rect = el("rect", { x: xx, y: yy, width: width.toFixed(1), height: barH, fill: part.colour });
      rect.appendChild(el("title", {}, `${part.name}: ${part.value}`));
      svg.appendChild(rect);
      xx += width;
    }
  });
  const legendY = rows.length * (barH + gap) + 18;
  let lx = left;
  for (const part of rows[0]?.parts || []) {
    svg.appendChild(el("rect", { x: lx, y: legendY - 9, width: 10, height: 10, fill: part.colour }));
    svg.appendChild(el("text", { x: lx + 14, y: legendY }, part.name));
    lx += 90;
  }
  return svg;
}
