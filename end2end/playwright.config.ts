import { defineConfig } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// One fresh SQLite database per run; workers inherit these from the main process.
process.env.MP_E2E_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), "mp-e2e-"));
process.env.MP_E2E_PORT ??= String(3300 + Math.floor(Math.random() * 500));
const dir = process.env.MP_E2E_DIR;
const port = process.env.MP_E2E_PORT;
const root = path.resolve(__dirname, "..");
// The debug build by default; `make bench` points MP_E2E_BIN at the release build.
const bin = process.env.MP_E2E_BIN ?? path.join(root, "target/debug/memory-passport");

export const OPERATOR = { email: "operator@example.com", password: "operator password 1" };

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: "list",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "off",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `sh -c 'echo "${OPERATOR.password}" | "${bin}" operator create --email ${OPERATOR.email} --password-stdin && exec "${bin}" serve'`,
    cwd: root,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      DATABASE_URL: `sqlite://${dir}/passport.db`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      MAIL_OUTBOX_DIR: `${dir}/outbox`,
      RUST_LOG: "warn",
    },
  },
});
