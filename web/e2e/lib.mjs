// Helpers shared by the end-to-end tests (run.mjs, calls.mjs): a fresh Kabar
// from bin/kabar on a free port, Chromium's launch flags, and registering a
// user through the UI.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const bin = process.env.KABAR_BIN ?? join(repo, "bin/kabar");
export const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
// The e2e Kabar accepts org.matrix.login.jwt tokens signed with this secret.
export const jwtSecret = "e2e-jwt-secret-0123456789abcdef";

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}


export async function waitHealthy(base, proc) {
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


export async function startKabar() {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`make web build\` first`);
  const dataDir = mkdtempSync(join(tmpdir(), "kabar-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // JWT login needs the YAML (enabled, auto_create); the secret comes from env.
  const config = join(dataDir, "kabar.yaml");
  writeFileSync(config, "login:\n  jwt:\n    enabled: true\n    auto_create: true\n");
  const proc = spawn(bin, ["serve"], {
    env: {
      ...process.env,
      KABAR_SERVER_NAME: "localhost",
      KABAR_REGISTRATION: "open",
      KABAR_RATE_LIMITS: "off",
      KABAR_DATA_DIR: dataDir,
      KABAR_CONFIG: config,
      KABAR_JWT_SECRET: jwtSecret,
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


export const launchArgs = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];


export async function registerUI(page, base, name) {
  await page.goto(base + "/");
  await page.getByRole("tab", { name: "Create account" }).click();
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
  await page.getByLabel("Confirm password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).last().click();
  await page.getByTestId("me").waitFor({ timeout: 20000 });
}
