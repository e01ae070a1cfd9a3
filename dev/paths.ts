/**
 * Locations in this checkout that the tests, the benchmarks and the demo
 * need, resolved from the compiled file's place (dist/dev).
 */
import * as path from "path";

/** The repository root. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");
/** Microsoft's published examples, kept in the repository as test vectors (see tests/vectors/azure-billing/SOURCES.md). */
export const MICROSOFT_EXAMPLES = path.join(REPO_ROOT, "tests", "vectors", "azure-billing", "examples");
