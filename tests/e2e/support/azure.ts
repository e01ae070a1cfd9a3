/**
 * What the emulator holds, read through its admin API (`GET /_emulator/state`,
 * `GET /_emulator/requests`): the e2e tests assert Azure's state, not the
 * CLI's word for it.
 */
import type { BillingProfileRef } from "../../../provider/billing/names";
import { expect } from "chai";
import type { RequestLogEntry, TestEmulator } from "../../support/emulator";

/** The opt-in and recipients the emulator holds for a profile. */
export async function heldEmailSettings(emu: TestEmulator, ref: BillingProfileRef): Promise<{ enabled: boolean; recipients: string[] }> {
    const state = await emu.admin.state();
    const p = (state.billingProfiles as any[]).find((x) => x.billingAccountName === ref.billingAccountName && x.name === ref.billingProfileName);
    if (!p) throw new Error(`the emulator holds no billing profile ${ref.billingProfileName}`);
    return { enabled: p.properties.invoiceEmailOptIn, recipients: p.properties.invoiceRecipients ?? [] };
}

/** Every role assignment on a profile with its role's name, as the emulator records them. */
async function heldRoleAssignments(emu: TestEmulator, ref: BillingProfileRef): Promise<Array<{ roleName: string | undefined; principalId: string }>> {
    const state = await emu.admin.state();
    const onProfile = (x: any) => x.billingAccountName === ref.billingAccountName && x.billingProfileName === ref.billingProfileName;
    const roleNames = new Map<string, string>();
    for (const d of (state.roleDefinitions as any[]).filter(onProfile)) roleNames.set(d.name, d.roleName);
    return (state.roleAssignments as any[]).filter(onProfile).map((a) => ({ roleName: roleNames.get(a.roleDefinitionName), principalId: a.principalId as string }));
}

/** The principal ids holding the Invoice manager role on a profile, as the emulator records them. */
export async function heldInvoiceManagers(emu: TestEmulator, ref: BillingProfileRef): Promise<string[]> {
    return (await heldRoleAssignments(emu, ref))
        .filter((a) => a.roleName === "Invoice manager")
        .map((a) => a.principalId)
        .sort();
}

/** Every role assignment on a profile: `<role name>:<principal id>`, sorted. */
export async function heldAssignments(emu: TestEmulator, ref: BillingProfileRef): Promise<string[]> {
    return (await heldRoleAssignments(emu, ref)).map((a) => `${a.roleName}:${a.principalId}`).sort();
}

/** Requests that change something (anything but GET). */
export function writes(log: RequestLogEntry[]): RequestLogEntry[] {
    return log.filter((e) => e.method !== "GET");
}

/** One line per request, for assertion messages. */
export function describeLog(log: RequestLogEntry[]): string {
    return log.map((e) => `${e.method} ${e.path} -> ${e.status} (${e.operation ?? "?"})`).join("\n") || "(none)";
}

/**
 * `pulumi preview --expect-no-changes` must pass with `unchanged` resources
 * reported (the stack included) and not one request to the emulator: a
 * no-change preview never calls Azure.
 */
export async function expectPreviewCallsNothing(
    emu: TestEmulator,
    stack: { preview(extra: string[]): Promise<{ code: number; output: string }>; transcript(): string },
    unchanged: number,
): Promise<void> {
    await emu.admin.clearRequests();
    const r = await stack.preview(["--expect-no-changes"]);
    expect(r.code, stack.transcript()).to.equal(0);
    expect(r.output).to.match(new RegExp(`${unchanged} unchanged`));
    const log = await emu.admin.requests();
    expect(log, describeLog(log)).to.deep.equal([]);
}
