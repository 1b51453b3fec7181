import { expect, Page, test } from "@playwright/test";
import { spawn } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { OAuthClientProvider, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import { createAgent, failOnBrowserErrors, open, ROOT, run, shoot, signInWithCode } from "./helpers";

// Assistants connect over MCP: the official MCP SDKs (Python, then TypeScript) register
// themselves with our OAuth server, and the person answers the consent page in Chromium, signing
// in with the code from the outbox, choosing categories, duration and access; later they revoke
// the app on /manage.
test.describe.configure({ mode: "serial" });
failOnBrowserErrors();

const EMAIL = "mcp-person@example.com";
/** Where the SDKs say they listen for the answer (a native app's loopback address). */
const CALLBACK_ORIGIN = "http://127.0.0.1:33418";
const LABELS: Record<string, string> = {
  preference: "Your preferences and settings",
  fact: "Facts about you",
  goal: "Your goals",
  procedure: "How you do things",
  relationship: "People in your life",
  expertise: "Your skills and knowledge",
};

/** The addresses the consent page sent the browser back to, per page (the app's loopback
 * listener, played by the browser: nothing listens there). */
const landings = new WeakMap<Page, string[]>();

async function catchCallbacks(page: Page) {
  if (landings.has(page)) return;
  landings.set(page, []);
  await page.route(`${CALLBACK_ORIGIN}/**`, (route) => {
    landings.get(page)!.push(route.request().url());
    return route.fulfill({ status: 200, contentType: "text/html", body: "<h1>Back in the app</h1>" });
  });
}

/** Follows an authorization URL in the browser as the person would, answers the consent page
 * with `categories` and `access`, and returns the address the page sent the browser back to. */
/** The categories to tick, or `{ offered }`: these, after checking that the page already ticked them. */
type Choice = string[] | { offered: string[] };

async function consent(page: Page, url: string, categories: Choice, access: "read_only" | "read_write", shot?: string): Promise<string> {
  await catchCallbacks(page);
  const before = landings.get(page)!.length;
  await page.goto(url);
  const form = page.getByRole("region", { name: /^Choose what/ });
  const signIn = page.getByLabel("Email address");
  await expect(form.or(signIn)).toBeVisible();
  if (shot) {
    await expect(page.getByRole("note")).toContainText("Not reviewed: this app registered itself.");
    await shoot(page, shot);
  }
  if (await signIn.isVisible()) await signInWithCode(page, EMAIL);
  for (const [name, label] of Object.entries(LABELS)) {
    const wanted = Array.isArray(categories) ? categories : categories.offered;
    if (!Array.isArray(categories) && wanted.includes(name)) await expect(form.getByLabel(label)).toBeChecked();
    await form.getByLabel(label).setChecked(wanted.includes(name));
  }
  await form.getByLabel("90 days").check();
  const choice = form.getByLabel(access === "read_only" ? "Read only" : "Read and write");
  if (await choice.count()) await choice.check();
  if (shot) await shoot(page, `${shot}-choices`);
  await form.getByRole("button", { name: /^Allow / }).click();
  await page.waitForURL(`${CALLBACK_ORIGIN}/**`);
  await expect.poll(() => landings.get(page)!.length).toBeGreaterThan(before);
  return landings.get(page)![before];
}

test.beforeAll(async ({ browser, request }) => {
  // Another app the person uses has already remembered things, in several categories.
  run(["tenant", "create", "--email", "mcp-maker@yourapp.com", "--password-stdin"], "a long tenant password\n");
  const apiKey = run(["tenant", "api-key", "--email", "mcp-maker@yourapp.com", "--name", "e2e-mcp"]);
  const writer = await createAgent(request, apiKey, { name: "Notebook", description: "Notes.", website_url: "https://yourapp.com", redirect_uris: [], requested_access: "read_write" });
  const page = await browser.newPage();
  await open(page, `/consent?agent_id=${writer.id}&categories=preference,fact,goal&state=s`);
  await signInWithCode(page, EMAIL);
  await page.getByLabel("90 days").check();
  await page.getByRole("button", { name: /^Allow / }).click();
  const token = await page.getByLabel("Token").inputValue();
  await page.close();
  for (const said of ["I prefer green tea in the morning.", "I work as a nurse in Leeds."]) {
    const res = await request.post("/v1/universal/memories/add", {
      headers: { Authorization: `ApiKey ${writer.secret}`, "X-MemoryOS-UUI": token },
      data: { messages: [{ role: "user", content: said }] },
    });
    expect(res.status()).toBe(202);
  }
});

test("the official MCP Python SDK: discovery, registration, consent in the browser, step-up, refresh, revoke", async ({ page, baseURL }) => {
  test.setTimeout(120_000);
  const python = process.env.MP_MCP_PYTHON ?? path.join(ROOT, "tests/mcp/.venv/bin/python");
  const child = spawn(python, [path.join(ROOT, "tests/mcp/check_mcp_sdk.py")], { env: { ...process.env, MP_BASE_URL: baseURL! } });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  // What the person chooses each time the SDK asks: two categories read-only; then, for the
  // step-up, the same two plus fact with write (the page must already offer all three:
  // nothing given before is lost); then once more after its tokens were revoked (a refresh
  // token used twice).
  const choices: [Choice, "read_only" | "read_write"][] = [[["preference", "goal"], "read_only"], [{ offered: ["preference", "goal", "fact"] }, "read_write"], [["goal"], "read_only"]];
  const lines: string[] = [];
  let rounds = 0;
  for await (const line of readline.createInterface({ input: child.stdout })) {
    lines.push(line);
    if (line.startsWith("AUTHORIZE ")) {
      const [categories, access] = choices[Math.min(rounds, choices.length - 1)];
      const back = await consent(page, line.slice("AUTHORIZE ".length), categories, access, rounds === 0 ? "60-mcp-consent" : undefined);
      rounds += 1;
      child.stdin.write(`CALLBACK ${back}\n`);
    } else if (line === "REVOKE") {
      await open(page, "/manage");
      const app = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "MCP SDK check" }) });
      await expect(app).toBeVisible();
      await app.getByRole("button", { name: "Revoke" }).click();
      const dialog = page.getByRole("dialog", { name: "Revoke access for MCP SDK check?" });
      await dialog.getByRole("button", { name: "Revoke access" }).click();
      await expect(page.getByRole("region", { name: "Apps with access" }).getByRole("status")).toHaveText("MCP SDK check no longer has access to your memory.");
      child.stdin.write("REVOKED\n");
    }
  }
  expect(await exited, `${lines.join("\n")}\n${stderr}`).toBe(0);
  expect(lines.at(-1)).toBe("OK");
  expect(rounds).toBe(3);
});

/** The TypeScript SDK's OAuth client state, kept in memory as a connector would. */
class Connector implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = "";
  authorizationUrl?: URL;
  get redirectUrl() {
    return `${CALLBACK_ORIGIN}/callback`;
  }
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: "TypeScript SDK check", redirect_uris: [this.redirectUrl], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none" };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

test("the official MCP TypeScript SDK lists the tools and searches with a token got the same way", async ({ page, baseURL }) => {
  const url = new URL("/mcp", baseURL);
  const connector = new Connector();
  const first = new StreamableHTTPClientTransport(url, { authProvider: connector });
  await expect(new Client({ name: "ts-check", version: "1.0.0" }).connect(first)).rejects.toThrow(UnauthorizedError);
  expect(connector.authorizationUrl!.searchParams.get("resource")).toBe(url.toString());
  const back = new URL(await consent(page, connector.authorizationUrl!.toString(), ["preference"], "read_only"));
  await first.finishAuth(back.searchParams.get("code")!);
  expect(connector.saved!.scope).toBe("memory.preference.read");

  const client = new Client({ name: "ts-check", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url, { authProvider: connector }));
  const tools = (await client.listTools()).tools.map((t) => t.name).sort();
  expect(tools).toEqual(["list_categories", "remember", "search_memory"]);
  const result = await client.callTool({ name: "search_memory", arguments: { query: "what do I drink in the morning" } });
  const found = JSON.parse((result.content as { type: string; text: string }[])[0].text);
  expect(found.memories.map((m: { category: string }) => m.category)).toEqual(["preference"]);
  expect(found.memories[0].content).toContain("green tea");
  await client.close();
});
