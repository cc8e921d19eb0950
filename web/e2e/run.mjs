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
import { deflateSync } from "node:zlib";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const bin = process.env.KABAR_BIN ?? join(repo, "bin/kabar");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const results = resolve(here, "../test-results");
const counts = { passed: 0, failed: 0, skipped: 0 };
const openBrowsers = [];

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
      KABAR_RATE_LIMITS: "off",
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

const launchArgs = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** openBrowser launches Chromium with its own fresh profile directory. */
async function openBrowser(dirs) {
  const dir = mkdtempSync(join(tmpdir(), "kabar-chromium-"));
  dirs.push(dir);
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: browserPath,
    headless: true,
    args: launchArgs,
    viewport: { width: 1200, height: 800 },
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  if (process.env.E2E_DEBUG) {
    page.on("console", (m) => console.log(`console.${m.type()}: ${m.text()}`));
    page.on("response", (r) => r.url().includes("/_matrix/") && console.log(`${r.status()} ${r.request().method()} ${r.url()}`));
  }
  return { ctx, page };
}

async function registerUI(page, base, name) {
  await page.goto(base + "/");
  await page.getByRole("tab", { name: "Create account" }).click();
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
  await page.getByLabel("Confirm password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).last().click();
  await page.getByTestId("me").waitFor({ timeout: 20000 });
}

/** testPNG makes a w×h RGB gradient PNG, so the upload test needs no fixture file. */
function testPNG(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) raw.set([Math.round((x / w) * 255), Math.round((y / h) * 255), 160], y * (w * 3 + 1) + 1 + x * 3);
  const sig = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([sig, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

/** messageWith finds a timeline row by its text. */
const messageWith = (page, text) => page.getByTestId("message").filter({ has: page.getByTestId("body").filter({ hasText: text }) }).last();

/** act hovers a message and presses one of its action buttons. */
async function act(page, text, action) {
  const row = messageWith(page, text);
  await row.hover();
  await row.getByRole("button", { name: action, exact: true }).click();
}

async function send(page, text) {
  const box = page.getByLabel("Write a message");
  await box.fill(text);
  await box.press("Enter");
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
  const dirs = [];
  let browser;
  try {
    const shell = await (await fetch(`${kabar.base}/`)).text();
    if (!shell.includes('id="app"')) throw new Error("bin/kabar serves no web client: run `make web` and rebuild it");
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browserPath,
      headless: true,
      args: launchArgs,
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
    if (counts.failed === 0) await chatTests(kabar.base, page, dirs);
    if (consoleErrors.length) console.log(`page errors: ${consoleErrors.join("\n")}`);
  } finally {
    await browser?.close();
    for (const b of openBrowsers.splice(0)) await b.close();
    for (const d of [userDataDir, ...dirs]) rmSync(d, { recursive: true, force: true });
    await kabar.stop();
  }
}

/**
 * chatTests: alice (already signed in on `alice`) and bob (a second browser)
 * share an encrypted DM, then a public room joined by alias.
 */
async function chatTests(base, alice, dirs) {
  const b = await openBrowser(dirs);
  openBrowsers.push(b.ctx);
  const bob = b.page;
  const errors = [];
  bob.on("pageerror", (e) => errors.push(String(e)));
  const shot = (page, name) => page.screenshot({ path: join(results, name) });
  let ok = true;
  const step = async (name, fn) => {
    if (!ok) {
      counts.skipped++;
      return;
    }
    const before = counts.failed;
    await test(name, fn);
    if (counts.failed > before) {
      ok = false;
      await shot(alice, `fail-alice.png`).catch(() => {});
      await shot(bob, `fail-bob.png`).catch(() => {});
    }
  };

  await step("bob registers in a second browser", () => registerUI(bob, base, "bob"));

  await step("alice starts an encrypted DM with bob", async () => {
    await alice.getByRole("button", { name: "New chat" }).click();
    const dlg = alice.getByTestId("start-dm");
    await dlg.getByLabel("Name or user ID").fill("@bob:localhost");
    await dlg.getByRole("button", { name: "Start chat" }).click();
    await alice.getByTestId("room-encrypted").waitFor({ timeout: 15000 });
  });

  await step("bob sees the invite and accepts it", async () => {
    await bob.getByTestId("room-list").getByRole("button").first().click({ timeout: 20000 });
    await bob.getByTestId("invite").waitFor({ timeout: 10000 });
    await shot(bob, "invite.png");
    await bob.getByRole("button", { name: "Accept" }).click();
    await bob.getByTestId("timeline").waitFor({ timeout: 15000 });
    await bob.getByTestId("room-encrypted").waitFor({ timeout: 15000 });
  });

  await step("bob's typing shows on alice's side", async () => {
    await alice.getByTestId("notice").filter({ hasText: "joined" }).filter({ hasText: "bob" }).waitFor({ timeout: 20000 });
    await bob.getByLabel("Write a message").fill("typing…");
    await alice.getByTestId("typing").filter({ hasText: "is typing" }).waitFor({ timeout: 15000 });
    await bob.getByLabel("Write a message").fill("");
  });

  await step("alice's encrypted Markdown message shows decrypted for bob", async () => {
    await send(alice, "Hello **Bob**, this is *encrypted*");
    const row = messageWith(bob, "Hello Bob");
    await row.waitFor({ timeout: 30000 });
    const strong = await row.locator("strong", { hasText: "Bob" }).count();
    if (!strong) throw new Error("formatted_body was not rendered");
    // The server only ever saw ciphertext.
    const raw = await alice.evaluate(async () => {
      const s = JSON.parse(localStorage.getItem("kabar.session.v1"));
      const rooms = await (await fetch("/_matrix/client/v3/joined_rooms", { headers: { Authorization: `Bearer ${s.accessToken}` } })).json();
      const out = [];
      for (const id of rooms.joined_rooms) {
        const r = await fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(id)}/messages?dir=b&limit=50`, { headers: { Authorization: `Bearer ${s.accessToken}` } });
        out.push(...(await r.json()).chunk.filter((e) => e.type.startsWith("m.room.message") || e.type === "m.room.encrypted").map((e) => e.type));
      }
      return out;
    });
    if (raw.includes("m.room.message") || !raw.includes("m.room.encrypted")) throw new Error(`server stored ${raw.join(",")}`);
  });

  await step("bob replies and alice sees the quote", async () => {
    await act(bob, "Hello Bob", "Reply");
    await bob.getByTestId("draft-mode").waitFor();
    await send(bob, "Hi Alice, nice to meet you");
    const row = messageWith(alice, "nice to meet you");
    await row.getByTestId("reply-quote").filter({ hasText: "Hello" }).waitFor({ timeout: 20000 });
  });

  await step("alice reacts and bob sees the reaction", async () => {
    await act(alice, "nice to meet you", "React with 👍");
    await messageWith(bob, "nice to meet you").getByTestId("reaction").filter({ hasText: "👍 1" }).waitFor({ timeout: 20000 });
  });

  await step("alice edits her message and bob sees the new text", async () => {
    await act(alice, "Hello Bob", "Edit");
    // The composer fills in the old text when editing starts; wait for it so
    // that the new text is not overwritten.
    await alice.getByTestId("draft-mode").waitFor();
    await alice.waitForFunction(() => document.querySelector("textarea")?.value.includes("Hello"));
    await send(alice, "Hello Bob, edited");
    const row = messageWith(bob, "Hello Bob, edited");
    await row.waitFor({ timeout: 20000 });
    if (!(await row.textContent()).includes("(edited)")) throw new Error("no (edited) marker");
    await shot(alice, "dm-alice.png");
    await shot(bob, "dm-bob.png");
  });

  await step("bob deletes his reply", async () => {
    bob.once("dialog", (d) => d.accept());
    await act(bob, "nice to meet you", "Delete");
    await alice.getByTestId("message").filter({ hasText: "Message deleted" }).first().waitFor({ timeout: 20000 });
  });

  await step("alice uploads an image to the encrypted DM and bob sees it", async () => {
    await alice.getByTestId("file-input").setInputFiles({ name: "gradient.png", mimeType: "image/png", buffer: testPNG(480, 320) });
    const img = bob.getByTestId("image").locator("img");
    await img.waitFor({ timeout: 30000 });
    await bob.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle(), { timeout: 10000 });
    // The server holds only ciphertext: the event carries `file`, no `url`.
    const content = await alice.evaluate(async () => {
      const s = JSON.parse(localStorage.getItem("kabar.session.v1"));
      const h = { headers: { Authorization: `Bearer ${s.accessToken}` } };
      const rooms = await (await fetch("/_matrix/client/v3/joined_rooms", h)).json();
      const r = await fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(rooms.joined_rooms[0])}/messages?dir=b&limit=1`, h);
      return (await r.json()).chunk[0];
    });
    if (content.type !== "m.room.encrypted") throw new Error(`image event stored as ${content.type}`);
    await shot(bob, "upload.png");
    await bob.getByTestId("image").click();
    const box = bob.getByTestId("lightbox");
    await box.locator("img").waitFor({ timeout: 10000 });
    await shot(bob, "lightbox.png");
    await bob.keyboard.press("Escape");
    await box.waitFor({ state: "detached" });
  });

  await step("bob sends a file and alice can download it", async () => {
    await bob.getByTestId("file-input").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("kabar notes\n") });
    const card = alice.getByTestId("file").filter({ hasText: "notes.txt" });
    await card.waitFor({ timeout: 20000 });
    const [dl] = await Promise.all([alice.waitForEvent("download", { timeout: 10000 }), card.getByRole("button", { name: "Download" }).click()]);
    const path = await dl.path();
    const { readFileSync } = await import("node:fs");
    if (readFileSync(path, "utf8") !== "kabar notes\n") throw new Error("downloaded file differs");
  });

  let recoveryKey = "";
  await step("alice sets up cross-signing and key backup and sees her recovery key", async () => {
    await alice.getByTestId("security-banner").getByRole("button", { name: "Set up" }).click();
    const dlg = alice.getByTestId("security-setup");
    await dlg.getByRole("button", { name: "Create recovery key" }).click();
    // The first upload of cross-signing keys may or may not ask for UIA.
    const key = dlg.getByTestId("recovery-key");
    const password = dlg.getByLabel("Password");
    await Promise.race([key.waitFor({ timeout: 30000 }), password.waitFor({ timeout: 30000 })]);
    if (await password.count()) {
      await password.fill("correct horse battery");
      await dlg.getByRole("button", { name: "Continue" }).click();
    }
    recoveryKey = (await key.textContent({ timeout: 30000 })).trim();
    if (!/^([1-9A-HJ-NP-Za-km-z]{4} ){11}[1-9A-HJ-NP-Za-km-z]{4}$/.test(recoveryKey)) throw new Error(`odd recovery key ${recoveryKey}`);
    await shot(alice, "recovery-key.png");
    await dlg.getByLabel("I have saved my recovery key").check();
    await dlg.getByRole("button", { name: "Done" }).click();
    await alice.getByTestId("security-banner").waitFor({ state: "detached", timeout: 10000 });
    // Wait until the backup holds keys for the DM before a new device asks.
    const t0 = Date.now();
    const n = await alice.evaluate(async () => {
      const s = JSON.parse(localStorage.getItem("kabar.session.v1"));
      const h = { headers: { Authorization: `Bearer ${s.accessToken}` } };
      for (let i = 0; i < 100; i++) {
        const v = await fetch("/_matrix/client/v3/room_keys/version", h);
        if (v.ok) {
          const { version } = await v.json();
          const keys = await (await fetch(`/_matrix/client/v3/room_keys/keys?version=${version}`, h)).json();
          const count = Object.values(keys.rooms ?? {}).reduce((a, r) => a + Object.keys(r.sessions ?? {}).length, 0);
          if (count >= 2) return count;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      return 0;
    });
    if (n < 2) throw new Error("the key backup never held the DM's sessions");
    console.log(`     key backup holds ${n} sessions after ${Date.now() - t0} ms`);
  });

  await step("alice signs in on a new device, restores from the recovery key and reads earlier history", async () => {
    const b2 = await openBrowser(dirs);
    openBrowsers.push(b2.ctx);
    const alice2 = b2.page;
    alice2.on("pageerror", (e) => errors.push(`alice2: ${e}`));
    await alice2.goto(base + "/");
    await alice2.getByLabel("Username").fill("alice");
    await alice2.getByLabel("Password", { exact: true }).fill("correct horse battery");
    await alice2.getByRole("button", { name: "Sign in", exact: true }).last().click();
    await alice2.getByTestId("me").waitFor({ timeout: 20000 });
    await alice2.getByTestId("room-list").getByRole("button", { name: /bob/ }).click({ timeout: 20000 });
    await alice2.getByTestId("undecryptable").first().waitFor({ timeout: 20000 });
    await shot(alice2, "new-device-locked.png");
    await alice2.getByTestId("security-banner").getByRole("button", { name: "Restore" }).click({ timeout: 20000 });
    const dlg = alice2.getByTestId("security-restore");
    await dlg.getByLabel("Recovery key").fill("EsT0 wrong key");
    await dlg.getByRole("button", { name: "Restore" }).click();
    await dlg.getByRole("alert").filter({ hasText: "isn't right" }).waitFor({ timeout: 10000 });
    await dlg.getByLabel("Recovery key").fill(recoveryKey);
    await dlg.getByRole("button", { name: "Restore" }).click();
    const done = await dlg.getByTestId("restore-done").textContent({ timeout: 30000 });
    console.log(`     ${done}`);
    await dlg.getByRole("button", { name: "Done" }).click();
    await messageWith(alice2, "Hello Bob, edited").waitFor({ timeout: 20000 });
    await alice2.getByTestId("file").filter({ hasText: "notes.txt" }).waitFor({ timeout: 20000 });
    await alice2.getByTestId("image").locator("img").waitFor({ timeout: 20000 });
    await alice2.getByTestId("security-banner").waitFor({ state: "detached", timeout: 10000 });
    await shot(alice2, "restored-history.png");
    await b2.ctx.close();
    openBrowsers.splice(openBrowsers.indexOf(b2.ctx), 1);
  });

  await step("alice creates a public room with history", async () => {
    await alice.getByRole("button", { name: "New room" }).click();
    const dlg = alice.getByTestId("create-room");
    await dlg.getByLabel("Name").fill("Town Square");
    await dlg.getByLabel("Topic").fill("Everyone welcome");
    await dlg.getByLabel(/Public/).check();
    await dlg.getByLabel("Address").fill("town");
    await dlg.getByRole("button", { name: "Create room" }).click();
    await alice.getByTestId("room-name").filter({ hasText: "Town Square" }).waitFor({ timeout: 15000 });
    // Enough history that bob has to page back to reach the start.
    await alice.evaluate(async () => {
      const s = JSON.parse(localStorage.getItem("kabar.session.v1"));
      const { room_id } = await (await fetch("/_matrix/client/v3/directory/room/" + encodeURIComponent("#town:localhost"))).json();
      for (let i = 1; i <= 80; i++) {
        await fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(room_id)}/send/m.room.message/hist${i}`, {
          method: "PUT",
          headers: { Authorization: `Bearer ${s.accessToken}`, "Content-Type": "application/json" },
          body: JSON.stringify({ msgtype: "m.text", body: `history message ${i}` }),
        });
      }
    });
    await messageWith(alice, "history message 80").waitFor({ timeout: 20000 });
  });

  await step("bob finds the room in the directory and joins by alias", async () => {
    await bob.getByRole("button", { name: "Explore" }).click();
    const dlg = bob.getByTestId("directory");
    await dlg.getByTestId("public-rooms").filter({ hasText: "Town Square" }).waitFor({ timeout: 10000 });
    await shot(bob, "directory.png");
    await dlg.getByLabel("Room address or ID").fill("#town:localhost");
    await dlg.getByRole("button", { name: "Join" }).first().click();
    await bob.getByTestId("room-name").filter({ hasText: "Town Square" }).waitFor({ timeout: 15000 });
    await messageWith(bob, "history message 80").waitFor({ timeout: 15000 });
  });

  await step("bob scrolls back to the start of the room's history", async () => {
    const t0 = Date.now();
    for (let i = 0; i < 40; i++) {
      if (await bob.getByTestId("history-start").count()) break;
      await bob.getByTestId("timeline").evaluate((el) => (el.scrollTop = 0));
      await bob.waitForTimeout(300);
    }
    await bob.getByTestId("history-start").waitFor({ timeout: 5000 });
    await messageWith(bob, /history message 1$/).waitFor({ timeout: 5000 });
    await bob.getByTestId("notice").filter({ hasText: "created the room" }).waitFor({ timeout: 5000 });
    console.log(`     reached the start of history in ${Date.now() - t0} ms`);
    await shot(bob, "history-start.png");
  });

  await step("alice sees bob's message in the public room", async () => {
    await send(bob, "Hello town!");
    await messageWith(alice, "Hello town!").waitFor({ timeout: 20000 });
    await shot(alice, "public-room.png");
  });

  await step("alice sets the room avatar and history visibility; bob sees an unencrypted image via a thumbnail", async () => {
    await alice.getByRole("button", { name: "Room settings" }).click();
    const panel = alice.getByTestId("room-settings");
    await panel.getByTestId("room-avatar-input").setInputFiles({ name: "town.png", mimeType: "image/png", buffer: testPNG(64, 64) });
    await panel.getByTestId("room-avatar").waitFor({ timeout: 15000 });
    await panel.getByLabel("Who can read history").selectOption("world_readable");
    await bob.getByTestId("notice").filter({ hasText: "changed the room avatar" }).waitFor({ timeout: 15000 });
    await bob.getByTestId("notice").filter({ hasText: "world_readable" }).waitFor({ timeout: 15000 });
    await alice.getByTestId("file-input").setInputFiles({ name: "plain.png", mimeType: "image/png", buffer: testPNG(800, 600) });
    const img = bob.getByTestId("image").locator("img");
    await img.waitFor({ timeout: 20000 });
    await bob.waitForFunction((el) => el.complete && el.naturalWidth > 0 && el.naturalWidth < 800, await img.elementHandle(), { timeout: 10000 });
    await shot(alice, "room-settings.png");
  });

  await step("alice sets her avatar, sees her devices verified, and signs out the other one", async () => {
    await alice.getByRole("button", { name: "Close settings" }).click();
    await alice.getByRole("button", { name: "Settings", exact: true }).click();
    const dlg = alice.getByRole("dialog", { name: "Settings" });
    await dlg.getByTestId("avatar-input").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: testPNG(96, 96) });
    await dlg.getByTestId("my-avatar").waitFor({ timeout: 15000 });
    const rows = dlg.getByTestId("device");
    await alice.waitForFunction(() => document.querySelectorAll('[data-testid="device"]').length === 2, null, { timeout: 10000 });
    const trust = await dlg.getByTestId("device-trust").allTextContents();
    console.log(`     device trust: ${trust.join(", ")}`);
    if (trust[0] !== "Verified") throw new Error(`this device shows ${trust[0]}`);
    await shot(alice, "settings-devices.png");
    const other = rows.nth(1);
    await other.getByRole("button", { name: "Sign out" }).click();
    await other.getByLabel("Your password").fill("correct horse battery");
    await other.getByRole("button", { name: "Sign out device" }).click();
    await alice.waitForFunction(() => document.querySelectorAll('[data-testid="device"]').length === 1, null, { timeout: 10000 });
    await alice.keyboard.press("Escape");
  });
  if (errors.length) console.log(`bob page errors: ${errors.join("\n")}`);
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
