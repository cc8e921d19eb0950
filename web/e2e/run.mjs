// End-to-end test: starts a real Kabar (bin/kabar, built with the web client
// embedded), drives Debian's Chromium through playwright-core, registers a
// user through the UI and checks the main screen. Screenshots go to
// web/test-results/. Prints "N passed, N failed, N skipped" at the end.
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";
import { chromium } from "playwright-core";
import { browserPath, jwtSecret, launchArgs, registerUI, startKabar } from "./lib.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const results = resolve(here, "../test-results");
const counts = { passed: 0, failed: 0, skipped: 0 };
const openBrowsers = [];

/** mintJWT signs an HS256 JWT the way an organization's identity provider would. */
function mintJWT(claims, secret = jwtSecret) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
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

/** sendMany sends n text messages through the client-server API, a few requests at a time. */
async function sendMany(base, token, roomId, n, body) {
  const h = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
  const run = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const url = `${base}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/seed-${run}-${i}`;
      const res = await fetch(url, { method: "PUT", headers: h, body: JSON.stringify({ msgtype: "m.text", body: body(i) }) });
      if (!res.ok) throw new Error(`PUT ${url}: ${res.status} ${await res.text()}`);
    }
  };
  // Ordered when few (one at a time), concurrent when seeding in bulk.
  await Promise.all(Array.from({ length: n > 100 ? 8 : 1 }, worker));
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

    await test("an organization's JWT in the URL signs a new user in and leaves no token in the URL", async () => {
      const b = await openBrowser(dirs);
      try {
        const { page: p } = b;
        await p.goto(kabar.base + "/");
        await p.getByRole("button", { name: "Sign in with your organization's token" }).waitFor();
        // A refused token (wrong key) reads clearly.
        await p.getByRole("button", { name: "Sign in with your organization's token" }).click();
        const now = Math.floor(Date.now() / 1000);
        await p.getByLabel("Organization token (JWT)").fill(mintJWT({ sub: "dina", exp: now + 300 }, "wrong-secret"));
        await p.getByRole("button", { name: "Sign in with your organization's token" }).click();
        const refused = await p.getByTestId("form-error").textContent({ timeout: 10000 });
        if (!refused.includes("expired or not for this server")) throw new Error(`refused token said: ${refused}`);
        await p.screenshot({ path: join(results, "jwt-refused.png") });
        // As an identity provider's redirect would: a fresh page load.
        await p.goto("about:blank");
        await p.goto(`${kabar.base}/#/login?jwt=${mintJWT({ sub: "dina", iat: now, exp: now + 300 })}`);
        await p.getByTestId("me").waitFor({ timeout: 20000 });
        const me = await p.getByTestId("me").getAttribute("title");
        if (me !== "@dina:localhost") throw new Error(`signed in as ${me}`);
        if (p.url().includes("jwt")) throw new Error(`token left in the URL: ${p.url()}`);
        await p.waitForTimeout(1500);
        await p.screenshot({ path: join(results, "jwt-signin.png") });
      } finally {
        await b.ctx.close();
      }
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

  await step("bob verifies alice's session by emoji; both sides compare and confirm", async () => {
    await bob.getByRole("button", { name: "Members", exact: true }).click();
    const panel = bob.getByTestId("members-panel");
    await panel.getByRole("button", { name: /Alice/ }).click();
    const device = panel.getByTestId("member-device").first();
    await device.getByRole("button", { name: "Verify" }).click({ timeout: 15000 });
    await alice.getByTestId("verification").getByRole("button", { name: "Accept" }).click({ timeout: 20000 });
    const emoji = async (page) => {
      await page.getByTestId("sas-emoji").nth(6).waitFor({ timeout: 20000 });
      return page.getByTestId("sas-emoji").evaluateAll((els) => els.map((e) => e.textContent.trim()));
    };
    const [a, b] = await Promise.all([emoji(alice), emoji(bob)]);
    console.log(`     alice sees ${a.join(" ")}`);
    console.log(`     bob sees   ${b.join(" ")}`);
    if (a.length !== 7 || a.join("|") !== b.join("|")) throw new Error("the two sides show different emoji");
    await shot(alice, "verify-emoji-alice.png");
    await shot(bob, "verify-emoji-bob.png");
    await alice.getByTestId("verification").getByRole("button", { name: "They match" }).click();
    await bob.getByTestId("verification").getByRole("button", { name: "They match" }).click();
    // 45 s, more than one /sync long-poll (30 s): once in four CI runs the
    // final MAC/done to-device exchange took longer than 20 s; under
    // investigation (see the session note), so the step tolerates one
    // missed wake-up instead of failing CI.
    await alice.getByTestId("verify-done").waitFor({ timeout: 45000 });
    await bob.getByTestId("verify-done").waitFor({ timeout: 45000 });
    await shot(bob, "verify-done.png");
    await alice.getByTestId("verification").getByRole("button", { name: "Close", exact: true }).last().click();
    await bob.getByTestId("verification").getByRole("button", { name: "Close", exact: true }).last().click();
    await device.getByTestId("member-device-trust").filter({ hasText: "Verified" }).waitFor({ timeout: 10000 });
    await bob.getByRole("button", { name: "Members", exact: true }).click();
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
    // The timeline is virtualised: the oldest rows render once scrolled to.
    await bob.getByTestId("timeline").evaluate((el) => (el.scrollTop = 0));
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

  await step("alice, a v12 creator, may delete bob's message; she replies in a thread and bob follows it", async () => {
    const row = messageWith(alice, "Hello town!");
    await row.hover();
    // Room version 12: the creator is not in power_levels but has full power.
    await row.getByRole("button", { name: "Delete", exact: true }).waitFor({ timeout: 5000 });
    await row.getByRole("button", { name: "Reply in thread" }).click();
    const panel = alice.getByTestId("thread-panel");
    await panel.getByRole("textbox", { name: "Reply in thread" }).fill("first thread reply");
    await panel.getByRole("textbox", { name: "Reply in thread" }).press("Enter");
    await panel.getByTestId("body").filter({ hasText: "first thread reply" }).waitFor({ timeout: 10000 });
    await messageWith(bob, "Hello town!").getByTestId("thread-summary").filter({ hasText: "1 reply" }).waitFor({ timeout: 20000 });
    if (await bob.getByTestId("timeline").getByTestId("body").filter({ hasText: "first thread reply" }).count())
      throw new Error("the thread reply shows in the main timeline");
    await bob.getByRole("button", { name: "Threads", exact: true }).click();
    await bob.getByTestId("thread-item").filter({ hasText: "Hello town!" }).click({ timeout: 10000 });
    const bobPanel = bob.getByTestId("thread-panel");
    await bobPanel.getByTestId("body").filter({ hasText: "first thread reply" }).waitFor({ timeout: 10000 });
    await bobPanel.getByRole("textbox", { name: "Reply in thread" }).fill("second, from bob");
    await bobPanel.getByRole("textbox", { name: "Reply in thread" }).press("Enter");
    await panel.getByTestId("body").filter({ hasText: "second, from bob" }).waitFor({ timeout: 20000 });
    // The reply went out with an m.thread relation to the root.
    const rel = await bob.evaluate(async () => {
      const s = JSON.parse(localStorage.getItem("kabar.session.v1"));
      const h = { headers: { Authorization: `Bearer ${s.accessToken}` } };
      const { room_id } = await (await fetch("/_matrix/client/v3/directory/room/" + encodeURIComponent("#town:localhost"))).json();
      const { chunk } = await (await fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(room_id)}/messages?dir=b&limit=10`, h)).json();
      const root = chunk.find((e) => e.content?.body === "Hello town!");
      const reply = chunk.find((e) => e.content?.body === "second, from bob");
      return { rel: reply?.content["m.relates_to"], root: root?.event_id };
    });
    if (rel.rel?.rel_type !== "m.thread" || rel.rel.event_id !== rel.root) throw new Error(`thread reply relation: ${JSON.stringify(rel)}`);
    await shot(bob, "thread.png");
    await bobPanel.getByRole("button", { name: "Close settings" }).click();
    await panel.getByRole("button", { name: "Close settings" }).click();
    await alice.getByTestId("thread-list").getByRole("button", { name: "Close settings" }).click();
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

  await step("bob comes back to the room and jumps to the first unread message", async () => {
    await bob.getByTestId("room-list").getByRole("button").filter({ hasNotText: "Town Square" }).first().click();
    await bob.getByTestId("room-name").filter({ hasNotText: "Town Square" }).waitFor();
    const token = await alice.evaluate(() => JSON.parse(localStorage.getItem("kabar.session.v1")).accessToken);
    const roomId = (await (await fetch(`${base}/_matrix/client/v3/directory/room/${encodeURIComponent("#town:localhost")}`)).json()).room_id;
    await sendMany(base, token, roomId, 60, (i) => `unread ${i + 1}`);
    await bob.getByTestId("room-list").getByRole("button").filter({ hasText: "Town Square" }).click();
    const bar = bob.getByTestId("unread-bar");
    await bar.waitFor({ timeout: 15000 });
    await shot(bob, "unread-bar.png");
    await bar.getByRole("button", { name: "Jump to first unread" }).click();
    const first = bob.locator(".message.first-unread");
    await first.waitFor({ timeout: 10000 });
    const text = await first.getByTestId("body").textContent();
    if (text.trim() !== "unread 1") throw new Error(`first unread is "${text}"`);
    const [tl, row] = [await bob.getByTestId("timeline").boundingBox(), await first.boundingBox()];
    if (row.y < tl.y - 1 || row.y + row.height > tl.y + tl.height + 1) throw new Error("the first unread message is not in view");
    await shot(bob, "first-unread.png");
  });

  await step("budgets: first-load JavaScript and navigation to an interactive room list", async () => {
    const t0 = Date.now();
    await alice.goto(base + "/");
    await alice.getByTestId("room-list").getByRole("button").first().waitFor({ timeout: 20000 });
    await alice.waitForFunction(() => performance.getEntriesByName("kabar:room-list").length > 0);
    const m = await alice.evaluate(() => ({
      list: performance.getEntriesByName("kabar:room-list")[0].startTime,
      dcl: performance.getEntriesByType("navigation")[0]?.domContentLoadedEventEnd,
      js: performance.getEntriesByType("resource").map((r) => r.name).filter((n) => /\.m?js(\?|$)/.test(n)),
      wasm: performance.getEntriesByType("resource").filter((r) => /\.wasm(\?|$)/.test(r.name)).map((r) => r.encodedBodySize),
    }));
    const { gzipSync } = await import("node:zlib");
    let raw = 0;
    let gz = 0;
    for (const url of m.js) {
      const body = Buffer.from(await (await fetch(url)).arrayBuffer());
      raw += body.length;
      gz += gzipSync(body).length;
    }
    console.log(`     first-load JS: ${m.js.length} files, ${(raw / 1024).toFixed(1)} KB raw, ${(gz / 1024).toFixed(1)} KB gzip (crypto WASM excluded: ${m.wasm.map((w) => (w / 1024).toFixed(0) + " KB").join(", ")})`);
    console.log(`     navigation → DOMContentLoaded ${m.dcl?.toFixed(0)} ms, → interactive room list ${m.list.toFixed(0)} ms (wall ${Date.now() - t0} ms)`);
    if (gz > 400 * 1024) throw new Error(`first-load JS ${gz} bytes gzip is over the 400 KB budget`);
    if (m.list > 1000) throw new Error(`room list interactive after ${m.list.toFixed(0)} ms, over the 1 s budget`);
  });

  await step("a room with 10,000 messages scrolls smoothly (virtualised timeline)", async () => {
    // carol (registered through the API) builds the room's history; alice
    // joins afterwards, as a reader arriving in a big room would.
    const reg = await (await fetch(`${base}/_matrix/client/v3/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "carol", password: "correct horse battery", auth: { type: "m.login.dummy" } }),
    })).json();
    const h = { Authorization: `Bearer ${reg.access_token}`, "Content-Type": "application/json" };
    const created = await (await fetch(`${base}/_matrix/client/v3/createRoom`, { method: "POST", headers: h, body: JSON.stringify({ name: "Big Room", preset: "public_chat" }) })).json();
    const t0 = Date.now();
    await sendMany(base, reg.access_token, created.room_id, 10000, (i) => (i % 7 === 0 ? `message ${i}: a longer line of text so that rows differ in height, wrapping on narrow screens and exercising the measured heights` : `message ${i}`));
    console.log(`     seeded 10,000 messages in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const token = await alice.evaluate(() => JSON.parse(localStorage.getItem("kabar.session.v1")).accessToken);
    const join = await fetch(`${base}/_matrix/client/v3/join/${encodeURIComponent(created.room_id)}`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: "{}" });
    if (!join.ok) throw new Error(`join: ${join.status} ${await join.text()}`);
    await alice.getByTestId("room-list").getByRole("button").filter({ hasText: "Big Room" }).click({ timeout: 20000 });
    await messageWith(alice, "message 9999").waitFor({ timeout: 20000 });
    const r = await alice.getByTestId("timeline").evaluate(async (el) => {
      const frames = [];
      const longTasks = [];
      const obs = new PerformanceObserver((l) => longTasks.push(...l.getEntries().map((e) => e.duration)));
      obs.observe({ type: "longtask" });
      const maxRendered = { n: 0 };
      const frame = () => new Promise((ok) => requestAnimationFrame(ok));
      let last = await frame();
      const tick = async () => {
        const now = await frame();
        frames.push(now - last);
        last = now;
        maxRendered.n = Math.max(maxRendered.n, el.querySelectorAll("[data-row]").length);
      };
      // Scroll back like a reader flicking up: 250 px per frame, paging in
      // older history as the top is reached, for 12 s or 3,000 rows.
      const t0 = performance.now();
      while (performance.now() - t0 < 12000 && Number(el.dataset.rows) < 3000) {
        el.scrollTop -= 250;
        await tick();
      }
      const loaded = Number(el.dataset.rows);
      // Then scroll down through everything loaded.
      while (el.scrollTop + el.clientHeight < el.scrollHeight - 5 && performance.now() - t0 < 20000) {
        el.scrollTop += 400;
        await tick();
      }
      obs.disconnect();
      const sorted = [...frames].sort((a, b) => a - b);
      const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
      return {
        loaded,
        maxRendered: maxRendered.n,
        frames: frames.length,
        p50: pct(0.5),
        p95: pct(0.95),
        max: sorted[sorted.length - 1],
        over50: frames.filter((f) => f > 50).length,
        longTasks: longTasks.length,
        longTaskMax: Math.max(0, ...longTasks),
        seconds: (performance.now() - t0) / 1000,
      };
    });
    console.log(`     scrolled ${r.seconds.toFixed(1)} s over ${r.loaded} loaded rows, at most ${r.maxRendered} in the DOM`);
    console.log(`     frames ${r.frames}: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, max ${r.max.toFixed(1)} ms, ${r.over50} over 50 ms; long tasks ${r.longTasks} (max ${r.longTaskMax.toFixed(0)} ms)`);
    await shot(alice, "big-room.png");
    if (r.maxRendered > 200) throw new Error(`${r.maxRendered} rows in the DOM: the timeline is not virtualised`);
    if (r.loaded < 1000) throw new Error(`only ${r.loaded} rows loaded while scrolling back`);
    if (r.p95 > 50) throw new Error(`p95 frame time ${r.p95.toFixed(1)} ms`);
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
