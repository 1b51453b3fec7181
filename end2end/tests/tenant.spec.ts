import { expect, test } from "@playwright/test";
import { databaseBytes, failOnBrowserErrors, open, shoot, signIn, takeSecret } from "./helpers";
import { OPERATOR } from "../playwright.config";

// One tenant's day, in order: sign up, API key, agent, rotation, URL builder, operator
// review, retirement; then a look at the database file.
test.describe.configure({ mode: "serial" });

const email = `tenant-${Date.now()}@example.com`;
const password = "a long tenant password";
const secrets: string[] = [password];
const agentName = "Support Copilot";
const redirect = "http://localhost:9999/integrations/memoryos/callback";
let consentUrl = "";

failOnBrowserErrors();

test.beforeEach(async ({ context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
});

test("the start page explains the product", async ({ page }) => {
  await open(page, "/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("You decide what AI agents remember");
  // People have a way in, and see the six categories their Passport holds.
  const people = page.getByRole("region", { name: "For people" });
  await expect(people.getByRole("listitem")).toHaveCount(6);
  await expect(people.getByRole("link", { name: "Manage your Memory Passport" })).toHaveAttribute("href", "/manage");
  await shoot(page, "01-home");
  await people.getByRole("link", { name: "Manage your Memory Passport" }).click();
  await page.waitForURL("**/manage");
  await expect(page.getByRole("heading", { name: "What you will find here" })).toBeVisible();
});

test("sign-up validates, then opens the dashboard", async ({ page }) => {
  await open(page, "/signup");
  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("Password").fill("short pw");
  // Bypass the browser's own check to see the server's answer.
  await page.locator("#password").evaluate((el: HTMLInputElement) => el.removeAttribute("minlength"));
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("alert")).toContainText("at least 10 characters");
  await shoot(page, "02-signup-error");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/dashboard");
  await expect(page.getByRole("heading", { name: "Memory Passport", level: 1 })).toBeVisible();
  await expect(page.getByText("No agents yet.")).toBeVisible();
});

test("signed out, the dashboard asks to sign in; wrong passwords are refused", async ({ page }) => {
  await open(page, "/dashboard");
  await expect(page.getByRole("heading", { name: "Sign in to continue" })).toBeVisible();
  await open(page, "/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("That email and password don't match an account.");
  await shoot(page, "03-signin-error");
});

test.describe("signed in", () => {
  test.beforeEach(async ({ page }) => {
    await signIn(page, email, password);
  });

  test("an API key is shown once, listed by prefix, and revocable", async ({ page }) => {
    await page.getByRole("link", { name: "API keys" }).click();
    await expect(page.getByRole("heading", { name: "API keys", level: 1 })).toBeVisible();
    await page.getByLabel("Name").fill("ci backend");
    await page.getByRole("button", { name: "Create key" }).click();
    await expect(page.locator("#key-secret")).toBeVisible();
    await shoot(page, "04-api-key-dialog");
    const key = await takeSecret(page, "key-secret");
    expect(key).toMatch(/^mem_[A-Za-z0-9_-]{43}$/);
    secrets.push(key);
    const row = page.getByRole("row", { name: /ci backend/ });
    await expect(row).toContainText(key.slice(0, 8) + "…");
    await expect(row).toContainText("Never");
    await shoot(page, "05-api-keys");

    // The key works against the REST API, then stops working once revoked.
    const ok = await page.request.get("/v1/agents/global", { headers: { Authorization: `ApiKey ${key}` } });
    expect(ok.status()).toBe(200);
    await row.getByRole("button", { name: "Revoke ci backend" }).click();
    const confirm = page.getByRole("alertdialog");
    await expect(confirm).toContainText('Revoke the key "ci backend"?');
    await confirm.getByRole("button", { name: "Revoke key" }).click();
    await expect(page.getByRole("row", { name: /ci backend/ })).toContainText("Revoked");
    const refused = await page.request.get("/v1/agents/global", { headers: { Authorization: `ApiKey ${key}` } });
    expect(refused.status()).toBe(401);
  });

  test("creating an agent shows its secret once and lists it as pending", async ({ page }) => {
    await page.getByLabel("Name", { exact: true }).fill(agentName);
    await page.getByLabel(/^Description/).fill("Customer support agent with access to approved user context.");
    await page.getByLabel("Website").fill("https://yourapp.com");
    await page.getByLabel(/^Redirect URIs/).fill(`${redirect}\nhttp://insecure.example/cb`);
    await page.getByRole("button", { name: "Create global agent" }).click();
    await expect(page.getByRole("alert")).toContainText("must start with https://");
    await page.getByLabel(/^Redirect URIs/).fill(redirect);
    await page.locator("#create-cat-expertise").check();
    await page.getByRole("button", { name: "Create global agent" }).click();
    await expect(page.locator("#agent-secret")).toBeVisible();
    await shoot(page, "06-agent-secret-dialog");
    const secret = await takeSecret(page, "agent-secret");
    expect(secret).toMatch(/^agent_sk_[A-Za-z0-9_-]{43}$/);
    secrets.push(secret);

    const item = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: agentName }) });
    await expect(item).toContainText("Pending review");
    await expect(item).toContainText(redirect);
    await expect(item).toContainText("Your skills and knowledge");
    await shoot(page, "07-dashboard-with-agent");
  });

  test("editing changes the profile", async ({ page }) => {
    const item = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: agentName }) });
    await item.getByRole("button", { name: "Edit" }).click();
    const access = item.getByRole("radio", { name: "Read and write" });
    await access.check();
    await item.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByRole("status").filter({ hasText: `Saved changes to ${agentName}.` })).toBeVisible();
    await expect(item).toContainText("Read and write");
  });

  test("rotating issues a new secret after a confirmation", async ({ page }) => {
    const item = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: agentName }) });
    await item.getByRole("button", { name: "Rotate secret" }).click();
    const confirm = page.getByRole("alertdialog");
    await expect(confirm).toContainText(`Rotate the secret of ${agentName}?`);
    await shoot(page, "08-rotate-confirm");
    await confirm.getByRole("button", { name: "Yes, continue" }).click();
    const fresh = await takeSecret(page, "agent-secret");
    expect(fresh).toMatch(/^agent_sk_/);
    expect(secrets).not.toContain(fresh);
    secrets.push(fresh);
  });

  test("the URL builder makes, copies and previews a consent link", async ({ page }) => {
    const builder = page.getByRole("region", { name: "Consent URL Builder" });
    await builder.getByLabel("Agent").selectOption({ label: agentName });
    await builder.getByLabel("Your goals").uncheck();
    await builder.getByLabel("How you do things").check();
    await builder.getByLabel(/^State/).fill("e2e-state-123");
    await builder.getByLabel("Redirect URI").selectOption(redirect);
    await builder.getByLabel("Access").selectOption("read_only");
    const url = await builder.getByLabel("Consent URL").inputValue();
    expect(url).toContain("/consent?agent_id=");
    expect(url).toContain("state=e2e-state-123");
    expect(url).toContain("categories=preference%2Cfact%2Cprocedure%2Cexpertise");
    expect(url).toContain(`redirect_uri=${encodeURIComponent(redirect)}`);
    expect(url).toContain("access=read_only");
    await builder.getByRole("button", { name: "Copy URL" }).click();
    await expect(builder.getByText("Copied to the clipboard.")).toBeVisible();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(url);
    await shoot(page, "09-url-builder");
    consentUrl = copied;

    const preview = page.waitForEvent("popup");
    await builder.getByRole("link", { name: "Open preview" }).click();
    const card = await preview;
    await card.waitForLoadState();
    await expect(card.getByRole("heading", { level: 1 })).toHaveText(agentName);
    await card.close();

    await open(page, copied);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(agentName);
    await expect(page.getByRole("note")).toContainText("not been reviewed");
    await expect(page.locator(".category-summary li")).toHaveCount(4);
    await expect(page.getByText("read only")).toBeVisible();
    await shoot(page, "10-consent-card-pending");
  });

  test("a consent link with an unregistered redirect URI stops on an error page", async ({ page }) => {
    for (const bad of [`${redirect}/extra`, redirect.replace("9999", "9998"), `${redirect}?x=1`]) {
      const url = new URL(consentUrl);
      url.searchParams.set("redirect_uri", bad);
      await open(page, url.toString());
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("This link can't be used");
      expect(new URL(page.url()).host).toBe(url.host);
    }
    await shoot(page, "11-consent-bad-redirect");
    await open(page, "/consent?agent_id=00000000-0000-0000-0000-000000000000");
    await expect(page.getByText("We don't know the app this link is for.")).toBeVisible();
  });
});

test("an operator verifies the agent and the tenant sees it", async ({ page }) => {
  await open(page, "/operator");
  await page.getByLabel("Email").fill(OPERATOR.email);
  await page.getByLabel("Password").fill(OPERATOR.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Global agents" })).toBeVisible();
  const row = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: agentName }) });
  await expect(row).toContainText(email);
  await shoot(page, "12-operator-queue");
  await row.getByRole("button", { name: `Verify ${agentName}` }).click();
  await expect(row.locator(".badge")).toHaveText("Verified");

  await open(page, consentUrl);
  await expect(page.locator(".badge")).toHaveText("Verified");
  await expect(page.getByRole("note")).toHaveCount(0);
  await shoot(page, "13-consent-card-verified");
});

test("an edit after verification sends the agent back to review, and the operator sees what changed", async ({ page }) => {
  await signIn(page, email, password);
  const item = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: agentName }) });
  await expect(item.locator(".badge")).toHaveText("Verified");
  await item.getByRole("button", { name: "Edit" }).click();
  await item.getByLabel(/^Description/).fill("Now it also books your travel.");
  await item.getByRole("button", { name: "Save changes" }).click();
  await expect(item.locator(".badge")).toHaveText("Pending review");
  await expect(item.locator(".review-reason")).toHaveText(/Back in review: you changed its description after it was verified/);
  await shoot(page, "15-dashboard-back-in-review");
  await open(page, consentUrl);
  await expect(page.getByRole("note")).toContainText("not been reviewed");

  await open(page, "/operator");
  await page.getByLabel("Email").fill(OPERATOR.email);
  await page.getByLabel("Password").fill(OPERATOR.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  const row = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: agentName }) });
  const changes = row.getByRole("region", { name: `What changed in ${agentName} since it was verified` });
  await expect(changes.getByRole("row", { name: /Description/ })).toContainText("Now it also books your travel.");
  await shoot(page, "16-operator-changes-since-review");
  await row.getByRole("button", { name: `Verify ${agentName}` }).click();
  await expect(row.locator(".badge")).toHaveText("Verified");
  await expect(changes).toHaveCount(0);
});

test("retiring an agent disables its consent links", async ({ page }) => {
  await signIn(page, email, password);
  const item = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: agentName }) });
  await expect(item.locator(".badge")).toHaveText("Verified");
  await item.getByRole("button", { name: "Retire" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Yes, continue" }).click();
  await expect(item.locator(".badge")).toHaveText("Retired");
  await expect(item.getByRole("button", { name: "Rotate secret" })).toHaveCount(0);
  await shoot(page, "14-dashboard-retired");
  const cookies = await page.context().cookies();
  secrets.push(...cookies.filter((c) => c.name === "mp_tenant").map((c) => c.value));

  await open(page, consentUrl);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("This link can't be used");
});

test("the database file holds no secret that was shown", async () => {
  const bytes = databaseBytes();
  expect(bytes.length).toBeGreaterThan(4096);
  expect(bytes.includes(Buffer.from(email)), "the search finds stored values").toBe(true);
  expect(secrets.length).toBeGreaterThanOrEqual(5);
  for (const s of secrets) {
    expect(bytes.includes(Buffer.from(s)), `secret ${s.slice(0, 6)}… in the database`).toBe(false);
  }
});
