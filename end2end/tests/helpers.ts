import AxeBuilder from "@axe-core/playwright";
import { APIRequestContext, expect, Page, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "../..");
const BIN = process.env.MP_E2E_BIN ?? path.join(ROOT, "target/debug/memory-passport");

/** Runs an admin command of the server binary on this run's database. */
export function run(args: string[], input?: string): string {
  const env = { ...process.env, DATABASE_URL: `sqlite://${process.env.MP_E2E_DIR}/passport.db` };
  return execFileSync(BIN, args, { env, input, stdio: ["pipe", "pipe", "pipe"] }).toString().trim();
}

/** The newest sign-in code mailed to `email` (read from the outbox, as a person reads mail),
 * among the mails that are not in `before`. */
export async function codeFor(email: string, before: Set<string> = new Set()): Promise<string> {
  const outbox = path.join(process.env.MP_E2E_DIR!, "outbox");
  for (let i = 0; i < 50; i++) {
    const files = outboxFiles().filter((f) => !before.has(f)).sort().reverse();
    for (const f of files) {
      const text = fs.readFileSync(path.join(outbox, f), "utf8");
      const subject = text.match(/^Subject: (\d{6}) is your Memory Passport code/m);
      if (subject && text.includes(`To: ${email}`)) return subject[1];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no code mailed to ${email}`);
}

/** The mails in the outbox now: pass them to `codeFor` to wait for a newer code than these
 * (the page says a code is on its way before its mail is written). */
export function outboxFiles(): string[] {
  const outbox = path.join(process.env.MP_E2E_DIR!, "outbox");
  return fs.existsSync(outbox) ? fs.readdirSync(outbox) : [];
}

/** An app registered through the API: its id and its one-time secret. */
export type Agent = { id: string; secret: string };

/** Registers a global agent with a tenant's API key (POST /v1/agents/global), as an app's
 * developer would; `data` is the request body. */
export async function createAgent(request: APIRequestContext, apiKey: string, data: Record<string, unknown>): Promise<Agent> {
  const res = await request.post("/v1/agents/global", { headers: { Authorization: `ApiKey ${apiKey}` }, data });
  expect(res.status(), await res.text()).toBe(201);
  const agent = (await res.json()).data;
  return { id: agent.id, secret: agent.raw_agent_api_key };
}

/** Signs in on the consent page with an emailed code and waits for the choice form. */
export async function signInWithCode(page: Page, email: string) {
  await page.getByLabel("Email address").fill(email);
  const before = new Set(outboxFiles());
  await page.getByRole("button", { name: "Send code" }).click();
  await expect(page.getByRole("status").filter({ hasText: "6-digit code is on its way" })).toBeVisible();
  await page.getByLabel("Code from the email").fill(await codeFor(email, before));
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("heading", { name: /^Choose what/ })).toBeVisible();
}

export const SHOTS = path.join(__dirname, "..", "screenshots");
fs.mkdirSync(SHOTS, { recursive: true });

/** Loads a page and waits until the app has hydrated (the app marks <body> then). */
export async function open(page: Page, url: string) {
  await page.goto(url);
  await page.waitForSelector("body[data-hydrated]");
}

/** Signs a tenant in from the sign-in page and waits for the hydrated dashboard. */
export async function signIn(page: Page, email: string, password: string) {
  await open(page, "/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/dashboard");
  await page.waitForSelector("body[data-hydrated]");
}

/** Desktop and phone-width screenshots of the current page. */
/**
 * Screenshots the page at the test's width and at a phone's (390 px), and checks it at both
 * with axe-core: any serious or critical violation fails the test, named with the state.
 */
export async function shoot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  await expectAccessible(page, name);
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
  await expectAccessible(page, `${name} (390 px)`);
  // Nothing wider than the phone's screen: no horizontal scrolling at 390 px.
  // (Measured by a script: skipped on the stories that run with JavaScript off.)
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth).catch(() => 0);
  expect(overflow, `${name}: no horizontal scrolling at 390 px`).toBeLessThanOrEqual(0);
  if (size) await page.setViewportSize(size);
}

/** axe-core on the page as it is now: 0 serious or critical violations (WCAG 2.1 A/AA and best practice). */
export async function expectAccessible(page: Page, state: string) {
  let results;
  try {
    results = await new AxeBuilder({ page }).analyze();
  } catch (e) {
    // axe-core is a script: the stories with JavaScript off reach the same server-rendered
    // pages that the other stories check with it on.
    if (String(e).includes("Frame cannot run scripts")) {
      test.info().annotations.push({ type: "axe", description: `${state}: skipped, JavaScript is off` });
      return;
    }
    throw e;
  }
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n` + v.nodes.slice(0, 5).map((n) => `    ${n.target.join(" ")} — ${n.failureSummary?.split("\n").slice(1).join("; ")}`).join("\n"));
  expect(report, `axe-core on ${state}`).toEqual([]);
}

/** Reads the one-time secret from an open secret dialog and closes it the only way allowed. */
export async function takeSecret(page: Page, dialogId: string): Promise<string> {
  const dialog = page.locator(`#${dialogId}`);
  await expect(dialog).toBeVisible();
  const secret = await dialog.getByLabel("Secret", { exact: true }).inputValue();
  const close = dialog.getByRole("button", { name: "Close" });
  await expect(close).toBeDisabled();
  await page.keyboard.press("Escape");
  await expect(dialog, "Escape does not dismiss the secret").toBeVisible();
  await dialog.getByLabel("I have stored this secret somewhere safe").check();
  await close.click();
  await expect(dialog).toBeHidden();
  return secret;
}

/** Every byte of the SQLite files of this run. */
export function databaseBytes(): Buffer {
  const dir = process.env.MP_E2E_DIR!;
  return Buffer.concat(
    fs.readdirSync(dir)
      .filter((f) => f.startsWith("passport.db"))
      .map((f) => fs.readFileSync(path.join(dir, f))),
  );
}

/** Fails each test of the file on a page error or console error (a hydration mismatch or a
 * panic shows up there first); 4xx answers the page handles are expected. */
export function failOnBrowserErrors() {
  const errors: string[] = [];
  test.beforeEach(async ({ page }) => {
    errors.length = 0;
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
        errors.push(`console: ${m.text().slice(0, 300)} (on ${page.url()})`);
      }
    });
  });
  test.afterEach(() => {
    expect(errors, "no errors in the browser console").toEqual([]);
  });
}
