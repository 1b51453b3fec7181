import { expect, test } from "@playwright/test";
import { failOnBrowserErrors, open, shoot } from "./helpers";

failOnBrowserErrors();

// The API reference a developer reads: reached from the start page, every operation of the
// served OpenAPI document on it, and its table of contents usable from the keyboard.
test("the API reference lists every operation of /v1/openapi.json", async ({ page, request }) => {
  const doc = await (await request.get("/v1/openapi.json")).json();
  const operations: string[] = [];
  for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
    for (const method of Object.keys(item)) operations.push(`${method.toUpperCase()} ${path}`);
  }
  expect(operations.length).toBe(22);

  await open(page, "/");
  await page.getByRole("link", { name: "API", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: /Memory Passport API/ })).toBeVisible();
  const toc = page.getByRole("navigation", { name: "Endpoints" });
  for (const op of operations) {
    await expect(toc.getByRole("link", { name: op, exact: true })).toHaveCount(1);
    await expect(page.getByRole("heading", { level: 3, name: op, exact: true })).toHaveCount(1);
  }

  // Keyboard: focus the contents entry for add and follow it.
  const add = toc.getByRole("link", { name: "POST /v1/universal/memories/add", exact: true });
  await add.focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/#post-v1-universal-memories-add$/);
  const card = page.locator("#post-v1-universal-memories-add");
  await expect(card).toBeInViewport();
  await expect(card.getByRole("table", { name: "JSON body" })).toContainText("messages");
  await expect(card.getByRole("table", { name: "Answers" })).toContainText("write_not_permitted");
  await shoot(page, "api-docs");
});
