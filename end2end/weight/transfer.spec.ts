import { Browser, expect, test } from "@playwright/test";
import { createAgent, run } from "../tests/helpers";

// What a person's browser downloads before a page is interactive, in the release build
// (`make bench` builds it and runs this file): every request made until the app marks
// <body data-hydrated>, counted as the bytes on the wire (compressed bodies and headers), with
// an empty cache each time. /consent is the page people reach from an app, often on a phone:
// it must stay at or under 200 KB and be interactive within 200 ms on localhost, medians of 7
// runs. (The consent flow loads no WebAssembly: its one script marks the page.)
const RUNS = 7;
const CONSENT_BYTES = 200_000;
const CONSENT_MS = 200;

type Load = { bytes: number; ms: number; files: string[] };

/** Opens `url` in a fresh context (empty cache) and measures it up to hydration. */
async function load(browser: Browser, baseURL: string, url: string): Promise<Load> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await page.addInitScript(() => {
    const seen = new MutationObserver(() => {
      if (document.body?.hasAttribute("data-hydrated")) {
        (window as unknown as { hydratedAt: number }).hydratedAt = performance.now();
        seen.disconnect();
      }
    });
    seen.observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
  });
  const requests: import("@playwright/test").Request[] = [];
  const collect = (r: import("@playwright/test").Request) => requests.push(r);
  page.on("request", collect);
  await page.goto(url);
  const ms = await (await page.waitForFunction(() => (window as unknown as { hydratedAt?: number }).hydratedAt)).jsonValue() as number;
  page.off("request", collect);
  let bytes = 0;
  const files: string[] = [];
  for (const r of requests) {
    const sizes = await r.sizes();
    bytes += sizes.responseBodySize + sizes.responseHeadersSize;
    files.push(new URL(r.url()).pathname);
  }
  await context.close();
  return { bytes, ms, files };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

let consentUrl = "";

test.beforeAll(async ({ request }) => {
  // A new worker (after a failed test) runs this again on the same database: a new tenant.
  const email = `weight-${Date.now()}@yourapp.com`;
  run(["tenant", "create", "--email", email, "--password-stdin"], "a long tenant password\n");
  const apiKey = run(["tenant", "api-key", "--email", email, "--name", "weight"]);
  const agent = await createAgent(request, apiKey, { name: "Support Copilot", description: "Answers your support questions.", website_url: "https://yourapp.com", default_categories_requested: ["preference", "goal"], requested_access: "read_write" });
  consentUrl = `/consent?${new URLSearchParams({ agent_id: agent.id, state: "weight" })}`;
});

test("/consent transfers at most 200 KB and is interactive within 200 ms (medians of 7)", async ({ browser, baseURL }) => {
  const loads: Load[] = [];
  for (let i = 0; i < RUNS; i++) loads.push(await load(browser, baseURL!, consentUrl));
  const bytes = median(loads.map((l) => l.bytes));
  const ms = median(loads.map((l) => l.ms));
  console.log(`/consent: ${bytes} B before hydration (runs: ${loads.map((l) => l.bytes).join(", ")})`);
  console.log(`/consent: hydrated after ${ms.toFixed(1)} ms (runs: ${loads.map((l) => l.ms.toFixed(1)).join(", ")})`);
  console.log(`/consent files: ${loads[0].files.join(" ")}`);
  expect(bytes).toBeLessThanOrEqual(CONSENT_BYTES);
  expect(ms).toBeLessThanOrEqual(CONSENT_MS);
});

test("every other page loads its own part when opened, and says what it costs", async ({ browser, baseURL }) => {
  const wasm = (files: string[]) => files.filter((f) => f.endsWith(".wasm"));
  expect(wasm((await load(browser, baseURL!, consentUrl)).files), "/consent loads no WebAssembly").toEqual([]);
  for (const url of ["/", "/manage", "/signin", "/signup", "/docs/api", "/passport/link", "/complete"]) {
    const runs: Load[] = [];
    for (let i = 0; i < 3; i++) runs.push(await load(browser, baseURL!, url));
    const bytes = median(runs.map((l) => l.bytes));
    const ms = median(runs.map((l) => l.ms));
    console.log(`${url}: ${bytes} B before hydration, hydrated after ${ms.toFixed(1)} ms; wasm: ${wasm(runs[0].files).join(" ")}`);
    // The consent flow's pages load its one script and no WebAssembly; every other page the
    // app's first chunk and a chunk of its own.
    if (["/passport/link", "/complete"].includes(url)) expect(wasm(runs[0].files), url).toEqual([]);
    else expect(wasm(runs[0].files).length, url).toBeGreaterThanOrEqual(2);
  }
});
