// Drills: pick a sample drill or upload one, edit its incidents and what-ifs in a form, run it
// (DrillService.RunDrill: live progress, then the report), read the report with its charts and
// map, and compare two runs side by side (coverage over time, shortfall differences).

import { call, unary } from "./grpc.js";
import { t, name, lang, SEVERITIES, stageName, zoneName } from "./i18n.js";
import { h, field, input, select, clearErrors, showError, pct, num } from "./ui.js";
import { drawMap } from "./map.js";
import { lineChart, stackedBars, PALETTE } from "./charts.js";
import { parseNumber } from "./dispatch.js";
import { parse, stringify } from "../vendor/smol-toml/index.js";

/** The server's limit on a drill file (DRILL_REQUEST_BYTES_MAX, 1 MiB). */
const DRILL_BYTES_MAX = 1024 * 1024;
/** Suppliers whose position the report map looks up (GetSupplier each), most units first. */
const MAP_SUPPLIERS_MAX = 40;
/** Rows of the report's tables. */
const TABLE_ROWS_MAX = 20;
/** Runs kept for comparison in this page (oldest dropped first). */
const RUNS_MAX = 10;

const runs = [];

export async function render(root, catalog) {
  const samples = await (await fetch("/assets/drills/index.json")).json();
  const sample = select(samples.map((s) => [s, s.replace(/\.toml$/, "")]), { id: "drill-sample" });
  const upload = h("input", { type: "file", accept: ".toml,text/plain", id: "drill-upload" });
  const policy = select([["DRILL_POLICY_UNSPECIFIED", t("file_policy")], ["DRILL_POLICY_EFFICIENCY", t("efficiency")], ["DRILL_POLICY_EQUITY", t("equity")]]);
  const errors = h("div", { class: "error", role: "alert", hidden: true });
  const editor = h("div", { class: "editor" });
  const tomlView = h("textarea", { rows: 14, readonly: true, id: "drill-toml", spellcheck: "false" });
  const tomlBox = h("details", {}, h("summary", {}, "TOML"), field("drill_toml", tomlView, "drill_toml"));
  const runButton = h("button", { type: "submit", class: "primary", id: "run-drill" }, t("run"));
  const progress = h("progress", { max: 1, value: 0, id: "drill-progress" });
  const progressText = h("span", { class: "muted", role: "status" });
  const form = h("form", { class: "panel form", novalidate: true, "aria-labelledby": "drills-title" },
    h("h1", { id: "drills-title" }, t("nav_drills")),
    h("div", { class: "pair" }, field(t("drill"), sample), field(t("upload"), upload)),
    field(t("policy"), policy, "policy"),
    editor, tomlBox,
    h("div", { class: "field" }, h("label", { for: "drill-progress" }, t("progress")), progress, progressText),
    runButton, errors);
  const mapBox = h("div", { class: "panel map-box" });
  const report = h("section", { class: "report", id: "drill-report", "aria-live": "polite" });
  const compare = h("section", { class: "compare panel", id: "drill-compare" });
  root.append(h("div", { class: "layout wide-form" }, form, mapBox), report, compare);

  let model = null;
  let fileName = "";
  const refreshToml = () => { tomlView.value = stringify(model); };
  const load = (text, file) => {
    clearErrors(form, errors);
    try {
      model = parse(text);
    } catch (error) {
      showError(form, errors, { codeName: "TOML", message: `${file}: ${error.message}`, fieldViolations: [] });
      return;
    }
    fileName = file;
    model.incident = model.incident || [];
    model.what_if = model.what_if || {};
    renderEditor(editor, model, catalog, () => { refreshToml(); drawDrillMap(mapBox, model, catalog); });
    refreshToml();
    drawDrillMap(mapBox, model, catalog);
  };
  const loadSample = async () => {
    const response = await fetch(`/assets/drills/${encodeURIComponent(sample.value)}`);
    load(await response.text(), sample.value);
  };
  sample.addEventListener("change", loadSample);
  upload.addEventListener("change", async () => {
    const file = upload.files[0];
    if (!file) return;
    if (file.size > DRILL_BYTES_MAX) {
      showError(form, errors, { codeName: "INPUT", message: `${file.name}: larger than ${DRILL_BYTES_MAX} bytes`, fieldViolations: [] });
      return;
    }
    load(await file.text(), file.name);
  });
  await loadSample();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!model) return;
    clearErrors(form, errors);
    refreshToml();
    runButton.disabled = true;
    progress.value = 0;
    progressText.textContent = "";
    report.replaceChildren(h("p", { class: "muted" }, t("loading")));
    let finalReport = null;
    try {
      await call("equipmatch.v1.DrillService", "RunDrill", { drill_toml: tomlView.value, file_name: fileName, policy: policy.value }, (message) => {
        if (message.progress) {
          progress.max = message.progress.categories_total;
          progress.value = message.progress.categories_done;
          progressText.textContent = ` ${message.progress.categories_done} / ${message.progress.categories_total} · ${message.progress.category_id}`;
        }
        if (message.report) finalReport = message.report;
      });
      if (!finalReport) throw new Error("the stream ended without a report");
      const whatIf = model.what_if || {};
      const label = `#${runs.length + 1} ${finalReport.drill_id} · ${finalReport.policy}` +
        (whatIf.stock_factor !== undefined && whatIf.stock_factor !== 1 ? ` · stock×${whatIf.stock_factor}` : "") +
        (whatIf.road_factor_scale !== undefined && whatIf.road_factor_scale !== 1 ? ` · road×${whatIf.road_factor_scale}` : "");
      runs.push({ label, report: finalReport });
      if (runs.length > RUNS_MAX) runs.shift();
      await renderReport(report, finalReport, catalog, mapBox);
      renderCompare(compare);
    } catch (error) {
      report.replaceChildren();
      if ((error.fieldViolations || []).some((v) => v.field === "drill_toml")) tomlBox.open = true;
      showError(form, errors, error);
    } finally {
      runButton.disabled = false;
    }
  });
  renderCompare(compare);
}

/** The form over the drill's incidents and what-ifs; `changed` after every edit. */
function renderEditor(box, model, catalog, changed) {
  const scenarios = catalog.scenarios.map((s) => [s.id, name(s)]);
  const places = [["", "— lat/lon"], ...catalog.places.filter((p) => p.kind !== "park").map((p) => [p.id, `${name(p)} (${p.id})`])];
  const numberInto = (target, key, control) => control.addEventListener("change", () => {
    const text = control.value.trim();
    if (text === "") delete target[key]; else target[key] = parseNumber(text);
    changed();
  });
  const incidents = h("div", {});
  const renderIncidents = () => {
    incidents.replaceChildren(...model.incident.map((incident, i) => {
      const ids = (k) => `inc-${i}-${k}`;
      const id = input({ id: ids("id"), value: incident.id ?? "" });
      id.addEventListener("change", () => { incident.id = id.value.trim(); changed(); });
      const scenario = select(scenarios, { id: ids("scenario") });
      scenario.value = incident.scenario;
      scenario.addEventListener("change", () => { incident.scenario = scenario.value; changed(); });
      const severity = select(SEVERITIES.map((s) => [s.roman, s[lang]]), { id: ids("severity") });
      severity.value = incident.severity;
      severity.addEventListener("change", () => { incident.severity = severity.value; changed(); });
      const place = select(places, { id: ids("place") });
      place.value = incident.place ?? "";
      const lat = input({ id: ids("lat"), value: incident.latitude ?? "", inputmode: "decimal", disabled: Boolean(incident.place) });
      const lon = input({ id: ids("lon"), value: incident.longitude ?? "", inputmode: "decimal", disabled: Boolean(incident.place) });
      place.addEventListener("change", () => {
        if (place.value) {
          incident.place = place.value; delete incident.latitude; delete incident.longitude;
        } else {
          const p = catalog.place(incident.place);
          delete incident.place;
          incident.latitude = p ? p.location.latitude : 39.9; incident.longitude = p ? p.location.longitude : 116.4;
        }
        renderIncidents(); changed();
      });
      numberInto(incident, "latitude", lat);
      numberInto(incident, "longitude", lon);
      const start = input({ id: ids("start"), value: incident.start_hours ?? "", inputmode: "decimal" });
      numberInto(incident, "start_hours", start);
      const population = input({ id: ids("pop"), value: incident.affected_population ?? "", inputmode: "numeric" });
      numberInto(incident, "affected_population", population);
      const area = input({ id: ids("area"), value: incident.affected_area_km2 ?? "", inputmode: "decimal" });
      numberInto(incident, "affected_area_km2", area);
      const remove = h("button", { type: "button", class: "small", onclick: () => { model.incident.splice(i, 1); renderIncidents(); changed(); } }, `${t("remove")} ${incident.id ?? ""}`);
      return h("fieldset", { class: "incident-row" }, h("legend", {}, `${t("incident")} ${i + 1}`),
        h("div", { class: "grid" },
          field(t("id"), id), field(t("scenario"), scenario), field(t("severity"), severity), field(t("start_hours"), start),
          field(t("place"), place), field(t("latitude"), lat), field(t("longitude"), lon), field(t("affected_population"), population),
          field(t("area"), area)),
        remove);
    }));
  };
  renderIncidents();
  const add = h("button", { type: "button", onclick: () => {
    model.incident.push({ id: `incident-${model.incident.length + 1}`, scenario: catalog.scenarios[0].id, start_hours: 0, place: "baoding", severity: "III",
      affected_population: 100000, affected_area_km2: 50, source: "console: added by the planner (MODEL)", grade: "MODEL" });
    renderIncidents(); changed();
  } }, t("add_incident"));

  const w = model.what_if;
  const whatIfNumber = (key, label) => {
    const control = input({ id: `wi-${key}`, value: w[key] ?? "", inputmode: "decimal", placeholder: key === "stock_factor" || key === "road_factor_scale" ? "1" : "0" });
    numberInto(w, key, control);
    return field(label, control);
  };
  const listInto = (key, label) => {
    const control = input({ value: (w[key] || []).join(", ") });
    control.addEventListener("change", () => {
      const items = control.value.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);
      if (items.length) w[key] = items; else delete w[key];
      changed();
    });
    return field(label, control);
  };
  const zoneBoxes = catalog.zones.map((z) => {
    const box = h("input", { type: "checkbox", id: `wz-${z.key}`, checked: (w.zones_offline || []).includes(z.key) });
    box.addEventListener("change", () => {
      const chosen = catalog.zones.filter((zz) => document.getElementById(`wz-${zz.key}`).checked).map((zz) => zz.key);
      if (chosen.length) w.zones_offline = chosen; else delete w.zones_offline;
      changed();
    });
    return h("label", { for: `wz-${z.key}` }, box, ` ${zoneName(z.key)}`);
  });
  box.replaceChildren(
    h("h2", {}, `${t("incidents")} · ${model.name ?? model.id ?? ""}`),
    incidents, add,
    h("fieldset", {}, h("legend", {}, t("what_if")),
      h("div", { class: "triple" }, whatIfNumber("stock_factor", t("stock_factor")), whatIfNumber("road_factor_scale", t("road_factor")), whatIfNumber("random_suppliers_offline_share", t("random_offline"))),
      listInto("places_offline", t("places_offline")),
      listInto("suppliers_offline", t("suppliers_offline")),
      h("fieldset", {}, h("legend", {}, t("zones_offline")), zoneBoxes)));
}

function incidentPoints(model, catalog) {
  return (model.incident || []).map((incident) => {
    const p = incident.place ? catalog.place(incident.place) : null;
    const lat = p ? p.location.latitude : incident.latitude;
    const lon = p ? p.location.longitude : incident.longitude;
    return Number.isFinite(lat) && Number.isFinite(lon) ? { lat, lon, label: incident.id } : null;
  }).filter(Boolean);
}

function drawDrillMap(box, model, catalog) {
  return drawMap(box, { places: catalog.places, incidents: incidentPoints(model, catalog) });
}

async function renderReport(box, report, catalog, mapBox) {
  const totals = report.totals;
  const card = (label, value, cls) => h("div", { class: "card" }, label, h("b", { class: cls || "" }, value));
  const coverage = lineChart(report.incidents.map((incident, n) => ({
    label: incident.id, colour: PALETTE[n % PALETTE.length],
    points: report.series_hours.map((hour, k) => [hour, incident.coverage_series[k] ?? 0]),
  })), { xMax: report.horizon_hours, title: t("coverage_over_time") });
  // Each stage's bar: its requirements' priority-weighted coverage (one requirement counts
  // once, however many units it asks for), in percent: on time, late, unmet. A stage the
  // drill asked nothing of has an empty bar.
  const share = (x) => Math.round(Math.max(0, x) * 1000) / 10;
  const stages = stackedBars(report.stages.map((s) => {
    const [onTime, final] = s.units_required > 0 ? [s.on_time_coverage, s.final_coverage] : [0, 1];
    return { label: stageName(s.stage), parts: [
      { name: `${t("units_on_time")} %`, value: share(onTime), colour: "#009E73" },
      { name: `${t("units_late")} %`, value: share(final - onTime), colour: "#E69F00" },
      { name: `${t("units_unmet")} %`, value: share(1 - final), colour: "#D55E00" }] };
  }), { title: t("stages") });
  const row = (...cells) => h("tr", {}, cells.map((c) => h("td", { class: typeof c === "number" ? "num" : "" }, c)));
  const head = (...cells) => h("thead", {}, h("tr", {}, cells.map((c) => h("th", { scope: "col" }, c))));
  box.replaceChildren(
    h("h2", {}, `${t("report")}: ${report.name}`),
    h("p", { class: "muted" }, `${report.drill_id} · ${t("policy")} ${report.policy} · ${report.time_step_hours} h · ${report.horizon_hours} h · seed ${report.seed} · catalog ${report.catalog_version}`),
    h("div", { class: "cards" },
      card(t("incidents"), totals.incidents), card(t("units_required"), totals.units_required), card(t("units_on_time"), totals.units_on_time, "ok"),
      card(t("units_late"), totals.units_late), card(t("units_unmet"), totals.units_unmet, "bad"), card(t("suppliers_offline"), report.what_if.suppliers_offline_total)),
    h("div", { class: "charts" },
      h("figure", { class: "panel" }, h("figcaption", {}, t("coverage_over_time")), coverage),
      h("figure", { class: "panel" }, h("figcaption", {}, t("stages")), stages)),
    h("div", { class: "panel scroll" }, h("table", { id: "report-incidents" }, h("caption", {}, t("incidents")),
      head(t("id"), t("scenario"), t("severity"), t("start_hours"), t("units_required"), `${t("coverage")} (${t("on_time")})`, `${t("coverage")} (final)`, "100% after", ...report.stages.map((s) => stageName(s.stage))),
      h("tbody", {}, report.incidents.map((i) => row(i.id, name(catalog.scenario(i.scenario_id)) || i.scenario_id, i.severity, i.start_hours, i.units_required,
        pct(i.on_time_coverage), pct(i.final_coverage), i.hours_to_full_coverage === undefined || i.hours_to_full_coverage === null ? "—" : `${num(i.hours_to_full_coverage)} h`,
        ...i.stages.map((s) => `${pct(s.on_time_coverage)} / ${pct(s.final_coverage)}`)))))),
    h("div", { class: "charts" },
      h("div", { class: "panel scroll" }, h("table", { id: "report-shortfalls" }, h("caption", {}, `${t("shortfalls")} (${report.shortfalls.length})`),
        head(t("category"), t("stage"), t("units_required"), t("units_on_time"), t("units_late"), t("units_unmet")),
        h("tbody", {}, report.shortfalls.slice(0, TABLE_ROWS_MAX).map((s) => row(name(catalog.category(s.category_id)) || s.category_id, stageName(s.stage), s.units_required, s.units_on_time, s.units_late, s.units_unmet))))),
      h("div", { class: "panel scroll" }, h("table", {}, h("caption", {}, `${t("spof")} (${report.single_points_of_failure.length})`),
        head(t("category"), t("stage"), t("incident"), "kind", "holder"),
        h("tbody", {}, report.single_points_of_failure.slice(0, TABLE_ROWS_MAX).map((s) => row(s.category_id, stageName(s.stage), s.incident_id, s.kind, s.holder_id)))))));
  await drawReportMap(mapBox, report, catalog);
}

/** Incidents, the suppliers that shipped most (positions from GetSupplier) and their flows. */
async function drawReportMap(box, report, catalog) {
  const incidents = report.incidents.map((i) => ({ lat: i.latitude, lon: i.longitude, label: i.id }));
  const byIncident = new Map(incidents.map((i) => [i.label, i]));
  const units = new Map();
  for (const s of report.shipments) if (!s.from.startsWith("site:")) units.set(s.from, (units.get(s.from) || 0) + s.units);
  const top = [...units].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, MAP_SUPPLIERS_MAX);
  const located = new Map();
  await Promise.all(top.map(async ([id]) => {
    try {
      const response = await unary("equipmatch.v1.CatalogService", "GetSupplier", { supplier_id: id });
      located.set(id, { lat: response.supplier.location.latitude, lon: response.supplier.location.longitude });
    } catch { /* a supplier the catalog no longer has: left off the map */ }
  }));
  const flows = new Map();
  for (const s of report.shipments) {
    const from = located.get(s.from);
    const to = byIncident.get(s.incident_id);
    if (!from || !to) continue;
    const key = `${s.from}>${s.incident_id}`;
    flows.set(key, { from, to, units: (flows.get(key)?.units || 0) + s.units });
  }
  const suppliers = top.filter(([id]) => located.has(id)).map(([id, n]) => ({ ...located.get(id), label: id, units: n }));
  await drawMap(box, { places: catalog.places, incidents, suppliers, flows: [...flows.values()] });
}

/** Two runs side by side: overall coverage over time and the shortfall differences. */
function renderCompare(box) {
  if (runs.length < 2) {
    box.replaceChildren(h("h2", {}, t("compare")), h("p", { class: "muted" }, `${t("runs")}: ${runs.length} — ${lang === "en" ? "run the drill twice (e.g. change a what-if) to compare" : "运行两次（例如修改假设条件）即可对比"}`));
    return;
  }
  const choices = runs.map((r, i) => [String(i), r.label]);
  const a = select(choices, { id: "compare-a" });
  const b = select(choices, { id: "compare-b" });
  a.value = String(runs.length - 2);
  b.value = String(runs.length - 1);
  const out = h("div", {});
  const draw = () => {
    const ra = runs[Number(a.value)].report, rb = runs[Number(b.value)].report;
    const overall = (r) => r.series_hours.map((hour, k) => [hour, r.incidents.reduce((s, i) => s + (i.coverage_series[k] ?? 0), 0) / Math.max(1, r.incidents.length)]);
    const chart = lineChart([
      { label: `A ${runs[Number(a.value)].label}`, colour: PALETTE[0], points: overall(ra) },
      { label: `B ${runs[Number(b.value)].label}`, colour: PALETTE[1], points: overall(rb), dashed: true },
    ], { xMax: Math.max(ra.horizon_hours, rb.horizon_hours), title: t("coverage_over_time") });
    const unmet = new Map();
    for (const s of ra.shortfalls) unmet.set(`${s.category_id}|${s.stage}`, [s.units_unmet, 0]);
    for (const s of rb.shortfalls) unmet.set(`${s.category_id}|${s.stage}`, [(unmet.get(`${s.category_id}|${s.stage}`) || [0])[0], s.units_unmet]);
    const rows = [...unmet].map(([key, [ua, ub]]) => ({ key, ua, ub, diff: ub - ua })).filter((r) => r.diff !== 0)
      .sort((x, y) => Math.abs(y.diff) - Math.abs(x.diff) || x.key.localeCompare(y.key)).slice(0, TABLE_ROWS_MAX);
    out.replaceChildren(
      h("div", { class: "cards" },
        h("div", { class: "card" }, `A ${t("units_unmet")}`, h("b", {}, ra.totals.units_unmet)),
        h("div", { class: "card" }, `B ${t("units_unmet")}`, h("b", {}, rb.totals.units_unmet)),
        h("div", { class: "card" }, t("difference"), h("b", { class: rb.totals.units_unmet > ra.totals.units_unmet ? "bad" : "ok" }, rb.totals.units_unmet - ra.totals.units_unmet))),
      h("div", { class: "charts" },
        h("figure", { class: "panel" }, h("figcaption", {}, t("coverage_over_time")), chart),
        h("div", { class: "scroll" }, h("table", { id: "compare-shortfalls" }, h("caption", {}, `${t("shortfalls")}: ${t("units_unmet")} A → B`),
          h("thead", {}, h("tr", {}, [t("category"), t("stage"), "A", "B", t("difference")].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, rows.map((r) => {
            const [category, stage] = r.key.split("|");
            return h("tr", {}, h("td", {}, category), h("td", {}, stageName(stage)), h("td", { class: "num" }, r.ua), h("td", { class: "num" }, r.ub), h("td", { class: `num ${r.diff > 0 ? "bad" : "ok"}` }, r.diff > 0 ? `+${r.diff}` : r.diff));
          }))))));
  };
  a.addEventListener("change", draw);
  b.addEventListener("change", draw);
  box.replaceChildren(h("h2", {}, t("compare")), h("div", { class: "pair" }, field(t("compare_a"), a), field(t("compare_b"), b)), out);
  draw();
}
