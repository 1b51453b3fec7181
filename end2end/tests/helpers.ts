import { expect, Page, test } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

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
export async function shoot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
  if (size) await page.setViewportSize(size);
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
        errors.push(`console: ${m.text().slice(0, 300)}`);
      }
    });
  });
  test.afterEach(() => {
    expect(errors, "no errors in the browser console").toEqual([]);
  });
}
