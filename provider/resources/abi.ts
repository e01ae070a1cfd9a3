/**
 * The version of the calling convention between the serialized shims
 * (sdk/shims.ts, stored in every stack's state) and the implementation they
 * load (host.ts). A shim records the number it was written with; an
 * implementation refuses a shim newer than it understands.
 *
 * Dependency-free on purpose: sdk/shims.ts loads it in every Pulumi program,
 * and nothing of the provider may come with it.
 */
export const SHIM_ABI = 1;
