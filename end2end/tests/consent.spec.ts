import { APIRequestContext, expect, Page, test } from "@playwright/test";
import { Agent, codeFor, createAgent, failOnBrowserErrors, open, run, shoot, signInWithCode } from "./helpers";

// A person's side of the flow: the agent card, email code sign-in (codes read from the
// outbox), categories, duration, access, approve / deny, re-consent, the completion page and
// the app's server-side code exchange.
test.describe.configure({ mode: "serial" });
failOnBrowserErrors();

const CALLBACK = "http://localhost:9999/integrations/memoryos/callback";

let apiKey = "";
const agents: Record<string, Agent> = {};

async function registerAgent(request: APIRequestContext, name: string, redirects: string[], access: string) {
  agents[name] = await createAgent(request, apiKey, { name, description: `${name} helps with your tasks.`, website_url: "https://yourapp.com", default_categories_requested: ["preference", "goal"], redirect_uris: redirects, requested_access: access });
}

function consentUrl(agent: string, extra: Record<string, string> = {}) {
  const q = new URLSearchParams({ agent_id: agents[agent].id, state: "st-" + agent.replace(/\W/g, ""), ...extra });
  return `/consent?${q}`;
}

test.beforeAll(async ({ request }) => {
  run(["tenant", "create", "--email", "apps@yourapp.com", "--password-stdin"], "a long tenant password\n");
  apiKey = run(["tenant", "api-key", "--email", "apps@yourapp.com", "--name", "e2e"]);
  await registerAgent(request, "Hosted Helper", [], "read_write");
  await registerAgent(request, "Callback Coach", [CALLBACK], "read_only");
});

test("(a, e) hosted completion: card with pending warning, code sign-in, choices, token shown once", async ({ page }) => {
  await open(page, consentUrl("Hosted Helper", { categories: "preference,expertise" }));
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Hosted Helper");
  await expect(page.getByRole("note")).toContainText("not been reviewed");
  await shoot(page, "20-consent-card");

  await page.getByLabel("Email address").fill("not an address");
  await page.getByLabel("Email address").evaluate((el: HTMLInputElement) => (el.type = "text"));
  await page.getByRole("button", { name: "Send code" }).click();
  await expect(page.getByRole("alert")).toContainText("name@example.com");

  await page.getByLabel("Email address").fill("ada@example.com");
  await page.getByRole("button", { name: "Send code" }).click();
  await expect(page.getByRole("button", { name: /^Send a new code \(in \d+ s\)$/ })).toBeDisabled();
  await expect(page.getByLabel("Code from the email")).toHaveAttribute("autocomplete", "one-time-code");
  await shoot(page, "21-consent-code");
  await page.getByLabel("Code from the email").fill("000000" === (await codeFor("ada@example.com")) ? "111111" : "000000");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("alert")).toContainText("wrong or has expired");
  await page.getByLabel("Code from the email").fill(await codeFor("ada@example.com"));
  await page.getByRole("button", { name: "Continue" }).click();

  const form = page.getByRole("region", { name: "Choose what Hosted Helper may use" });
  await expect(form).toBeVisible();
  // The link's categories are ticked and marked Requested; the rest are Optional.
  await expect(form.getByLabel(/Your preferences and settings/)).toBeChecked();
  await expect(form.getByLabel(/Your skills and knowledge/)).toBeChecked();
  await expect(form.getByLabel(/Your goals/)).not.toBeChecked();
  await expect(form.locator(".tag-requested")).toHaveCount(2);
  await expect(form.getByText("This app will NOT access:")).toContainText("Your goals");
  for (const d of ["30 days", "90 days", "1 year", "Until I revoke"]) await expect(form.getByLabel(d)).not.toBeChecked();
  // Each category shows an example; each duration the day access would end.
  await expect(form.locator(".category-choice .example")).toHaveCount(6);
  await expect(form.getByLabel("90 days")).toHaveAccessibleName(/^90 days — until \d{1,2} [A-Z][a-z]{2} \d{4}$/);
  await expect(form.getByLabel("Until I revoke")).toHaveAccessibleName("Until I revoke — no end date");
  // The button says who gets what.
  await expect(form.getByRole("button", { name: /^Allow / })).toHaveText("Allow Hosted Helper to read and write 2 categories");
  await form.getByRole("button", { name: /^Allow / }).click();
  await expect(form.getByRole("alert")).toHaveText("Choose how long this app may use your memory.");
  await form.getByLabel(/Your skills and knowledge/).uncheck();
  await form.getByLabel(/Your preferences and settings/).uncheck();
  await form.getByLabel("90 days").check();
  await form.getByRole("button", { name: /^Allow / }).click();
  await expect(form.getByRole("alert")).toHaveText("Choose at least one category to share, or deny access.");
  await form.getByLabel(/Your goals/).check();
  await expect(form.getByLabel("Read and write")).toBeChecked();
  await form.getByLabel("Read only").check();
  await expect(form.getByRole("button", { name: /^Allow / })).toHaveText("Allow Hosted Helper to read 1 category for 90 days");
  await shoot(page, "22-consent-form");
  await form.getByRole("button", { name: /^Allow / }).click();

  await page.waitForURL(/\/complete\?status=granted&state=st-HostedHelper$/);
  await page.waitForSelector("body[data-hydrated]");
  await expect(page.getByRole("heading", { name: "Access granted" })).toBeVisible();
  const token = await page.getByLabel("Token").inputValue();
  expect(token).toMatch(/^uui_[A-Za-z0-9_-]{43}$/);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.getByRole("button", { name: "Copy" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Copied to the clipboard." })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  // Legible: the whole token is in view (nothing scrolled or clipped) at desktop and phone
  // widths, with room below the baseline for underscores, and it can be selected.
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    const box = await page.getByLabel("Token").evaluate((el) => {
      const s = getComputedStyle(el);
      return { scrollH: el.scrollHeight, clientH: el.clientHeight, scrollW: el.scrollWidth, clientW: el.clientWidth,
        fontSize: parseFloat(s.fontSize), lineHeight: parseFloat(s.lineHeight), select: s.userSelect };
    });
    expect(box.scrollH, `whole token visible at ${width}px`).toBeLessThanOrEqual(box.clientH);
    expect(box.scrollW).toBeLessThanOrEqual(box.clientW);
    expect(box.fontSize).toBeGreaterThanOrEqual(16);
    expect(box.lineHeight / box.fontSize).toBeGreaterThanOrEqual(1.4);
    expect(box.select).not.toBe("none");
  }
  await page.setViewportSize({ width: 1280, height: 720 });
  await shoot(page, "23-complete-with-token");
  await page.reload();
  await page.waitForSelector("body[data-hydrated]");
  await expect(page.getByLabel("Token")).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Manage your Memory Passport" })).toHaveAttribute("href", "/manage");
});

test("(b) registered redirect: code back to the app, exchanged server-side for a token", async ({ page, request }) => {
  let landed = "";
  await page.route("http://localhost:9999/**", (route) => {
    landed = route.request().url();
    return route.fulfill({ status: 200, contentType: "text/html", body: "<h1>Back in the app</h1>" });
  });
  await open(page, consentUrl("Callback Coach", { redirect_uri: CALLBACK, link_token: "app-user-7" }));
  await signInWithCode(page, "grace@example.com");
  await expect(page.getByRole("region", { name: /^Choose what/ }).getByText("Access: read only", { exact: true })).toBeVisible();
  await page.getByLabel("1 year").check();
  await page.getByRole("button", { name: /^Allow / }).click();
  await page.waitForURL("http://localhost:9999/**");
  const url = new URL(landed);
  expect(url.origin + url.pathname).toBe(CALLBACK);
  expect(url.searchParams.get("status")).toBe("granted");
  expect(url.searchParams.get("state")).toBe("st-CallbackCoach");
  const code = url.searchParams.get("code")!;
  expect(code).toMatch(/^mpc_/);

  const res = await request.post("/v1/universal/token", {
    headers: { Authorization: `ApiKey ${agents["Callback Coach"].secret}` },
    data: { code, redirect_uri: CALLBACK },
  });
  expect(res.status()).toBe(200);
  const data = (await res.json()).data;
  expect(data.uui_token).toMatch(/^uui_/);
  expect(data.grant.categories).toEqual(["preference", "goal"]);
  expect(data.grant.access_type).toBe("read_only");
  expect(data.link_token).toBe("app-user-7");
  const again = await request.post("/v1/universal/token", {
    headers: { Authorization: `ApiKey ${agents["Callback Coach"].secret}` },
    data: { code, redirect_uri: CALLBACK },
  });
  expect(again.status()).toBe(400);
});

test("(c) deny returns to the app with status=denied", async ({ page }) => {
  let landed = "";
  await page.route("http://localhost:9999/**", (route) => {
    landed = route.request().url();
    return route.fulfill({ status: 200, body: "denied" });
  });
  await open(page, consentUrl("Callback Coach", { redirect_uri: CALLBACK }));
  await signInWithCode(page, "linus@example.com");
  await page.getByRole("button", { name: "Deny" }).click();
  await page.waitForURL("http://localhost:9999/**");
  expect(landed).toBe(`${CALLBACK}?status=denied&state=st-CallbackCoach`);
});

test("(d) re-consent shows the existing grant and updates it", async ({ page }) => {
  await open(page, consentUrl("Hosted Helper"));
  await signInWithCode(page, "ada@example.com");
  await expect(page.getByRole("note").filter({ hasText: "You already gave this app access" })).toContainText("Your goals");
  await shoot(page, "24-consent-reconsent");
  await page.getByLabel(/People in your life/).check();
  await page.getByLabel("Until I revoke").check();
  await page.getByRole("button", { name: /^Allow / }).click();
  await page.waitForURL(/\/complete\?status=granted/);
  await open(page, consentUrl("Hosted Helper"));
  await expect(page.getByRole("note").filter({ hasText: "You already gave this app access" })).toContainText("People in your life");
  await expect(page.getByRole("note").filter({ hasText: "You already gave this app access" })).toContainText("until you revoke it");
});

/** Presses Tab until the element with `id` has focus. */
async function tabTo(page: Page, id: string) {
  for (let i = 0; i < 60; i++) {
    if ((await page.evaluate(() => document.activeElement?.id)) === id) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`could not reach #${id} with Tab`);
}

test("(f) the whole form works from the keyboard alone", async ({ page }) => {
  await open(page, consentUrl("Hosted Helper"));
  await tabTo(page, "person-email");
  await page.keyboard.type("keys@example.com");
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Code from the email")).toBeFocused();
  await page.keyboard.type(await codeFor("keys@example.com"));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: /^Choose what/ })).toBeVisible();
  await tabTo(page, "consent-cat-relationship");
  await page.keyboard.press("Space");
  await tabTo(page, "consent-duration-30_days");
  await page.keyboard.press("Space");
  await expect(page.getByLabel("30 days")).toBeChecked();
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/complete\?status=granted/);
  await expect(page.getByRole("heading", { name: "Access granted" })).toBeVisible();
});

test("(g) a link inside the app to the consent page loads it from the server", async ({ page }) => {
  // The app's WebAssembly holds no consent page: should its router ever follow a link to
  // one, the page is fetched whole, as an app's link would open it.
  await open(page, "/");
  await page.evaluate((url) => {
    const a = document.createElement("a");
    a.href = url;
    a.id = "in-app-link";
    a.textContent = "Connect";
    document.querySelector("main")!.append(a);
  }, consentUrl("Hosted Helper"));
  await page.click("#in-app-link");
  await page.waitForURL(/\/consent\?agent_id=/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Hosted Helper");
  await page.waitForSelector("body[data-hydrated]");
  await expect(page.locator('script[src^="/assets/consent."]')).toHaveCount(1);
  await expect(page.getByLabel("Email address")).toBeVisible();
});
