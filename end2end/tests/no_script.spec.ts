import { APIRequestContext, expect, Route, test } from "@playwright/test";
import { codeFor, createAgent, failOnBrowserErrors, open, run, shoot } from "./helpers";

// The consent page works before its script has run, and without it: every step is a plain
// form that posts to the page's own full address and comes back to it.
test.describe.configure({ mode: "serial" });
failOnBrowserErrors();

let apiKey = "";
const agents: Record<string, string> = {};

async function registerAgent(request: APIRequestContext, name: string) {
  agents[name] = (await createAgent(request, apiKey, { name, description: `${name} works without scripts.`, website_url: "https://yourapp.com", default_categories_requested: ["preference", "goal"], redirect_uris: [], requested_access: "read_write" })).id;
}

function consentUrl(agent: string) {
  return `/consent?${new URLSearchParams({ agent_id: agents[agent], state: "st ü/" + agent.length, categories: "preference,goal" })}`;
}

test.beforeAll(async ({ request }) => {
  run(["tenant", "create", "--email", "noscript@yourapp.com", "--password-stdin"], "a long tenant password\n");
  apiKey = run(["tenant", "api-key", "--email", "noscript@yourapp.com", "--name", "e2e"]);
  await registerAgent(request, "Plain Form Pal");
  await registerAgent(request, "Early Click Co");
  await registerAgent(request, "Refused Robot");
});

test.describe("with JavaScript disabled", () => {
  test.use({ javaScriptEnabled: false });

  test("a person signs in, approves and sees the token", async ({ page }) => {
    const url = consentUrl("Plain Form Pal");
    await page.goto(url);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Plain Form Pal");
    // A wrong address: the server says why, on the same full link.
    await page.getByLabel("Email address").evaluate((el: HTMLInputElement) => (el.type = "text"));
    await page.getByLabel("Email address").fill("not an address");
    await page.getByRole("button", { name: "Send code" }).click();
    await expect(page.getByRole("alert")).toContainText("name@example.com");
    expect(new URL(page.url()).search).toBe(new URL(url, "http://x").search);

    await page.getByLabel("Email address").fill("plain@example.com");
    await page.getByRole("button", { name: "Send code" }).click();
    await expect(page.getByRole("status").filter({ hasText: "6-digit code is on its way" })).toBeVisible();
    expect(new URL(page.url()).search, "the consent link is kept").toBe(new URL(url, "http://x").search);
    await page.getByLabel("Code from the email").fill("000000" === (await codeFor("plain@example.com")) ? "111111" : "000000");
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("alert")).toContainText("wrong or has expired");
    await page.getByLabel("Code from the email").fill(await codeFor("plain@example.com"));
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("heading", { name: "Choose what Plain Form Pal may use" })).toBeVisible();
    // The link's categories are ticked in the page as sent, before any script.
    await expect(page.getByLabel(/Your preferences and settings/)).toBeChecked();
    await expect(page.getByLabel(/Your goals/)).toBeChecked();
    await expect(page.getByLabel("Read and write")).toBeChecked();
    // Forgetting the duration: told on the page, nothing granted.
    await page.getByRole("button", { name: /^Allow / }).click();
    await expect(page.getByRole("alert")).toContainText("how long");
    await page.getByLabel(/Your goals/).uncheck();
    await page.getByLabel("90 days").check();
    await page.getByLabel("Read only").check();
    await shoot(page, "60-consent-without-script");
    await page.getByRole("button", { name: /^Allow / }).click();
    await page.waitForURL(/\/complete\?status=granted&state=st\+%C3%BC%2F14$/);
    await expect(page.getByRole("heading", { name: "Access granted" })).toBeVisible();
    expect(await page.getByLabel("Token").inputValue()).toMatch(/^uui_[A-Za-z0-9_-]{43}$/);
    await page.reload();
    await expect(page.getByLabel("Token")).toHaveCount(0);
  });

  test("a person signs in to the manage page", async ({ page }) => {
    await page.goto("/manage");
    await page.getByLabel("Email address").fill("manager@example.com");
    await page.getByRole("button", { name: "Send code" }).click();
    await expect(page).toHaveURL(/\/manage$/);
    await page.getByLabel("Code from the email").fill(await codeFor("manager@example.com"));
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByText("Signed in as manager@example.com")).toBeVisible();
    await expect(page.getByRole("heading", { name: "Apps with access" })).toBeVisible();
  });

  test("a signed-in person denies", async ({ page }) => {
    await page.goto(consentUrl("Refused Robot"));
    await page.getByLabel("Email address").fill("refuser@example.com");
    await page.getByRole("button", { name: "Send code" }).click();
    await page.getByLabel("Code from the email").fill(await codeFor("refuser@example.com"));
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByText("Signed in as")).toContainText("refuser@example.com");
    await page.getByRole("button", { name: "Deny" }).click();
    await page.waitForURL(/\/complete\?status=denied/);
    await expect(page.getByRole("heading", { name: "You said no" })).toBeVisible();
  });
});

test("a click before the script has run posts the form and keeps the link", async ({ page }) => {
  // Hold the page's script back, as a slow phone would: the page is not interactive yet.
  const held: Route[] = [];
  await page.route("**/assets/consent.*.js", (route) => {
    held.push(route);
  });
  const url = consentUrl("Early Click Co");
  await page.goto(url, { waitUntil: "commit" });
  await expect(page.getByLabel("Email address")).toBeVisible();
  await expect(page.locator("body[data-hydrated]")).toHaveCount(0);
  await page.getByLabel("Email address").fill("early@example.com");
  await page.getByRole("button", { name: "Send code" }).click();
  await expect(page.getByRole("status").filter({ hasText: "6-digit code is on its way" })).toBeVisible();
  expect(new URL(page.url()).search, "not 'This link can't be used'").toBe(new URL(url, "http://x").search);
  await expect(page.getByRole("heading", { name: "This link can't be used" })).toHaveCount(0);
  // Now the script arrives; the rest runs with it from the step the server remembered.
  await page.unroute("**/assets/consent.*.js");
  for (const r of held) await r.continue().catch(() => {});
  await open(page, url);
  await expect(page.getByRole("status").filter({ hasText: "6-digit code is on its way" })).toBeVisible();
  // The countdown the server started goes on in the page.
  await expect(page.getByRole("button", { name: /^Send a new code \(in \d+ s\)$/ })).toBeDisabled();
  await expect(page.getByLabel("Code from the email")).toBeFocused();
  await page.getByLabel("Code from the email").fill(await codeFor("early@example.com"));
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("heading", { name: "Choose what Early Click Co may use" })).toBeVisible();
});
