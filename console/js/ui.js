// Small DOM helpers shared by the pages: element building (text is always set as text, never
// parsed as HTML), labelled fields, the server's errors shown next to the fields they name,
// and sortable tables.

import { t } from "./i18n.js";

let ids = 0;

/** h("div", {class: "x"}, child, "text", …): an element; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/**
 * A labelled control: <div class="field"><label for=…>text</label><control></div>. `field` names
 * the request field the server's violations will point at.
 */
export function field(labelText, control, requestField) {
  const id = control.id || `f${++ids}`;
  control.id = id;
  if (requestField) control.dataset.field = requestField;
  return h("div", { class: "field" }, h("label", { for: id }, labelText), control);
}

export function input(attrs) {
  return h("input", { type: "text", ...attrs });
}

export function select(options, attrs = {}) {
  return h("select", attrs, options.map(([value, text]) => h("option", { value }, text)));
}

/** Clears the error marks of `form`. */
export function clearErrors(form, box) {
  for (const node of form.querySelectorAll(".field-error")) node.remove();
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  box.replaceChildren();
  box.hidden = true;
}

/**
 * Shows `error` in `box`; each field violation also goes next to the control whose data-field
 * it names (exactly, or as the list the indexed field belongs to: category_ids[1] →
 * category_ids), so the user sees which input the server refused.
 */
export function showError(form, box, error) {
  const code = error.codeName ? `${error.codeName}: ` : "";
  box.replaceChildren(h("strong", {}, `${t("error")} — `), `${code}${error.message}`);
  const violations = error.fieldViolations || [];
  if (violations.length || (error.preconditionViolations || []).length) {
    box.append(h("ul", {},
      violations.map((v) => h("li", {}, h("code", {}, v.field), ` ${v.description}`)),
      (error.preconditionViolations || []).map((v) => h("li", {}, h("code", {}, `${v.type} ${v.subject}`), ` ${v.description}`))));
  }
  box.hidden = false;
  for (const v of violations) {
    const controls = [...form.querySelectorAll("[data-field]")];
    const control = controls.find((c) => c.dataset.field === v.field) ||
      controls.find((c) => v.field.startsWith(`${c.dataset.field}[`) || v.field.startsWith(`${c.dataset.field}.`));
    if (!control) continue;
    control.setAttribute("aria-invalid", "true");
    const note = h("p", { class: "field-error", role: "alert" }, `${t("field_error")} ${v.field}: ${v.description}`);
    control.closest(".field")?.append(note);
  }
}

/**
 * A table whose columns sort on a click or Enter/Space on the header. columns: [{label, value:
 * row → sortable value, show?: row → text or node, numeric?}].
 */
export function sortableTable(columns, rows, attrs = {}) {
  let sortBy = -1;
  let descending = false;
  const tbody = h("tbody");
  const render = () => {
    const sorted = [...rows];
    if (sortBy >= 0) {
      const value = columns[sortBy].value;
      sorted.sort((a, b) => {
        const x = value(a), y = value(b);
        const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return descending ? -order : order;
      });
    }
    tbody.replaceChildren(...sorted.map((row) => h("tr", {}, columns.map((c) =>
      h("td", { class: c.numeric ? "num" : "" }, c.show ? c.show(row) : c.value(row))))));
  };
  const headers = columns.map((c, i) => {
    const th = h("th", { scope: "col", tabindex: 0, "aria-sort": "none", class: c.numeric ? "num" : "" }, c.label);
    const sort = () => {
      descending = sortBy === i ? !descending : false;
      sortBy = i;
      for (const other of headers) other.setAttribute("aria-sort", "none");
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      render();
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    return th;
  });
  render();
  return h("table", { class: "sortable", ...attrs }, h("caption", { class: "hint" }, t("sort_hint")), h("thead", {}, h("tr", {}, headers)), tbody);
}

export function pct(x) {
  return `${Math.round((x || 0) * 100)}%`;
}

export function num(x, digits = 1) {
  if (x === null || x === undefined || Number.isNaN(x)) return "";
  return Number.isInteger(x) ? String(x) : x.toFixed(digits);
}

/** A coverage bar with its percentage as text. */
export function bar(share, label) {
  const clamped = Math.max(0, Math.min(1, share || 0));
  const cls = clamped >= 0.999 ? "full" : clamped >= 0.5 ? "part" : "low";
  return h("span", { class: "bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(clamped * 100), "aria-label": label || "" },
    h("span", { class: `fill ${cls}`, style: `width:${(clamped * 100).toFixed(1)}%` }), h("span", { class: "value" }, pct(clamped)));
}

/**
 * An input the browser cannot even encode (a fraction or negative number for a whole-number
 * field: protobuf would silently wrap or truncate it), refused before sending and shown like
 * the server's field violations.
 */
export class InputError extends Error {
  constructor(fieldName, description) {
    super(`${fieldName}: ${description}`);
    this.codeName = "INPUT";
    this.fieldViolations = [{ field: fieldName, description }];
  }
}

/** A whole number ≥ 0 as typed (digits, optionally grouped with _ , or spaces), or InputError. */
export function wholeNumber(text, fieldName) {
  const trimmed = String(text).trim().replace(/[_,\s]/g, "");
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    throw new InputError(fieldName, `must be a whole number ≥ 0, got ${JSON.stringify(String(text))}`);
  }
  return Number(trimmed);
}
