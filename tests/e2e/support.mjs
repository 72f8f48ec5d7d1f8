// Test support: the real `equipmatch serve` on free loopback ports (gRPC and the console), a
// fresh headless Chromium from Debian's package driven by Playwright, and a page that records
// every console error and every request that would leave 127.0.0.1.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, "../..");
/** The binary under test: $EQUIPMATCH_BIN, else the debug build `cargo test` made. */
export const BIN = process.env.EQUIPMATCH_BIN || join(REPO, "target/debug/equipmatch");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
/** How long the server may take to say it is serving (ms). */
const START_TIMEOUT_MS = 30_000;

/** Starts the server; resolves with {console: "http://127.0.0.1:PORT", grpc, stop()}. */
export async function startServer(extraArgs = []) {
  if (!existsSync(BIN)) throw new Error(`no binary at ${BIN}: run cargo build first`);
  const dir = mkdtempSync(join(tmpdir(), "equipmatch-e2e-"));
  const child = spawn(BIN, ["--log-json", "serve", "--listen", "127.0.0.1:0", "--console", "127.0.0.1:0",
    "--store", `sqlite:${join(dir, "holds.sqlite")}`, ...extraArgs], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, RUST_LOG: "warn,equipmatch=info" } });
  const lines = createInterface({ input: child.stderr });
  const log = [];
  const serving = await new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => rejectStart(new Error(`server did not start:\n${log.join("\n")}`)), START_TIMEOUT_MS);
    child.on("exit", (code) => { clearTimeout(timer); rejectStart(new Error(`server exited with ${code}:\n${log.join("\n")}`)); });
    lines.on("line", (line) => {
      if (log.length < 2000) log.push(line);
      try {
        const entry = JSON.parse(line);
        if (entry.fields && entry.fields.message === "serving") { clearTimeout(timer); resolveStart(entry.fields); }
      } catch { /* not JSON: keep it in the log */ }
    });
  });
  return {
    console: `http://${serving.console}`,
    grpc: `http://${serving.addr}`,
    log,
    async stop() {
      child.removeAllListeners("exit");
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with a fresh profile and no background traffic. */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "equipmatch-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--disable-quic", "--disable-features=Translate,MediaRouter,OptimizationHints"],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A new page that records console errors, uncaught exceptions and requests to anywhere but
 * 127.0.0.1 (each such request is also aborted, so nothing leaves the machine).
 */
export async function watchedPage(browser) {
  const page = await browser.context.newPage();
  const problems = { consoleErrors: [], pageErrors: [], foreignRequests: [] };
  page.on("console", (message) => { if (message.type() === "error") problems.consoleErrors.push(message.text()); });
  page.on("pageerror", (error) => problems.pageErrors.push(String(error)));
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    const local = url.hostname === "127.0.0.1" || url.protocol === "data:" || url.protocol === "blob:";
    if (!local) { problems.foreignRequests.push(url.href); return route.abort(); }
    return route.continue();
  });
  return { page, problems };
}

/** Opens `path` and waits until the console's script says the page is ready. */
export async function open(page, base, path) {
  await page.goto(base + path);
  await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
  const ready = await page.getAttribute("body", "data-ready");
  if (ready === "error") throw new Error(`page ${path} failed: ${await page.textContent("main")}`);
}
