// Saves a screenshot of each console page with an answer on it (scripts/console-screenshots.sh):
// in English every page; in Chinese the Dispatch page (the others read the same either way).
import { startServer, launchBrowser, watchedPage, open, REPO } from "./support.mjs";
import { join } from "node:path";
import { mkdirSync } from "node:fs";

const out = process.argv[2] || join(REPO, "docs/console");
const lang = process.argv[3] || "en";
const query = lang === "en" ? "?lang=en" : "";
mkdirSync(out, { recursive: true });

async function shoot(page) {
  const shot = async (name) => {
    await page.screenshot({ path: join(out, `${name}${lang === "en" ? "" : "-zh"}.png`) });
    console.log(`saved ${name}`);
  };
  await open(page, server.console, `/dispatch${query}`);
  await page.fill("input[name=affected_population]", "300000");
  await page.click("form button[type=submit]");
  await page.waitForSelector(".stage");
  await shot("dispatch");
  if (lang !== "en") return;
  await page.evaluate(() => document.querySelector("#match-results h2").scrollIntoView());
  await shot("dispatch-stages");
  await page.fill(".hold-form input >> nth=0", "tangshan-plan-1");
  await page.fill(".hold-form input >> nth=1", "quake-2026-11");
  await page.click(".hold-form button[type=submit]");
  await page.waitForSelector(".hold-form .ok p");

  await open(page, server.console, `/procurement${query}`);
  await page.click("form button[type=submit]");
  await page.waitForSelector("#shortlist-table tbody tr");
  await page.evaluate(() => document.querySelector("#shortlist-results").scrollIntoView());
  await shot("procurement");

  await open(page, server.console, `/drills${query}`);
  await page.selectOption("#drill-sample", "tangshan-m7-aftershock.toml");
  await page.waitForFunction(() => document.querySelector("#drill-toml").value.includes("tangshan-m7-aftershock"));
  await page.click("#run-drill");
  await page.waitForSelector("#report-incidents tbody tr", { timeout: 120_000 });
  await page.fill("#wi-stock_factor", "0.5");
  await page.press("#wi-stock_factor", "Tab");
  await page.click("#run-drill");
  await page.waitForSelector("#compare-a", { timeout: 120_000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot("drills");
  await page.evaluate(() => document.querySelector("#drill-report").scrollIntoView());
  await shot("drills-report");
  await page.evaluate(() => document.querySelector("#drill-compare").scrollIntoView());
  await shot("drills-compare");

  await open(page, server.console, `/holds${query}${query ? "&" : "?"}incident=quake-2026-11`);
  await page.waitForSelector("#holds-table");
  await page.click("#holds-table button.confirm");
  await page.waitForSelector("#hold-events li");
  await shot("holds");
}

const server = await startServer();
const browser = await launchBrowser();
try {
  const { page, problems } = await watchedPage(browser);
  await shoot(page);
  if (problems.consoleErrors.length || problems.pageErrors.length || problems.foreignRequests.length) {
    console.error(`problems on the pages: ${JSON.stringify(problems)}`);
    process.exitCode = 1;
  }
} finally {
  await browser.close();
  await server.stop();
}
