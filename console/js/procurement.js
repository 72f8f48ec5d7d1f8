// Procurement: a shortlist by categories, quantity, place and filters (MatchService.Shortlist)
// in a sortable table, downloadable as CSV, with the suppliers on the map.

import { unary } from "./grpc.js";
import { t, name, zoneName } from "./i18n.js";
import { h, field, input, select, clearErrors, showError, sortableTable, num, wholeNumber } from "./ui.js";
import { drawMap } from "./map.js";
import { toCsv } from "./csv.js";
import { parseNumber } from "./dispatch.js";

/** The server's limit on categories per shortlist (SHORTLIST_CATEGORIES_MAX). */
const CATEGORIES_MAX = 20;

export async function render(root, catalog) {
  const chosen = [];
  const categoryInput = input({ list: "category-list", autocomplete: "off", placeholder: "drainage-truck-large" });
  const datalist = h("datalist", { id: "category-list" }, catalog.categories.map((c) => h("option", { value: c.id }, name(c))));
  const chips = h("ul", { class: "chips", "aria-label": t("categories_selected") });
  const renderChips = () => chips.replaceChildren(...chosen.map((id, i) => h("li", {}, h("span", {}, `${name(catalog.category(id)) || id} (${id})`),
    h("button", { type: "button", class: "small", "aria-label": `${t("remove")} ${id}`, onclick: () => { chosen.splice(i, 1); renderChips(); } }, "×"))));
  const addCategory = () => {
    const id = categoryInput.value.trim();
    if (id && !chosen.includes(id) && chosen.length < CATEGORIES_MAX) chosen.push(id);
    categoryInput.value = "";
    renderChips();
  };
  categoryInput.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); addCategory(); } });
  chosen.push("drainage-truck-large", "drainage-truck-mother-child");
  renderChips();

  const quantity = input({ name: "quantity", inputmode: "decimal", value: "6" });
  const place = select([["", "—"], ...catalog.places.filter((p) => p.kind !== "park").map((p) => [p.id, `${name(p)} (${p.id})`])]);
  place.value = "baoding";
  const latitude = input({ inputmode: "decimal", value: "38.87" });
  const longitude = input({ inputmode: "decimal", value: "115.47" });
  place.addEventListener("change", () => {
    const p = catalog.place(place.value);
    latitude.value = p ? p.location.latitude : "";
    longitude.value = p ? p.location.longitude : "";
  });
  const zoneBoxes = catalog.zones.map((z) => h("input", { type: "checkbox", value: z.proto, id: `zone-${z.key}`, checked: z.key === "core" || z.key === "key" }));
  const zones = h("fieldset", { dataset: { field: "filters.zone_tiers" } }, h("legend", {}, t("zones")),
    catalog.zones.map((z, i) => h("label", { for: `zone-${z.key}` }, zoneBoxes[i], ` ${zoneName(z.key)}`)));
  const placeFilter = select([["", t("all")], ...catalog.places.map((p) => [p.id, `${name(p)} (${p.id})`])]);
  const maxLead = input({ inputmode: "decimal", value: "" });
  const minReliability = input({ inputmode: "decimal", value: "0" });
  const window = input({ inputmode: "decimal", value: "72" });
  const count = input({ inputmode: "numeric", value: "20" });
  const errors = h("div", { class: "error", role: "alert", hidden: true });
  const form = h("form", { class: "panel form", novalidate: true, "aria-labelledby": "procurement-title" },
    h("h1", { id: "procurement-title" }, t("nav_procurement")),
    h("div", { class: "field" }, h("label", { for: "category-input" }, t("category")),
      h("div", { class: "pair" }, Object.assign(categoryInput, { id: "category-input" }), h("button", { type: "button", onclick: addCategory }, t("add_category")))),
    datalist, chips,
    field(t("quantity"), quantity, "quantity"),
    field(t("place"), place),
    h("div", { class: "pair" }, field(t("latitude"), latitude, "location.latitude"), field(t("longitude"), longitude, "location.longitude")),
    zones,
    field(t("places_filter"), placeFilter, "filters.place_ids"),
    h("div", { class: "triple" }, field(t("max_lead"), maxLead, "filters.max_lead_time_hours"), field(t("min_reliability"), minReliability, "filters.min_reliability"), field(t("window"), window, "needed_within_hours")),
    field(t("count"), count, "count"),
    h("button", { type: "submit", class: "primary" }, t("shortlist")),
    errors);
  categoryInput.dataset.field = "category_ids";
  const mapBox = h("div", { class: "panel map-box" });
  const results = h("section", { class: "results", id: "shortlist-results", "aria-live": "polite" });
  root.append(h("div", { class: "layout" }, form, mapBox), results);
  await drawMap(mapBox, { places: catalog.places });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, errors);
    results.replaceChildren(h("p", { class: "muted" }, t("loading")));
    try {
      const located = latitude.value.trim() !== "" || longitude.value.trim() !== "";
      const request = {
        category_ids: [...chosen],
        quantity: parseNumber(quantity.value),
        location: located ? { latitude: parseNumber(latitude.value), longitude: parseNumber(longitude.value) } : undefined,
        filters: {
          zone_tiers: zoneBoxes.filter((b) => b.checked).map((b) => b.value),
          place_ids: placeFilter.value ? [placeFilter.value] : [],
          max_lead_time_hours: maxLead.value.trim() === "" ? undefined : parseNumber(maxLead.value),
          min_reliability: minReliability.value.trim() === "" ? 0 : parseNumber(minReliability.value),
        },
        count: wholeNumber(count.value, "count"),
        needed_within_hours: window.value.trim() === "" ? undefined : parseNumber(window.value),
      };
      const response = await unary("equipmatch.v1.MatchService", "Shortlist", request);
      renderShortlist(results, response, catalog);
      const delivery = located ? [{ lat: request.location.latitude, lon: request.location.longitude, label: name(catalog.place(place.value)) || t("place") }] : [];
      const byPlace = new Map();
      for (const e of response.entries) byPlace.set(e.place_id, (byPlace.get(e.place_id) || 0) + e.quantity_available);
      const suppliers = [...byPlace].map(([id, units]) => {
        const p = catalog.place(id);
        return p && { lat: p.location.latitude, lon: p.location.longitude, label: name(p), units };
      }).filter(Boolean);
      await drawMap(mapBox, { places: catalog.places, incidents: delivery, suppliers, flows: delivery.length ? suppliers.map((s) => ({ from: s, to: delivery[0], units: s.units })) : [] });
    } catch (error) {
      results.replaceChildren();
      showError(form, errors, error);
    }
  });
}

/** The shortlist's columns: header, value for sorting and CSV. */
function columns(catalog) {
  return [
    { label: t("rank"), value: (e) => e.rank, numeric: true },
    { label: t("supplier"), value: (e) => e.supplier_id },
    { label: t("supplier_name"), value: (e) => e.supplier_name },
    { label: t("category"), value: (e) => e.category_id },
    { label: t("place"), value: (e) => name(catalog.place(e.place_id)) || e.place_id },
    { label: t("zone"), value: (e) => zoneName(e.zone_tier) },
    { label: t("base"), value: (e) => e.demonstration_base },
    { label: t("available"), value: (e) => e.quantity_available, show: (e) => num(e.quantity_available), numeric: true },
    { label: t("stock"), value: (e) => e.quantity_from_stock, show: (e) => num(e.quantity_from_stock), numeric: true },
    { label: t("production"), value: (e) => e.quantity_from_production, show: (e) => num(e.quantity_from_production), numeric: true },
    { label: t("distance"), value: (e) => e.distance_km ?? "", show: (e) => num(e.distance_km), numeric: true },
    { label: t("lead_time"), value: (e) => e.lead_time_hours, show: (e) => num(e.lead_time_hours), numeric: true },
    { label: t("eta"), value: (e) => e.eta_hours, show: (e) => num(e.eta_hours), numeric: true },
    { label: t("on_time"), value: (e) => (e.on_time ? "yes" : "no") },
    { label: t("score"), value: (e) => e.score, show: (e) => e.score.toFixed(3), numeric: true },
  ];
}

function renderShortlist(box, response, catalog) {
  const rows = response.entries.map((e, i) => ({ ...e, rank: i + 1 }));
  const cols = columns(catalog);
  const download = h("button", { type: "button", class: "primary", id: "download-csv" }, t("download_csv"));
  download.addEventListener("click", () => {
    const csv = toCsv([...cols.map((c) => c.label), "score_parts"], rows.map((row) => [
      ...cols.map((c) => c.value(row)),
      row.score_parts.map((p) => `${p.criterion}=${p.contribution.toFixed(4)}`).join(" "),
    ]));
    const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
    const link = h("a", { href: url, download: "shortlist.csv" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  box.replaceChildren(
    h("h2", {}, `${t("shortlist")} · ${rows.length}`, download),
    h("p", { class: "muted" }, `catalog ${response.catalog_version}`),
    h("div", { class: "panel scroll" }, sortableTable(cols, rows, { id: "shortlist-table" })));
}
