/** Locations tests need, resolved from the compiled file's place (dist/tests/support). */
import * as path from "path";

/** The repository root. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
/** Microsoft's published examples (shared/azure-billing/examples), beside the repository. */
export const MICROSOFT_EXAMPLES = path.resolve(REPO_ROOT, "..", "shared", "azure-billing", "examples");
