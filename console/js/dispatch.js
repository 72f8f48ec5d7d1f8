// Dispatch: an incident form (or a click on the map) → MatchService.Match → the chain's three
// stages with coverage bars, requirements, ranked options with their score parts and the plan;
// then one action places a hold on the plan (HoldService.PlaceHold, with the user's token).

import { unary } from "./grpc.js";
import { t, name, lang, href, SEVERITIES, STAGES, stageName, zoneName } from "./i18n.js";
import { h, field, input, select, clearErrors, showError, bar, num, wholeNumber } from "./ui.js";
import { drawMap } from "./map.js";

/** The server takes at most this many lines in one hold (holds::LINES_PER_HOLD_MAX). */
const LINES_PER_HOLD_MAX = 64;

export async function render(root, catalog) {
  const scenario = select(catalog.scenarios.map((s) => [s.id, name(s)]), { name: "scenario" });
  const severity = select(SEVERITIES.map((s) => [s.proto, s[lang]]), { name: "severity" });
  const placeChoices = catalog.places.filter((p) => p.kind !== "park");
  const place = select([["", "—"], ...placeChoices.map((p) => [p.id, `${name(p)} (${p.id})`])], { name: "place" });
  const latitude = input({ name: "latitude", inputmode: "decimal", value: "39.63" });
  const longitude = input({ name: "longitude", inputmode: "decimal", value: "118.18" });
  const population = input({ name: "affected_population", inputmode: "numeric", value: "1000000" });
  const area = input({ name: "affected_area_km2", inputmode: "decimal", value: "500" });
  const options = input({ name: "options", inputmode: "numeric", value: "3" });
  place.value = "tangshan";
  place.addEventListener("change", () => {
    const chosen = catalog.place(place.value);
    if (chosen) {
      latitude.value = chosen.location.latitude;
      longitude.value = chosen.location.longitude;
      refreshMap();
    }
  });
  const errors = h("div", { class: "error", role: "alert", hidden: true });
  const form = h("form", { class: "panel form", novalidate: true, "aria-labelledby": "dispatch-title" },
    h("h1", { id: "dispatch-title" }, t("nav_dispatch")),
    field(t("scenario"), scenario, "scenario_id"),
    field(t("severity"), severity, "severity"),
    field(t("place"), place),
    h("div", { class: "pair" }, field(t("latitude"), latitude, "location.latitude"), field(t("longitude"), longitude, "location.longitude")),
    h("p", { class: "hint" }, t("click_map")),
    field(t("affected_population"), population, "affected_population"),
    field(t("area"), area, "affected_area_km2"),
    field(t("options"), options, "options_per_requirement"),
    h("button", { type: "submit", class: "primary" }, t("match")),
    errors);
  const mapBox = h("div", { class: "panel map-box", id: "dispatch-map" });
  const results = h("section", { class: "results", id: "match-results", "aria-live": "polite" });
  root.append(h("div", { class: "layout" }, form, mapBox), results);

  let lastResponse = null;
  const refreshMap = async () => {
    const lat = Number(latitude.value), lon = Number(longitude.value);
    const incidents = Number.isFinite(lat) && Number.isFinite(lon) && latitude.value && longitude.value ? [{ lat, lon, label: name(catalog.scenario(scenario.value)) }] : [];
    const { suppliers, flows } = planGeography(lastResponse, catalog, incidents[0]);
    await drawMap(mapBox, {
      places: catalog.places, incidents, suppliers, flows,
      onClick: (clickLat, clickLon) => {
        latitude.value = clickLat; longitude.value = clickLon; place.value = "";
        refreshMap();
      },
    });
  };
  await refreshMap();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, errors);
    results.replaceChildren(h("p", { class: "muted" }, t("loading")));
    try {
      const request = {
        scenario_id: scenario.value,
        severity: severity.value,
        location: { latitude: parseNumber(latitude.value), longitude: parseNumber(longitude.value) },
        affected_population: wholeNumber(population.value, "affected_population"),
        affected_area_km2: parseNumber(area.value),
        options_per_requirement: wholeNumber(options.value, "options_per_requirement"),
      };
      lastResponse = await unary("equipmatch.v1.MatchService", "Match", request);
      renderResults(results, lastResponse, catalog, request);
      await refreshMap();
    } catch (error) {
      results.replaceChildren();
      showError(form, errors, error);
    }
  });
}

/**
 * A number as typed; text that is not one goes to the server as NaN (refused there with the
 * field's name), never silently as 0. Negative values are kept as typed too.
 */
export function parseNumber(text) {
  const trimmed = String(text).trim().replace(/[_,\s]/g, "");
  return trimmed === "" ? NaN : Number(trimmed);
}

function planGeography(response, catalog, incident) {
  if (!response || !incident) return { suppliers: [], flows: [] };
  const units = new Map();
  for (const stage of response.stages) for (const requirement of stage.requirements) for (const entry of requirement.plan) {
    const option = requirement.options.find((o) => o.supplier_id === entry.supplier_id);
    const placeId = option ? option.place_id : null;
    const key = entry.supplier_id;
    const previous = units.get(key) || { units: 0, placeId };
    previous.units += entry.quantity;
    units.set(key, previous);
  }
  const suppliers = [];
  const flows = [];
  for (const [id, { units: n, placeId }] of units) {
    const place = catalog.place(placeId);
    if (!place) continue;
    const at = { lat: place.location.latitude, lon: place.location.longitude };
    suppliers.push({ ...at, label: id, units: n });
    flows.push({ from: at, to: incident, units: n });
  }
  return { suppliers, flows };
}

function renderResults(box, response, catalog, request) {
  const stages = response.stages.map((stage) => {
    const requirements = stage.requirements.map((r) => requirementView(r, catalog));
    return h("section", { class: "stage panel", dataset: { stage: stage.stage } },
      h("h3", {}, stageName(stage.stage), " ", bar(stage.coverage, `${stageName(stage.stage)} ${t("coverage")}`)),
      requirements);
  });
  box.replaceChildren(
    h("h2", {}, t("stages"), " ", bar(response.coverage, t("coverage"))),
    h("p", { class: "muted" }, `${name(catalog.scenario(response.scenario_id))} · ${(SEVERITIES.find((s) => s.proto === response.severity) || {})[lang] || response.severity} · catalog ${response.catalog_version}`),
    h("div", { class: "stages" }, stages),
    holdForm(response, request, catalog));
}

function requirementView(r, catalog) {
  const category = catalog.category(r.category_id);
  const options = h("table", { class: "options" },
    h("caption", {}, t("options_ranked")),
    h("thead", {}, h("tr", {}, [t("rank"), t("supplier"), t("place"), t("zone"), t("stock"), t("production"), t("distance"), t("eta"), t("score"), t("score_parts")]
      .map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, r.options.map((o, i) => h("tr", { class: o.on_time ? "" : "late" },
      h("td", { class: "num" }, i + 1),
      h("td", {}, o.supplier_id, o.substitute ? ` (${o.category_id})` : ""),
      h("td", {}, name(catalog.place(o.place_id)) || o.place_id),
      h("td", {}, zoneName(o.zone_tier)),
      h("td", { class: "num" }, num(o.quantity_from_stock)),
      h("td", { class: "num" }, num(o.quantity_from_production)),
      h("td", { class: "num" }, num(o.distance_km)),
      h("td", { class: "num" }, num(o.eta_hours), o.on_time ? "" : ` (${t("late")})`),
      h("td", { class: "num" }, o.score.toFixed(3)),
      h("td", {}, scoreParts(o.score_parts))))));
  const plan = r.plan.length
    ? h("p", { class: "plan" }, h("strong", {}, `${t("plan")}: `), r.plan.map((e) => `${e.supplier_id} ×${num(e.quantity)} @${num(e.eta_hours)}h`).join(", "))
    : h("p", { class: "plan bad" }, `${t("plan")}: ${t("none")}`);
  return h("details", { class: "requirement", open: r.coverage < 1 ? true : undefined },
    h("summary", {},
      h("span", { class: "cat" }, category ? name(category) : r.category_name),
      ` · ${t("required")} ${num(r.quantity_required)} ${r.unit} · ${t("within")} ${num(r.needed_within_hours)} h · ${t("priority")} ${t(r.priority)} `,
      bar(r.coverage, `${r.category_id} ${t("coverage")}`),
      r.shortfall > 0 ? h("span", { class: "bad" }, ` ${t("shortfall")} ${num(r.shortfall)}`) : ""),
    h("p", { class: "muted rule" }, r.quantity_rule, ` [${r.grade}]`),
    options, plan);
}

function scoreParts(parts) {
  const colours = { arrival: "#0072B2", coverage: "#009E73", reliability: "#E69F00", certification: "#CC79A7", zone_policy: "#56B4E9" };
  return h("span", { class: "parts", title: parts.map((p) => `${p.criterion} ${p.weight.toFixed(2)}×${p.value.toFixed(2)}=${p.contribution.toFixed(3)}`).join("\n") },
    parts.map((p) => h("span", { class: "part", style: `width:${(p.contribution * 100).toFixed(1)}%;background:${colours[p.criterion] || "#999"}` })),
    h("span", { class: "part-text" }, parts.map((p) => `${p.criterion.slice(0, 4)} ${p.contribution.toFixed(2)}`).join(" · ")));
}

/**
 * What of the plan a hold can reserve: one line per (supplier, category), whole units, in a
 * stable order. A hold reserves stock on hand; a plan may also count surge production that is
 * not made yet, so each line is capped at the option's stock (net of holds) and the rest is
 * reported as not held.
 */
export function planLines(response) {
  const planned = new Map();
  const stock = new Map();
  for (const stage of response.stages) for (const r of stage.requirements) {
    for (const o of r.options) stock.set(`${o.supplier_id}/${o.category_id}`, o.quantity_from_stock);
    for (const e of r.plan) {
      const key = `${e.supplier_id}/${e.category_id}`;
      planned.set(key, (planned.get(key) || 0) + e.quantity);
    }
  }
  let unheld = 0;
  const lines = [...planned.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, quantity]) => {
    const [supplier_id, category_id] = key.split("/");
    const units = Math.floor(Math.min(quantity, stock.get(key) ?? 0) + 1e-9);
    unheld += Math.max(0, quantity - units);
    return { supplier_id, category_id, quantity_units: units };
  }).filter((l) => l.quantity_units > 0);
  return { lines, unheld };
}

function holdForm(response, request, catalog) {
  const { lines, unheld } = planLines(response);
  const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 12);
  const holdId = input({ value: `plan-${stamp}` });
  const incident = input({ value: `${request.scenario_id}-${stamp}` });
  const ttl = input({ inputmode: "numeric", value: "900" });
  const errors = h("div", { class: "error", role: "alert", hidden: true });
  const done = h("div", { class: "ok", role: "status" });
  const parts = Math.ceil(lines.length / LINES_PER_HOLD_MAX);
  const form = h("form", { class: "panel hold-form", novalidate: true },
    h("h3", {}, t("hold_plan")),
    h("p", { class: "muted" }, `${lines.length} ${t("lines")}` + (parts > 1 ? ` → ${parts} holds (≤ ${LINES_PER_HOLD_MAX} lines each)` : "")),
    unheld > 0 ? h("p", { class: "muted" }, `${num(unheld)} ${t("unheld")}`) : null,
    h("div", { class: "pair" }, field(t("hold_id"), holdId, "hold_id"), field(t("incident_ref"), incident, "incident_ref")),
    field(t("ttl"), ttl, "ttl_seconds"),
    h("button", { type: "submit", class: "primary", disabled: lines.length === 0 }, t("hold_plan")),
    errors, done);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, errors);
    done.replaceChildren();
    try {
      for (let part = 0; part < parts; part++) {
        const id = parts > 1 ? `${holdId.value}-${part + 1}` : holdId.value;
        const chunk = lines.slice(part * LINES_PER_HOLD_MAX, (part + 1) * LINES_PER_HOLD_MAX);
        const placed = await unary("equipmatch.v1.HoldService", "PlaceHold", { hold_id: id, incident_ref: incident.value, lines: chunk, ttl_seconds: Number(ttl.value) });
        done.append(h("p", {}, `${t("hold_placed")}: ${placed.hold.hold_id} · ${placed.hold.state} · ${placed.hold.lines.length} ${t("lines")}`));
      }
      done.append(h("p", {}, h("a", { href: `${href("holds")}${href("holds").includes("?") ? "&" : "?"}incident=${encodeURIComponent(incident.value)}` }, `→ ${t("nav_holds")}`)));
    } catch (error) {
      showError(form, errors, error);
    }
  });
  void catalog; void STAGES;
  return form;
}
