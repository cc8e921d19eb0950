// End-to-end test: starts a real Kabar (bin/kabar, built with the web client
// embedded), drives Debian's Chromium through playwright-core, registers a
// user through the UI and checks the main screen. Screenshots go to
// web/test-results/. Prints "N passed, N failed, N skipped" at the end.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const bin = process.env.KABAR_BIN ?? join(repo, "bin/kabar");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const results = resolve(here, "../test-results");
const counts = { passed: 0, failed: 0, skipped: 0 };

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitHealthy(base, proc) {
  for (let i = 0; i < 150; i++) {
    if (proc.exitCode !== null) throw new Error(`kabar exited with ${proc.exitCode}`);
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("kabar did not become healthy in 15 s");
}

async function startKabar() {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`make web build\` first`);
  const dataDir = mkdtempSync(join(tmpdir(), "kabar-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const proc = spawn(bin, ["serve"], {
    env: {
      ...process.env,
      KABAR_SERVER_NAME: "localhost",
      KABAR_REGISTRATION: "open",
      KABAR_DATA_DIR: dataDir,
      KABAR_CLIENT_ADDR: `127.0.0.1:${port}`,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  proc.stderr.on("data", (d) => (log = (log + d).slice(-4000)));
  try {
    await waitHealthy(base, proc);
  } catch (e) {
    proc.kill("SIGTERM");
    throw new Error(`${e.message}\n${log}`);
  }
  const stop = async () => {
    proc.kill("SIGTERM");
    await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { base, stop, log: () => log };
}

/** registrationAvailable: the server answers POST /register with UIA flows. */
async function registrationAvailable(base) {
  const res = await fetch(`${base}/_matrix/client/v3/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "{}",
  });
  return res.status !== 404;
}

async function test(name, fn) {
  const started = Date.now();
  try {
    const r = await fn();
    if (r === "skip") {
      counts.skipped++;
      return;
    }
    counts.passed++;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    counts.failed++;
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
  }
}

async function main() {
  mkdirSync(results, { recursive: true });
  const kabar = await startKabar();
  const userDataDir = mkdtempSync(join(tmpdir(), "kabar-chromium-"));
  let browser;
  try {
    const shell = await (await fetch(`${kabar.base}/`)).text();
    if (!shell.includes('id="app"')) throw new Error("bin/kabar serves no web client: run `make web` and rebuild it");
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browserPath,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1200, height: 800 },
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    const consoleErrors = [];
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    if (process.env.E2E_DEBUG) {
      page.on("console", (m) => console.log(`console.${m.type()}: ${m.text()}`));
      page.on("response", (r) => r.url().includes("/_matrix/") && console.log(`${r.status()} ${r.request().method()} ${r.url()}`));
    }

    await test("sign-in screen renders with this server preselected", async () => {
      const t0 = Date.now();
      await page.goto(kabar.base + "/");
      await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
      console.log(`     sign-in screen interactive after ${Date.now() - t0} ms`);
      const hs = await page.getByTestId("homeserver").textContent();
      if (!hs.includes("127.0.0.1")) throw new Error(`homeserver shown as ${hs}`);
      await page.screenshot({ path: join(results, "signin.png") });
    });

    if (!(await registrationAvailable(kabar.base))) {
      console.log("skip register-through-the-UI: this Kabar has no POST /_matrix/client/v3/register yet");
      counts.skipped++;
    } else {
      await test("register through the UI and reach the main screen", async () => {
        await page.getByRole("tab", { name: "Create account" }).click();
        await page.getByLabel("Username").fill("alice");
        await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
        await page.getByLabel("Confirm password").fill("correct horse battery");
        await page.getByRole("button", { name: "Create account" }).last().click();
        await page.getByTestId("me").waitFor({ timeout: 20000 });
        await page.getByTestId("rooms-empty").waitFor();
        // Give the lazily loaded crypto and the first sync a moment, so the
        // screenshot shows the settled state (banner or none).
        await page.waitForTimeout(3000);
        const banner = await page.getByTestId("sync-status").textContent({ timeout: 500 }).catch(() => "");
        if (banner) console.log(`     status banner: ${banner}`);
        await page.screenshot({ path: join(results, "main.png") });
      });

      await test("the session survives a reload", async () => {
        await page.reload();
        await page.getByTestId("me").waitFor({ timeout: 20000 });
      });

      await test("settings open and the display name can be saved", async () => {
        await page.getByRole("button", { name: "Settings" }).click();
        const dialog = page.getByRole("dialog", { name: "Settings" });
        await dialog.waitFor();
        await dialog.getByLabel("Display name").fill("Alice Example");
        await dialog.getByRole("button", { name: "Save" }).click();
        const status = await dialog.getByTestId("settings-status").textContent({ timeout: 10000 });
        await page.screenshot({ path: join(results, "settings.png") });
        if (status !== "Saved.") throw new Error(`saving the display name said: ${status}`);
      });

      await test("phone width shows the room list alone", async () => {
        await page.keyboard.press("Escape");
        await page.setViewportSize({ width: 390, height: 760 });
        await page.getByTestId("rooms-empty").waitFor();
        await page.screenshot({ path: join(results, "main-phone.png") });
        await page.setViewportSize({ width: 1200, height: 800 });
      });

      await test("sign out returns to the sign-in screen", async () => {
        await page.getByRole("button", { name: "Settings" }).click();
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.getByRole("tab", { name: "Sign in" }).waitFor({ timeout: 10000 });
        const stored = await page.evaluate(() => localStorage.getItem("kabar.session.v1"));
        if (stored !== null) throw new Error("session still stored after sign-out");
      });

      await test("sign in again with the new account", async () => {
        await page.getByLabel("Username").fill("alice");
        await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
        await page.getByRole("button", { name: "Sign in", exact: true }).last().click();
        await Promise.race([
          page.getByTestId("me").waitFor({ timeout: 20000 }),
          page.getByTestId("form-error").waitFor({ timeout: 20000 }).then(async () => {
            throw new Error(`sign-in failed: ${await page.getByTestId("form-error").textContent()}`);
          }),
        ]);
      });
    }
    if (consoleErrors.length) console.log(`page errors: ${consoleErrors.join("\n")}`);
  } finally {
    await browser?.close();
    rmSync(userDataDir, { recursive: true, force: true });
    await kabar.stop();
  }
}

main()
  .catch((e) => {
    counts.failed++;
    console.log(`FAIL e2e setup: ${e.stack ?? e}`);
  })
  .finally(() => {
    console.log(`e2e: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
    process.exitCode = counts.failed ? 1 : 0;
  });
