import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// The front end's weight, measured on the release build by `make bench` (not part of
// `make test`): scripts/bench.sh builds it and sets MP_E2E_BIN and LEPTOS_HASH_FILES.
export default defineConfig({ ...base, testDir: "./weight" });
