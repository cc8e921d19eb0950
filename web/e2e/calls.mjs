// End-to-end test of 1:1 calls: a fresh Kabar (bin/kabar with the client
// embedded), two Chromium profiles with fake camera and microphone. Alice
// video-calls Bob in their encrypted DM, Bob accepts, both connect, Alice
// mutes, Bob hangs up; then Bob declines a second call. Screenshots go to
// web/test-results/calls-*.png. Prints "N passed, N failed, N skipped".
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { browserPath, launchArgs, registerUI, startKabar } from "./lib.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const results = resolve(here, "../test-results");
const counts = { passed: 0, failed: 0, skipped: 0 };
// Fake devices (a test pattern and a beep) and no permission prompt.
const mediaArgs = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"];

async function openBrowser(dirs, name, problems) {
  const dir = mkdtempSync(join(tmpdir(), "kabar-chromium-"));
  dirs.push(dir);
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: browserPath,
    headless: true,
    args: [...launchArgs, ...mediaArgs],
    viewport: { width: 1200, height: 800 },
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on("pageerror", (e) => problems.push(`${name}: ${e}`));
  // A Content-Security-Policy refusal shows as a console error.
  page.on("console", (m) => {
    if (/Content.Security.Policy/i.test(m.text())) problems.push(`${name}: ${m.text()}`);
    if (process.env.E2E_DEBUG) console.log(`${name} console.${m.type()}: ${m.text()}`);
  });
  return { ctx, page };
}

/** callPhase waits until the page's call screen shows phase. */
const callPhase = (page, phase, timeout = 30000) => page.locator(`[data-testid="call-view"][data-phase="${phase}"]`).waitFor({ timeout });

/** videoSize is the intrinsic size of a <video>: non-zero once frames arrive over the peer connection. */
const videoSize = (page, testid) =>
  page.getByTestId(testid).evaluate((v) => ({ w: v.videoWidth, h: v.videoHeight, live: !!v.srcObject?.getTracks().some((t) => t.readyState === "live") }));

async function main() {
  mkdirSync(results, { recursive: true });
  const kabar = await startKabar();
  const dirs = [];
  const browsers = [];
  const problems = [];
  let ok = true;
  const shot = (page, name) => page.screenshot({ path: join(results, `calls-${name}.png`) }).catch(() => {});
  let alice, bob;
  const step = async (name, fn) => {
    if (!ok) {
      counts.skipped++;
      return;
    }
    const started = Date.now();
    try {
      await fn();
      counts.passed++;
      console.log(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      counts.failed++;
      ok = false;
      console.log(`FAIL ${name}: ${e.stack ?? e}`);
      if (alice) await shot(alice, "fail-alice");
      if (bob) await shot(bob, "fail-bob");
    }
  };
  try {
    const a = await openBrowser(dirs, "alice", problems);
    const b = await openBrowser(dirs, "bob", problems);
    browsers.push(a.ctx, b.ctx);
    alice = a.page;
    bob = b.page;

    await step("alice and bob register", async () => {
      await registerUI(alice, kabar.base, "alice");
      await registerUI(bob, kabar.base, "bob");
    });

    await step("alice and bob share an encrypted DM with call buttons", async () => {
      await alice.getByRole("button", { name: "New chat" }).click();
      const dlg = alice.getByTestId("start-dm");
      await dlg.getByLabel("Name or user ID").fill("@bob:localhost");
      await dlg.getByRole("button", { name: "Start chat" }).click();
      await alice.getByTestId("room-encrypted").waitFor({ timeout: 15000 });
      await bob.getByTestId("room-list").getByRole("button").first().click({ timeout: 20000 });
      await bob.getByRole("button", { name: "Accept" }).click({ timeout: 10000 });
      await bob.getByTestId("room-encrypted").waitFor({ timeout: 15000 });
      await alice.getByTestId("notice").filter({ hasText: "joined" }).filter({ hasText: "bob" }).waitFor({ timeout: 20000 });
      await alice.getByTestId("call-video").waitFor({ timeout: 10000 });
      await bob.getByTestId("call-voice").waitFor({ timeout: 10000 });
    });

    await step("alice video-calls bob and bob sees the incoming call", async () => {
      await alice.getByTestId("call-video").click();
      await callPhase(alice, "calling", 15000);
      const banner = bob.getByTestId("call-incoming");
      await banner.waitFor({ timeout: 30000 });
      const text = await banner.textContent();
      if (!text.includes("alice is video calling you")) throw new Error(`incoming banner says: ${text}`);
      await shot(bob, "incoming");
    });

    await step("bob accepts and both connect with video flowing both ways", async () => {
      await bob.getByTestId("call-incoming").getByRole("button", { name: "Accept" }).click();
      await callPhase(bob, "connected");
      await callPhase(alice, "connected");
      for (const [who, page] of [["alice", alice], ["bob", bob]]) {
        await page.waitForFunction(() => document.querySelector('[data-testid="remote-video"]')?.videoWidth > 0, null, { timeout: 20000 });
        const remote = await videoSize(page, "remote-video");
        const local = await videoSize(page, "local-video");
        if (!remote.live || !local.live) throw new Error(`${who}: remote ${JSON.stringify(remote)}, local ${JSON.stringify(local)}`);
        console.log(`     ${who}: remote video ${remote.w}x${remote.h}, local ${local.w}x${local.h}`);
      }
      // The duration counts up once connected.
      await alice.waitForFunction(() => /^0:0[1-9]$/.test(document.querySelector('[data-testid="call-duration"]')?.textContent ?? ""), null, { timeout: 5000 });
      await shot(alice, "connected-alice");
      await shot(bob, "connected-bob");
    });

    await step("the signalling went through the server encrypted", async () => {
      const types = await alice.evaluate(async () => {
        const s = JSON.parse(localStorage.getItem("kabar.session.v1"));
        const h = { headers: { Authorization: `Bearer ${s.accessToken}` } };
        const rooms = await (await fetch("/_matrix/client/v3/joined_rooms", h)).json();
        const r = await fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(rooms.joined_rooms[0])}/messages?dir=b&limit=20`, h);
        return (await r.json()).chunk.filter((e) => e.state_key === undefined).map((e) => e.type);
      });
      if (types.some((t) => t.startsWith("m.call.")) || !types.includes("m.room.encrypted")) throw new Error(`server stored ${types.join(",")}`);
    });

    await step("alice mutes her microphone", async () => {
      const mic = alice.getByTestId("call-mic");
      await mic.click();
      await alice.waitForFunction(() => document.querySelector('[data-testid="call-mic"]')?.getAttribute("aria-pressed") === "true", null, { timeout: 5000 });
      const enabled = await alice.getByTestId("local-video").evaluate((v) => v.srcObject.getAudioTracks().map((t) => t.enabled));
      if (enabled.length !== 1 || enabled[0]) throw new Error(`alice's audio tracks enabled: ${enabled}`);
      await bob.waitForTimeout(500);
    });

    await step("bob hangs up and both see the call ended in the timeline", async () => {
      await bob.getByTestId("call-view").getByRole("button", { name: "Hang up" }).click();
      await callPhase(alice, "ended", 20000);
      for (const page of [alice, bob]) {
        const notice = page.getByTestId("call-notice").filter({ hasText: /^Call ended · 0:\d\d$/ });
        await notice.waitFor({ timeout: 20000 });
        await page.getByTestId("call-notice").filter({ hasText: "alice started a video call" }).waitFor({ timeout: 5000 });
        await page.getByTestId("call-view").waitFor({ state: "detached", timeout: 10000 });
      }
      await shot(alice, "ended-alice");
    });

    await step("bob declines a voice call and alice sees it declined", async () => {
      await alice.getByTestId("call-voice").click();
      const banner = bob.getByTestId("call-incoming");
      await banner.waitFor({ timeout: 30000 });
      const text = await banner.textContent();
      if (!text.includes("alice is calling you")) throw new Error(`incoming banner says: ${text}`);
      await banner.getByRole("button", { name: "Decline" }).click();
      await callPhase(alice, "ended", 20000);
      await alice.getByTestId("call-notice").filter({ hasText: "bob declined the call" }).waitFor({ timeout: 20000 });
      await alice.getByTestId("call-notice").filter({ hasText: "alice started a voice call" }).waitFor({ timeout: 5000 });
      await bob.getByTestId("call-notice").filter({ hasText: "bob declined the call" }).waitFor({ timeout: 20000 });
      await shot(alice, "declined-alice");
    });

    await step("no page errors or Content-Security-Policy refusals", async () => {
      if (problems.length) throw new Error(problems.join("\n"));
    });
  } finally {
    for (const b of browsers) await b.close().catch(() => {});
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await kabar.stop();
  }
}

main()
  .catch((e) => {
    counts.failed++;
    console.log(`FAIL calls e2e setup: ${e.stack ?? e}`);
  })
  .finally(() => {
    console.log(`calls: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
    process.exitCode = counts.failed ? 1 : 0;
  });
