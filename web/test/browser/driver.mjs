// A headless Chromium (Debian's, driven by playwright-core; no browser download) for the
// Python tests of the browser package (tests/test_web_browser.py).
//
//   node driver.mjs URL
//
// Opens URL, then reads one JSON request per line on stdin and answers one JSON line on stdout:
//   {"id": 1, "script": "async (arg) => ...", "arg": ...}  ->  {"id": 1, "value": ...}
//                                                          or  {"id": 1, "error": "..."}
//   {"id": 2, "goto": URL, "initScript": JS or null}        ->  {"id": 2, "value": null}
//     (initScript, if given, runs in every page loaded from then on, before the page's own)
//   {"id": 3, "screenshot": PATH, "selector": CSS or null} ->  {"id": 3, "value": PATH}
// The script runs in the page (it may `await import("/vitruvian.mjs")`). Extra Chromium flags
// come from $CHROMIUM_ARGS (a JSON list), e.g. a fake camera; the camera is allowed. Requests for
// /__file__/<absolute path> are answered from this machine's disk, so tests can hand the page
// images and frames without copying them into the served folder. The browser's console and
// page errors go to stderr.
import { createInterface } from "node:readline";
import { readFile } from "node:fs/promises";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = process.argv[2];
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const profile = mkdtempSync(join(tmpdir(), "vitruvian-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    ...JSON.parse(process.env.CHROMIUM_ARGS ?? "[]"),
  ],
  permissions: ["camera"],
  viewport: { width: 1280, height: 900 },
});
const cleanup = async () => {
  await context.close().catch(() => undefined);
  rmSync(profile, { recursive: true, force: true });
};
process.on("SIGTERM", () => cleanup().then(() => process.exit(143)));

const page = context.pages()[0] ?? (await context.newPage());
page.on("console", (message) => process.stderr.write(`[page ${message.type()}] ${message.text()}\n`));
page.on("pageerror", (error) => process.stderr.write(`[page error] ${error.message}\n`));
await page.route((url) => url.pathname.startsWith("/__file__/"), async (route) => {
  const path = decodeURIComponent(new URL(route.request().url()).pathname.slice("/__file__".length));
  try {
    const body = await readFile(path);
    const type = /\.m?js$/.test(path) ? "text/javascript" : "application/octet-stream";
    await route.fulfill({
      status: 200,
      body,
      headers: { "Cross-Origin-Resource-Policy": "same-origin", "Content-Type": type },
    });
  } catch {
    await route.fulfill({ status: 404, body: `no file ${path}` });
  }
});
await page.goto(url);
process.stdout.write(`${JSON.stringify({ ready: true, crossOriginIsolated: await page.evaluate(() => crossOriginIsolated) })}\n`);

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { id, script, arg, goto, initScript, screenshot, selector } = JSON.parse(line);
  let answer;
  try {
    let value;
    if (goto !== undefined) {
      if (initScript) await page.addInitScript(initScript);
      await page.goto(goto);
      value = null;
    } else if (screenshot !== undefined) {
      const target = selector ? page.locator(selector).first() : page;
      await target.screenshot({ path: screenshot });
      value = screenshot;
    } else {
      value = await page.evaluate(
        ([source, argument]) => (0, eval)(`(${source})`)(argument),
        [script, arg ?? null],
      );
    }
    answer = { id, value: value === undefined ? null : value };
  } catch (error) {
    answer = { id, error: String(error?.message ?? error) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
await cleanup();
