// The console's start: navigation, the session's token and operator name, the catalog every
// page draws its lists from (scenarios, places, categories — read from the server, never
// hard-coded), and the page the path names.

import { unary, enumNames } from "./grpc.js";
import { t, lang, href, zoneKey } from "./i18n.js";
import { h, field, input } from "./ui.js";

const PAGES = {
  dispatch: () => import("./dispatch.js"),
  procurement: () => import("./procurement.js"),
  drills: () => import("./drills.js"),
  holds: () => import("./holds.js"),
};
/** Pages of categories read at start (1000 a page): bounds the loop. */
const CATEGORY_PAGES_MAX = 20;

function currentPage() {
  const path = location.pathname.replace(/^\/+|\/+$/g, "");
  return PAGES[path] ? path : "dispatch";
}

function renderChrome(page) {
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  document.title = `${t(`nav_${page}`)} · ${t("title")}`;
  const nav = document.getElementById("nav");
  nav.replaceChildren(h("ul", {}, Object.keys(PAGES).map((p) =>
    h("li", {}, h("a", { href: href(p), "aria-current": p === page ? "page" : undefined }, t(`nav_${p}`))))));
  const other = new URL(location.href);
  if (lang === "en") other.searchParams.delete("lang"); else other.searchParams.set("lang", "en");
  const token = input({ type: "password", autocomplete: "off", placeholder: t("token_hint"), value: sessionStorage.getItem("equipmatch.token") || "" });
  // A new token may change what the catalog calls may read: start the page again with it.
  token.addEventListener("change", () => {
    sessionStorage.setItem("equipmatch.token", token.value.trim());
    location.reload();
  });
  const caller = input({ autocomplete: "off", value: sessionStorage.getItem("equipmatch.caller") || "", size: 12 });
  caller.addEventListener("change", () => sessionStorage.setItem("equipmatch.caller", caller.value.trim()));
  document.getElementById("session").replaceChildren(
    field(t("token"), token), field(t("caller"), caller),
    h("a", { class: "lang", href: other.pathname + other.search, lang: lang === "en" ? "zh-CN" : "en" }, lang === "en" ? "中文" : "English"));
  document.getElementById("footer").replaceChildren(h("p", {}, t("offline_note")));
}

async function loadCatalog() {
  const [scenarios, places] = await Promise.all([
    unary("equipmatch.v1.CatalogService", "ListScenarios", {}),
    unary("equipmatch.v1.CatalogService", "ListPlaces", {}),
  ]);
  const categories = [];
  let token = "";
  for (let page = 0; page < CATEGORY_PAGES_MAX; page++) {
    const response = await unary("equipmatch.v1.CatalogService", "ListCategories", { page: { page_size: 1000, page_token: token } });
    categories.push(...response.categories);
    token = response.next_page_token;
    if (!token) break;
  }
  // Zone tiers from the contract itself: a tier added to the proto appears here unchanged.
  const zones = (await enumNames("equipmatch.v1.ZoneTier")).map((proto) => ({ proto, key: zoneKey(proto) }));
  return {
    version: scenarios.catalog_version,
    zones,
    scenarios: scenarios.scenarios,
    places: places.places,
    categories,
    place: (id) => places.places.find((p) => p.id === id),
    category: (id) => categories.find((c) => c.id === id),
    scenario: (id) => scenarios.scenarios.find((s) => s.id === id),
  };
}

async function main() {
  const page = currentPage();
  renderChrome(page);
  const root = document.getElementById("main");
  try {
    const [catalog, module] = await Promise.all([loadCatalog(), PAGES[page]()]);
    root.replaceChildren();
    await module.render(root, catalog);
    document.body.dataset.ready = page;
  } catch (error) {
    root.replaceChildren(h("div", { class: "error", role: "alert" }, `${t("error")}: ${error.codeName ? error.codeName + ": " : ""}${error.message}`));
    document.body.dataset.ready = "error";
  }
}

main();
