import { expect, test } from "@playwright/test";
import { expectAccessible, failOnBrowserErrors, open } from "./helpers";

// The pages anyone can reach without an account, and their error states, checked by axe-core
// at a desktop width, at 200 % zoom of a 1280 px window (640 CSS px) and at 320 px: no serious
// or critical violation, and no horizontal scrolling. The signed-in pages and their dialogs are
// checked in their own stories, wherever those take a screenshot (helpers' `shoot`).
failOnBrowserErrors();

const PAGES: [string, string][] = [
  ["home", "/"],
  ["tenant sign-in", "/signin"],
  ["tenant sign-up", "/signup"],
  ["API reference", "/docs/api"],
  ["manage, signed out", "/manage"],
  ["operator sign-in", "/operator"],
  ["consent link for an unknown app", "/consent?agent_id=00000000-0000-0000-0000-000000000000"],
  ["consent link without an app", "/consent"],
  ["completion, denied", "/complete?status=denied&state=s1"],
  ["completion, granted without a token", "/complete?status=granted&state=s1"],
  ["page not found", "/no/such/page"],
];

for (const [name, url] of PAGES) {
  test(`${name} (${url}) is accessible at every width`, async ({ page }) => {
    for (const width of [1280, 640, 320]) {
      await page.setViewportSize({ width, height: 900 });
      await open(page, url);
      await expectAccessible(page, `${name} at ${width} px`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${name}: no horizontal scrolling at ${width} px`).toBeLessThanOrEqual(0);
    }
  });
}

test("focus is visible on every control of the home page", async ({ page }) => {
  await open(page, "/");
  // The header's links and the two cards' buttons, until focus leaves the page.
  let stops = 0;
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press("Tab");
    const ring = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return "left";
      const s = getComputedStyle(el);
      return s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0 ? "outline" : s.boxShadow !== "none" ? "shadow" : "none";
    });
    if (ring === "left") break;
    stops++;
    expect(ring, `focus ring on tab stop ${stops}`).not.toBe("none");
  }
  expect(stops).toBeGreaterThanOrEqual(6);
});
