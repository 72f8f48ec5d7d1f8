// End-to-end tests of the console in Debian's headless Chromium against the real
// `equipmatch serve` (gRPC and console listeners on free loopback ports). Properties:
// - every page loads, in Chinese and in English, with no console error, no uncaught exception
//   and no request to anything but 127.0.0.1; every control has a visible <label>;
// - English navigation and labels say what the issue lists;
// - a Match through the Dispatch form shows the chain's three stages, and its plan can be held
//   in one action, then confirmed on the Holds page with its history;
// - a sample drill runs to its report with live progress, and two runs compare;
// - a shortlist downloads as CSV (CRLF, the table's rows);
// - bad input in each form shows the server's field error next to the field.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startServer, launchBrowser, watchedPage, open } from "./support.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function assertClean(problems) {
  assert.deepEqual(problems.consoleErrors, [], "console errors");
  assert.deepEqual(problems.pageErrors, [], "uncaught exceptions");
  assert.deepEqual(problems.foreignRequests, [], "requests leaving 127.0.0.1");
}

/** Every visible input, select and textarea has a visible label naming it. */
async function assertLabelled(page) {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll("input, select, textarea")]
    .filter((c) => c.type !== "hidden" && c.offsetParent !== null)
    .filter((c) => {
      const label = c.id && document.querySelector(`label[for="${CSS.escape(c.id)}"]`);
      const wrapping = c.closest("label");
      const visible = (l) => l && l.offsetParent !== null && l.textContent.trim() !== "";
      return !visible(label) && !visible(wrapping);
    })
    .map((c) => c.outerHTML.slice(0, 80)));
  assert.deepEqual(unlabelled, [], "controls without a visible label");
}

for (const lang of ["zh", "en"]) {
  for (const pageName of ["dispatch", "procurement", "drills", "holds"]) {
    test(`${pageName} loads cleanly (${lang})`, async () => {
      const { page, problems } = await watchedPage(browser);
      await open(page, server.console, `/${pageName}${lang === "en" ? "?lang=en" : ""}`);
      await assertLabelled(page);
      const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      assert.ok(fits, "no horizontal scrolling at 1280×800");
      await page.setViewportSize({ width: 768, height: 1024 });
      const fitsTablet = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      assert.ok(fitsTablet, "no horizontal scrolling at 768 wide");
      assertClean(problems);
      await page.close();
    });
  }
}

test("English navigation and labels say what the issue lists", async () => {
  const { page, problems } = await watchedPage(browser);
  await open(page, server.console, "/dispatch?lang=en");
  assert.deepEqual(await page.locator("nav a").allTextContents(), ["Dispatch", "Procurement", "Drills", "Holds"]);
  const labels = async () => (await page.locator("main label").allTextContents()).map((s) => s.trim());
  for (const label of ["Scenario", "Severity", "Latitude", "Longitude", "Affected population"]) assert.ok((await labels()).includes(label), label);
  assert.equal(await page.locator("main button[type=submit]").first().textContent(), "Match");
  await open(page, server.console, "/procurement?lang=en");
  for (const label of ["Category", "Quantity"]) assert.ok((await labels()).includes(label), label);
  assert.equal(await page.locator("form button[type=submit]").textContent(), "Shortlist");
  await open(page, server.console, "/drills?lang=en");
  assert.ok((await labels()).includes("Drill"));
  assert.equal(await page.locator("#run-drill").textContent(), "Run");
  await open(page, server.console, "/holds?lang=en");
  assert.ok((await labels()).includes("Incident / Supplier"));
  assertClean(problems);
  await page.close();
});

test("a Match through the form shows the three stages; its plan is held, then confirmed", async () => {
  const { page, problems } = await watchedPage(browser);
  await open(page, server.console, "/dispatch?lang=en");
  await page.selectOption("select[name=scenario]", "earthquake");
  // Keyboard use: the form submits with Enter from a field.
  await page.fill("input[name=affected_population]", "200000");
  await page.press("input[name=affected_population]", "Enter");
  await page.waitForSelector(".stage");
  const stages = await page.locator(".stage h3").allTextContents();
  assert.equal(stages.length, 3);
  assert.match(stages[0], /Monitoring/);
  assert.match(stages[1], /Safety protection/);
  assert.match(stages[2], /Emergency rescue/);
  assert.ok(await page.locator(".stage table.options tbody tr").count() > 0, "ranked options");
  assert.ok(await page.locator("svg.map .incident").count() === 1, "the incident on the map");
  await page.fill(".hold-form input >> nth=0", "e2e-plan-1");
  await page.fill(".hold-form input >> nth=1", "e2e-quake");
  await page.click(".hold-form button[type=submit]");
  await page.waitForSelector(".hold-form .ok p");
  assert.match(await page.textContent(".hold-form .ok"), /e2e-plan-1.*PENDING/);
  await page.click(".hold-form .ok a");
  await page.waitForSelector("#holds-table");
  assert.equal(await page.getAttribute("#holds-table tr[data-hold=e2e-plan-1]", "data-state"), "HOLD_STATE_PENDING");
  await page.click("#holds-table tr[data-hold=e2e-plan-1] button.confirm");
  await page.waitForSelector("#holds-table tr[data-hold=e2e-plan-1][data-state=HOLD_STATE_CONFIRMED]");
  // The page re-reads the hold's history after the table (GetHold): wait for it, not only the
  // table, or a loaded machine reads the list before it is drawn.
  await page.waitForSelector("#hold-events li:nth-child(2)");
  const events = await page.locator("#hold-events li").allTextContents();
  assert.equal(events.length, 2, events.join("\n"));
  assert.match(events[1], /PENDING → CONFIRMED/);
  assertClean(problems);
  await page.close();
});

test("Dispatch: a latitude out of range shows the server's field error", async () => {
  const { page, problems } = await watchedPage(browser);
  await open(page, server.console, "/dispatch?lang=en");
  await page.fill("input[name=latitude]", "95");
  await page.click("form button[type=submit]");
  await page.waitForSelector(".field-error");
  assert.match(await page.textContent(".field-error"), /location\.latitude/);
  assert.equal(await page.getAttribute("input[name=latitude]", "aria-invalid"), "true");
  assert.match(await page.textContent("form .error"), /INVALID_ARGUMENT/);
  assertClean(problems);
  await page.close();
});

test("a shortlist downloads as CSV", async () => {
  const { page, problems } = await watchedPage(browser);
  await open(page, server.console, "/procurement?lang=en");
  await page.click("form button[type=submit]");
  await page.waitForSelector("#shortlist-table tbody tr");
  const rows = await page.locator("#shortlist-table tbody tr").count();
  assert.ok(rows > 0);
  // Sorting by a column header, from the keyboard.
  await page.focus("#shortlist-table th >> nth=12");
  await page.keyboard.press("Enter");
  assert.equal(await page.getAttribute("#shortlist-table th >> nth=12", "aria-sort"), "ascending");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-csv")]);
  assert.equal(download.suggestedFilename(), "shortlist.csv");
  const csv = readFileSync(await download.path(), "utf8");
  const lines = csv.split("\r\n").filter(Boolean);
  assert.equal(lines.length, rows + 1, "a header and one line per row");
  assert.match(lines[0], /^#,Supplier,Name,Category/);
  assert.match(lines[1], /^1,sup-\d{5},/);
  assert.ok(!/[^\r]\n/.test(csv), "CRLF line ends");
  assertClean(problems);
  await page.close();
});

test("Procurement: a quantity of 0 shows the server's field error", async () => {
  const { page, problems } = await watchedPage(browser);
  await open(page, server.console, "/procurement?lang=en");
  await page.fill("#f-quantity, input[name=quantity]", "0");
  await page.click("form button[type=submit]");
  await page.waitForSelector(".field-error");
  assert.match(await page.textContent(".field-error"), /quantity/);
  assertClean(problems);
  await page.close();
});

test("a sample drill runs to its report with progress; two runs compare", async () => {
  const { page, problems } = await watchedPage(browser);
  await open(page, server.console, "/drills?lang=en");
  await page.selectOption("#drill-sample", "tangshan-m7-aftershock.toml");
  await page.waitForFunction(() => document.querySelector("#drill-toml").value.includes("tangshan-m7-aftershock"));
  await page.click("#run-drill");
  await page.waitForSelector("#report-incidents tbody tr", { timeout: 120_000 });
  const progress = await page.evaluate(() => [document.querySelector("#drill-progress").value, document.querySelector("#drill-progress").max]);
  assert.ok(progress[1] > 0 && progress[0] === progress[1], `progress ${progress}`);
  assert.equal(await page.locator("#report-incidents tbody tr").count(), 3);
  assert.ok(await page.locator("#drill-report svg.chart polyline").count() >= 3, "coverage lines");
  // A what-if: half the stock, then compare.
  await page.fill("#wi-stock_factor", "0.5");
  await page.press("#wi-stock_factor", "Tab");
  await page.click("#run-drill");
  await page.waitForSelector("#compare-a");
  assert.match(await page.textContent("#drill-compare"), /stock×0\.5/);
  assert.ok(await page.locator("#compare-shortfalls tbody tr").count() > 0, "shortfall differences");
  assertClean(problems);
  await page.close();
});

test("an uploaded drill file saved by a Windows editor (CRLF) loads into the form and runs", async () => {
  const { page, problems } = await watchedPage(browser);
  await open(page, server.console, "/drills?lang=en");
  const text = readFileSync(new URL("../../scenarios/drills/zhangjiakou-ice-fire.toml", import.meta.url), "utf8").replace(/\r?\n/g, "\r\n");
  await page.setInputFiles("#drill-upload", { name: "zhangjiakou-crlf.toml", mimeType: "text/plain", buffer: Buffer.from(text) });
  await page.waitForFunction(() => document.querySelector("#drill-toml").value.includes("zhangjiakou-ice-fire"));
  assert.ok(await page.locator(".incident-row").count() >= 2, "the file's incidents are in the form");
  await page.click("#run-drill");
  await page.waitForSelector("#report-incidents tbody tr", { timeout: 120_000 });
  assert.match(await page.textContent("#drill-report h2"), /Zhangjiakou|zhangjiakou/i);
  assertClean(problems);
  await page.close();
});

test("Drills: a bad incident shows the server's located error", async () => {
  const { page, problems } = await watchedPage(browser);
  await open(page, server.console, "/drills?lang=en");
  await page.fill("#inc-0-start", "-5");
  await page.press("#inc-0-start", "Tab");
  await page.click("#run-drill");
  await page.waitForSelector(".field-error");
  const text = await page.textContent(".field-error");
  assert.match(text, /drill_toml/);
  assert.match(text, /\.toml:\d+:\d+/);
  assertClean(problems);
  await page.close();
});

test("Holds: listing with no incident shows the server's field error", async () => {
  const { page, problems } = await watchedPage(browser);
  await open(page, server.console, "/holds?lang=en");
  await page.click("form button[type=submit]");
  await page.waitForSelector("form .error:not([hidden])");
  assert.match(await page.textContent("form .error"), /INVALID_ARGUMENT/);
  assert.ok(await page.locator(".field-error").count() > 0, "the field is marked");
  assertClean(problems);
  await page.close();
});
