// Holds: the holds of an incident or a supplier (HoldService.ListHolds), each hold's history
// (GetHold), and confirm / release (with the user's token and operator name).

import { unary } from "./grpc.js";
import { t } from "./i18n.js";
import { h, field, input, select, clearErrors, showError } from "./ui.js";

/** Holds per page asked for, and pages read (bounds the loop). */
const PAGE_SIZE = 100;
const PAGES_MAX = 10;

function time(ms) {
  return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z" : "—";
}

export async function render(root) {
  const params = new URLSearchParams(location.search);
  const kind = select([["incident", t("incident")], ["supplier", t("supplier_kind")]], { id: "holds-kind" });
  const target = input({ id: "holds-target", value: params.get("incident") || params.get("supplier") || "" });
  if (params.get("supplier")) kind.value = "supplier";
  const errors = h("div", { class: "error", role: "alert", hidden: true });
  const form = h("form", { class: "panel form", novalidate: true, "aria-labelledby": "holds-title" },
    h("h1", { id: "holds-title" }, t("nav_holds")),
    h("div", { class: "pair" }, field(t("list_by"), kind), field(t("incident_or_supplier"), target, "incident_ref")),
    h("button", { type: "submit", class: "primary" }, t("list")),
    errors);
  const list = h("section", { class: "panel scroll", id: "holds-list", "aria-live": "polite" });
  const history = h("section", { class: "panel", id: "hold-history", "aria-live": "polite", hidden: true });
  root.append(h("div", { class: "layout" }, form, list), history);

  kind.addEventListener("change", () => { target.dataset.field = kind.value === "incident" ? "incident_ref" : "supplier_id"; });
  const refresh = async () => {
    clearErrors(form, errors);
    const holds = [];
    try {
      let token = "";
      for (let page = 0; page < PAGES_MAX; page++) {
        const request = { page_size: PAGE_SIZE, page_token: token };
        request[kind.value === "incident" ? "incident_ref" : "supplier_id"] = target.value.trim();
        const response = await unary("equipmatch.v1.HoldService", "ListHolds", request);
        holds.push(...response.holds);
        token = response.next_page_token;
        if (!token) break;
      }
    } catch (error) {
      list.replaceChildren();
      showError(form, errors, error);
      return;
    }
    renderList(list, holds, { refresh, showHistory: (id) => showHistory(history, id, form, errors), form, errors });
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
  if (target.value) await refresh();
}

function renderList(box, holds, actions) {
  if (!holds.length) {
    box.replaceChildren(h("p", { class: "muted" }, t("no_holds")));
    return;
  }
  const act = (method, id) => async () => {
    try {
      await unary("equipmatch.v1.HoldService", method, { hold_id: id });
      await actions.refresh();
      await actions.showHistory(id);
    } catch (error) {
      showError(actions.form, actions.errors, error);
    }
  };
  box.replaceChildren(h("table", { id: "holds-table" },
    h("thead", {}, h("tr", {}, [t("hold_id"), t("incident_ref"), t("state"), t("lines"), t("placed_by"), t("expires"), ""].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, holds.map((hold) => h("tr", { dataset: { hold: hold.hold_id, state: hold.state } },
      h("td", {}, hold.hold_id),
      h("td", {}, hold.incident_ref),
      h("td", { class: `state ${hold.state.toLowerCase()}` }, hold.state.replace("HOLD_STATE_", "")),
      h("td", {}, hold.lines.slice(0, 6).map((l) => `${l.supplier_id}:${l.category_id}×${l.quantity_units}`).join(", ") + (hold.lines.length > 6 ? ` … (${hold.lines.length})` : "")),
      h("td", {}, hold.placed_by),
      h("td", {}, hold.state === "HOLD_STATE_PENDING" ? time(hold.expires_at_unix_ms) : time(hold.resolved_at_unix_ms)),
      h("td", {},
        h("button", { type: "button", class: "small", onclick: () => actions.showHistory(hold.hold_id) }, t("history")), " ",
        hold.state === "HOLD_STATE_PENDING" ? [
          h("button", { type: "button", class: "small confirm", onclick: act("ConfirmHold", hold.hold_id) }, t("confirm")), " ",
          h("button", { type: "button", class: "small release", onclick: act("ReleaseHold", hold.hold_id) }, t("release"))] : null))))));
}

async function showHistory(box, id, form, errors) {
  try {
    const { hold } = await unary("equipmatch.v1.HoldService", "GetHold", { hold_id: id });
    box.hidden = false;
    box.replaceChildren(h("h2", {}, `${t("history")}: ${hold.hold_id}`),
      h("p", { class: "muted" }, `${hold.incident_ref} · ${hold.state.replace("HOLD_STATE_", "")} · ${t("placed_by")} ${hold.placed_by} · ttl ${hold.ttl_seconds} s`),
      h("ol", { id: "hold-events" }, hold.history.map((e) => h("li", {}, `${time(e.at_unix_ms)} · ${e.from_state.replace("HOLD_STATE_", "")} → ${e.to_state.replace("HOLD_STATE_", "")} · ${e.actor}`))),
      h("table", {}, h("thead", {}, h("tr", {}, [t("supplier"), t("category"), t("quantity")].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, hold.lines.map((l) => h("tr", {}, h("td", {}, l.supplier_id), h("td", {}, l.category_id), h("td", { class: "num" }, l.quantity_units))))));
  } catch (error) {
    showError(form, errors, error);
  }
}
