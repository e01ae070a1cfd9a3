/**
 * Mocha root hooks, loaded for every tier through `.mocharc.json`'s `require`.
 *
 * Before anything runs: the link `node_modules/azure-email-invoicing` that
 * `npm run build` makes (scripts/link-self.js). Pulumi's serialized providers
 * and the examples load this package by name, so without it
 * tests/unit/resources/shims.test.ts and tests/unit/examples.test.ts fail after
 * a plain `tsc`. Idempotent: an existing, correct link is left alone.
 */
import * as path from "path";
import { REPO_ROOT } from "../../dev/paths";

const { linkSelf } = require(path.join(REPO_ROOT, "scripts", "link-self.js")) as { linkSelf(): void };

export const mochaHooks = {
    beforeAll(): void {
        linkSelf();
    },
};
