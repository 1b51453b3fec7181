import { expect, test } from "@playwright/test";
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { createAgent, failOnBrowserErrors, ROOT, run, signInWithCode } from "./helpers";

// The copy-paste callback examples (examples/callbacks/), each run as its own app against
// the real server: connect, consent, the server-side exchange, deny, and a forged state.
test.describe.configure({ mode: "serial" });
failOnBrowserErrors();

const EXAMPLES = [
  { name: "python", cmd: path.join(ROOT, ".venv/bin/python"), args: ["examples/callbacks/python/app.py"] },
  { name: "node", cmd: "node", args: ["examples/callbacks/node/app.js"] },
  { name: "rust", cmd: path.join(ROOT, "target/debug/examples/callback_axum"), args: [] },
];
const apps: ChildProcess[] = [];
let apiKey = "";

test.beforeAll(() => {
  run(["tenant", "create", "--email", "callbacks@yourapp.com", "--password-stdin"], "a long tenant password\n");
  apiKey = run(["tenant", "api-key", "--email", "callbacks@yourapp.com", "--name", "examples"]);
});

test.afterAll(() => {
  for (const app of apps) app.kill();
});

for (const [i, example] of EXAMPLES.entries()) {
  test(`${example.name} example: connect, exchange, deny, forged state`, async ({ page, request, baseURL }) => {
    const port = Number(process.env.MP_E2E_PORT) + 100 + i;
    const appBase = `http://127.0.0.1:${port}`;
    const agent = await createAgent(request, apiKey, { name: `${example.name} demo app`, redirect_uris: [`${appBase}/integrations/memoryos/callback`] });

    const app = spawn(example.cmd, example.args, {
      cwd: ROOT,
      env: { ...process.env, MP_BASE_URL: baseURL!, MP_AGENT_ID: agent.id, MP_AGENT_SECRET: agent.secret, APP_BASE_URL: appBase, PORT: String(port) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    apps.push(app);
    await expect.poll(async () => (await request.get(`${appBase}/status`).catch(() => null))?.status(), { timeout: 20_000 }).toBe(200);

    await page.goto(`${appBase}/connect`);
    await page.waitForURL(`${baseURL}/consent?**`);
    await page.waitForSelector("body[data-hydrated]");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`${example.name} demo app`);
    await signInWithCode(page, `${example.name}-user@example.com`);
    await expect(page.getByLabel(/Your goals/)).toBeChecked();
    await page.getByLabel("30 days").check();
    await page.getByRole("button", { name: /^Allow / }).click();
    await page.waitForURL(`${appBase}/integrations/memoryos/callback?**`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Connected");
    await expect(page.getByText("Shared categories: preference, goal.")).toBeVisible();
    await page.goto(`${appBase}/status`);
    expect(JSON.parse(await page.locator("body").innerText())).toEqual({ connected: true, token_prefix: "uui_" });

    // Deny: the app shows a clear page.
    await page.goto(`${appBase}/connect`);
    await page.waitForSelector("body[data-hydrated]");
    await page.getByRole("button", { name: "Deny" }).click();
    await page.waitForURL(`${appBase}/integrations/memoryos/callback?**`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Not connected");

    // A callback the session did not start is refused.
    const forged = await page.goto(`${appBase}/integrations/memoryos/callback?status=granted&state=forged&code=mpc_x`);
    expect(forged!.status()).toBe(400);
  });
}
