// The region map: the outlines of Beijing, Tianjin and Hebei (console/geo, credited), the
// zones' cities and the demonstration bases from the catalog's places, incidents, suppliers and
// the flows between them, with labels that do not collide (labels.js). SVG, no tiles: offline.

import { placeLabels, textWidth } from "./labels.js";
import { t, name, lang } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
/** The map's minimum frame: the Beijing–Tianjin–Hebei region (degrees). */
const REGION = { latMin: 36.0, latMax: 42.7, lonMin: 113.4, lonMax: 119.9 };
const WIDTH = 520;
const HEIGHT = 460;
const PAD = 12;
const ZONE_COLOURS = { ZONE_TIER_CORE: "#b2182b", ZONE_TIER_KEY: "#ef8a62", ZONE_TIER_SUPPORT: "#67a9cf", ZONE_TIER_METRO: "#555", ZONE_TIER_OUTSIDE: "#888" };
/** Where each region's name is written: an open part of it, away from the zone cities. */
const REGION_NAME_AT = { "CN.BJ": { lat: 40.72, lon: 116.55 }, "CN.TJ": { lat: 39.42, lon: 117.42 }, "CN.HE": { lat: 41.55, lon: 117.4 } };
const REGION_FILLS = { "CN.BJ": "#eef3e6", "CN.TJ": "#e6eef3", "CN.HE": "#f6f3ea" };

let outlinesPromise = null;

export function loadOutlines() {
  if (!outlinesPromise) {
    outlinesPromise = fetch("/assets/geo/jingjinji.json").then((r) => {
      if (!r.ok) throw new Error(`outlines: HTTP ${r.status}`);
      return r.json();
    });
  }
  return outlinesPromise;
}

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The projection of a frame that holds the region and every given point. */
export function projection(points) {
  let { latMin, latMax, lonMin, lonMax } = REGION;
  for (const p of points) {
    latMin = Math.min(latMin, p.lat - 0.1); latMax = Math.max(latMax, p.lat + 0.1);
    lonMin = Math.min(lonMin, p.lon - 0.1); lonMax = Math.max(lonMax, p.lon + 0.1);
  }
  const cos = Math.max(0.2, Math.cos(((latMin + latMax) / 2) * Math.PI / 180));
  const scale = Math.min((WIDTH - 2 * PAD) / ((lonMax - lonMin) * cos), (HEIGHT - 2 * PAD) / (latMax - latMin));
  const offX = (WIDTH - (lonMax - lonMin) * cos * scale) / 2;
  const offY = (HEIGHT - (latMax - latMin) * scale) / 2;
  return {
    x: (lon) => offX + (lon - lonMin) * cos * scale,
    y: (lat) => HEIGHT - offY - (lat - latMin) * scale,
    lon: (x) => lonMin + (x - offX) / (cos * scale),
    lat: (y) => latMin + (HEIGHT - offY - y) / scale,
    inside: (lat, lon) => lat >= latMin && lat <= latMax && lon >= lonMin && lon <= lonMax,
  };
}

/**
 * Draws into `container` (replacing its content). options: {places, incidents: [{lat, lon,
 * label}], suppliers: [{lat, lon, label, units}], flows: [{from: {lat, lon}, to: {lat, lon},
 * units}], onClick(lat, lon)}.
 */
export async function drawMap(container, options) {
  const outlines = await loadOutlines();
  const incidents = options.incidents || [];
  const suppliers = options.suppliers || [];
  const flows = options.flows || [];
  const p = projection(incidents);
  const svg = el("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", class: "map", "aria-label": t("map") });
  svg.appendChild(el("rect", { width: WIDTH, height: HEIGHT, fill: "#f4f8fb" }));
  // Hebei first, then Beijing and Tianjin on top (Hebei's outline surrounds them).
  const regions = [...outlines.regions].sort((a, b) => (a.id === "CN.HE" ? -1 : b.id === "CN.HE" ? 1 : 0));
  for (const region of regions) {
    const d = region.rings.map((ring) => "M" + ring.map(([lon, lat]) => `${p.x(lon).toFixed(1)},${p.y(lat).toFixed(1)}`).join("L") + "Z").join("");
    const path = el("path", { d, fill: REGION_FILLS[region.id] || "#eee", stroke: "#8c8c7a", "stroke-width": 1, "fill-rule": "evenodd", class: "region" });
    path.appendChild(el("title", {}, name(region)));
    svg.appendChild(path);
  }
  const labelItems = [];
  const labelNodes = [];
  // Region names, faint, at hand-picked open spots of each region (degrees; where no zone
  // city sits), reserved before any other label is placed.
  const fixed = [];
  for (const region of regions) {
    const at = REGION_NAME_AT[region.id];
    if (!at) continue;
    const text = name(region);
    const x = p.x(at.lon), y = p.y(at.lat);
    const w = textWidth(text, 14), hgt = 16;
    fixed.push({ x: x - w / 2, y: y - hgt + 3, w, h: hgt });
    svg.appendChild(el("text", { x, y, class: "region-name", "text-anchor": "middle" }, text));
  }
  // Flows from beyond the frame (suppliers far from the region) would cross the map to its
  // edge: they are counted in a note instead.
  let flowsOutside = 0;
  for (const flow of flows.slice(0, 400)) {
    if (!p.inside(flow.from.lat, flow.from.lon)) { flowsOutside++; continue; }
    const width = Math.min(6, 0.8 + Math.sqrt(flow.units || 1) / 3);
    svg.appendChild(el("line", { x1: p.x(flow.from.lon), y1: p.y(flow.from.lat), x2: p.x(flow.to.lon), y2: p.y(flow.to.lat), stroke: "#0072B2", "stroke-opacity": 0.45, "stroke-width": width.toFixed(1), class: "flow" }));
  }
  for (const place of options.places || []) {
    const loc = place.location;
    if (!loc || !p.inside(loc.latitude, loc.longitude)) continue;
    const isBase = place.kind === "demonstration_base";
    const inZone = place.zone_tier !== "ZONE_TIER_OUTSIDE";
    if (!isBase && !inZone && !["beijing", "tianjin"].includes(place.id)) continue;
    const x = p.x(loc.longitude), y = p.y(loc.latitude);
    const colour = ZONE_COLOURS[place.zone_tier] || "#888";
    const r = isBase ? 5 : 4;
    const marker = isBase
      ? el("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, transform: `rotate(45 ${x} ${y})`, fill: "#fff", stroke: "#6a3d9a", "stroke-width": 2, class: "base" })
      : el("circle", { cx: x, cy: y, r, fill: colour, stroke: "#fff", class: "city" });
    marker.appendChild(el("title", {}, `${name(place)} · ${place.id}`));
    svg.appendChild(marker);
    const priority = isBase ? 50 : { ZONE_TIER_CORE: 45, ZONE_TIER_KEY: 42, ZONE_TIER_METRO: 41, ZONE_TIER_SUPPORT: 40 }[place.zone_tier] || 30;
    labelItems.push({ x, y, r, text: name(place), priority, fontSize: 11 });
    labelNodes.push({ cls: isBase ? "label base-label" : "label" });
  }
  for (const supplier of suppliers.slice(0, 200)) {
    if (!p.inside(supplier.lat, supplier.lon)) continue;
    const x = p.x(supplier.lon), y = p.y(supplier.lat);
    const r = Math.min(9, 2.5 + Math.sqrt(supplier.units || 1) / 2);
    const dot = el("circle", { cx: x, cy: y, r: r.toFixed(1), fill: "#0072B2", "fill-opacity": 0.6, class: "supplier" });
    dot.appendChild(el("title", {}, supplier.label));
    svg.appendChild(dot);
    labelItems.push({ x, y, r, text: supplier.label, priority: 10, fontSize: 10 });
    labelNodes.push({ cls: "label supplier-label" });
  }
  for (const incident of incidents) {
    const x = p.x(incident.lon), y = p.y(incident.lat);
    const ring = el("circle", { cx: x, cy: y, r: 8, fill: "none", stroke: "#D55E00", "stroke-width": 3, class: "incident" });
    ring.appendChild(el("title", {}, incident.label));
    svg.appendChild(ring);
    svg.appendChild(el("circle", { cx: x, cy: y, r: 2.5, fill: "#D55E00" }));
    labelItems.push({ x, y, r: 8, text: incident.label, priority: 100, fontSize: 12 });
    labelNodes.push({ cls: "label incident-label" });
  }
  const boxes = placeLabels(labelItems, { w: WIDTH, h: HEIGHT - 18 }, fixed);
  boxes.forEach((box, i) => {
    if (!box.placed) return;
    svg.appendChild(el("text", { x: (box.x + box.w / 2).toFixed(1), y: (box.y + box.h - 3).toFixed(1), "text-anchor": "middle", class: labelNodes[i].cls, "font-size": labelItems[i].fontSize }, labelItems[i].text));
  });
  svg.appendChild(el("text", { x: 6, y: HEIGHT - 6, class: "credit" }, t("map_credit")));
  if (flowsOutside) svg.appendChild(el("text", { x: 6, y: 14, class: "credit" }, `+${flowsOutside} ${t("flows_outside")}`));
  if (options.onClick) {
    svg.classList.add("clickable");
    svg.addEventListener("click", (event) => {
      const point = svg.createSVGPoint();
      point.x = event.clientX; point.y = event.clientY;
      const local = point.matrixTransform(svg.getScreenCTM().inverse());
      options.onClick(Number(p.lat(local.y).toFixed(4)), Number(p.lon(local.x).toFixed(4)));
    });
  }
  container.replaceChildren(svg);
  const legend = document.createElement("p");
  legend.className = "legend";
  legend.innerHTML = `<span class="key incident"></span>${t("legend_incident")} <span class="key city"></span>${t("legend_city")} <span class="key base"></span>${t("legend_base")}` +
    (suppliers.length ? ` <span class="key supplier"></span>${t("legend_supplier")}` : "") + (flows.length ? ` <span class="key flow"></span>${t("legend_flow")}` : "");
  container.appendChild(legend);
  void lang;
  return svg;
}
