/**
 * The admin API under `/_emulator/`: what a test or a demo needs to drive the
 * emulator from outside, and nothing a person would do in the Azure portal
 * (those changes go through the Azure-facing API with a principal's token).
 *
 * No token is needed: the emulator listens on loopback only. Admin requests
 * are not written to the request log.
 *
 * | method | path | body | answer |
 * |---|---|---|---|
 * | GET | `/_emulator` | | what this is and the routes |
 * | GET | `/_emulator/principals` | | principals with tokens and role assignments |
 * | GET, POST | `/_emulator/settings` | partial settings | the settings |
 * | GET, POST, DELETE | `/_emulator/faults` | a fault rule | the active rules |
 * | GET, DELETE | `/_emulator/requests` | | the request log |
 * | GET | `/_emulator/state` | | the raw store snapshot |
 * | GET | `/_emulator/operations` | | the long-running operations kept (run-time, not state) |
 * | POST | `/_emulator/billingAccounts/{ba}/billingProfiles` | `{count}` or `{name, displayName}` | `{names}` |
 * | POST | `/_emulator/billingAccounts/{ba}/billingProfiles/{bp}/invoices` | `{amountDue?}` | the invoice |
 */
import { z } from "zod";
import * as names from "../provider/billing/names";
import { requireAccount, requireProfile } from "./authz";
import { fail } from "./errors";
import { documentUrls, type Reply } from "./handlers";
import { roleScopeId, type RoleScope } from "../provider/billing/paths";
import { type EmulatorState, SettingsPatch, definitionOf, invoiceView, sameName } from "./model";
import { FaultRule, type Runtime } from "./runtime";
import { addExtraProfiles, addProfile, issueInvoiceNow } from "./builders";
import type { EmulatorStore } from "./store";

export interface AdminContext {
    store: EmulatorStore;
    runtime: Runtime;
    now: () => Date;
    origin: string;
}

/** A seeded principal as the admin API and the CLI show it. */
export interface PrincipalSummary {
    id: string;
    tenantId: string;
    mail: string | null;
    userPrincipalName: string;
    displayName: string;
    token: string;
    roleAssignments: Array<RoleScope & { scope: string; roleName: string }>;
}

/** Every principal with its token and current role assignments. */
export function principalsView(state: Readonly<EmulatorState>): PrincipalSummary[] {
    return state.principals.map((p) => ({
        id: p.id,
        tenantId: p.tenantId,
        mail: p.mail,
        userPrincipalName: p.userPrincipalName,
        displayName: p.displayName,
        token: p.token,
        roleAssignments: state.roleAssignments
            .filter((a) => sameName(a.principalId, p.id))
            .map((a) => ({
                scope: roleScopeId(a),
                roleName: definitionOf(state, a)?.roleName ?? a.roleDefinitionName,
                billingAccountName: a.billingAccountName,
                billingProfileName: a.billingProfileName,
            })),
    }));
}

const AddProfiles = z.union([
    z.strictObject({ count: z.number().int().min(1).max(1000) }),
    z.strictObject({ name: names.billingProfileName, displayName: z.string().min(1).max(200) }),
]);
const IssueInvoice = z.strictObject({ amountDue: z.number().min(0).max(1e9).optional() });

function parseBody<S extends z.ZodType>(schema: S, raw: Buffer, what: string): z.output<S> {
    let value: unknown = {};
    if (raw.length > 0) {
        try {
            value = JSON.parse(raw.toString("utf8"));
        } catch (err) {
            throw fail.badRequest("InvalidRequestContent", `${what}: the body is not valid JSON (${(err as Error).message}).`);
        }
    }
    const r = schema.safeParse(value);
    if (!r.success) {
        const detail = r.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
        throw fail.badRequest("InvalidRequestContent", `${what}: ${detail}`);
    }
    return r.data;
}

const ROUTES = [
    "GET /_emulator/principals",
    "GET|POST /_emulator/settings",
    "GET|POST|DELETE /_emulator/faults",
    "GET|DELETE /_emulator/requests",
    "GET /_emulator/state",
    "GET /_emulator/operations",
    "POST /_emulator/billingAccounts/{billingAccountName}/billingProfiles",
    "POST /_emulator/billingAccounts/{billingAccountName}/billingProfiles/{billingProfileName}/invoices",
];

/** Answers one admin request. Errors are thrown for the factory (ARM envelope). */
export async function handleAdmin(ctx: AdminContext, method: string, url: URL, raw: Buffer): Promise<Reply> {
    const path = url.pathname.replace(/\/+$/, "");
    const route = `${method} ${path}`;

    if (route === "GET /_emulator") {
        return { status: 200, body: { name: "azure-email-invoicing emulator", armEndpoint: ctx.origin, graphEndpoint: ctx.origin, routes: ROUTES } };
    }
    if (route === "GET /_emulator/principals") {
        return { status: 200, body: { value: ctx.store.read(principalsView) } };
    }
    if (route === "GET /_emulator/settings") {
        return { status: 200, body: ctx.store.read((s) => s.settings) };
    }
    if (route === "POST /_emulator/settings") {
        const patch = parseBody(SettingsPatch, raw, "settings");
        const settings = ctx.store.update((d) => {
            d.settings = { ...d.settings, ...patch };
            return d.settings;
        });
        return { status: 200, body: settings };
    }
    if (route === "GET /_emulator/faults") {
        return { status: 200, body: { value: ctx.runtime.faults.list() } };
    }
    if (route === "POST /_emulator/faults") {
        ctx.runtime.faults.add(parseBody(FaultRule, raw, "fault rule"));
        return { status: 201, body: { value: ctx.runtime.faults.list() } };
    }
    if (route === "DELETE /_emulator/faults") {
        ctx.runtime.faults.clear();
        return { status: 204 };
    }
    if (route === "GET /_emulator/requests") {
        return { status: 200, body: { value: ctx.runtime.requests.list() } };
    }
    if (route === "DELETE /_emulator/requests") {
        ctx.runtime.requests.clear();
        return { status: 204 };
    }
    if (route === "GET /_emulator/state") {
        return { status: 200, body: ctx.store.snapshot() };
    }
    if (route === "GET /_emulator/operations") {
        return { status: 200, body: { value: structuredClone(ctx.runtime.operations.list(ctx.now())) } };
    }

    const profiles = /^\/_emulator\/billingAccounts\/([^/]+)\/billingProfiles$/i.exec(path);
    if (profiles && method === "POST") {
        const accountName = decodeURIComponent(profiles[1]);
        const body = parseBody(AddProfiles, raw, "billing profiles");
        const now = ctx.now();
        // The builders throw 404 and 409 as EmulatorErrors; anything else is an emulator bug and the factory answers 500.
        const created = ctx.store.update((draft) => {
            const account = requireAccount(draft, accountName);
            if ("count" in body) return addExtraProfiles(draft, account.name, body.count, now);
            return [addProfile(draft, { billingAccountName: account.name, name: body.name, displayName: body.displayName, now }).name];
        });
        return { status: 201, body: { names: created } };
    }

    const invoices = /^\/_emulator\/billingAccounts\/([^/]+)\/billingProfiles\/([^/]+)\/invoices$/i.exec(path);
    if (invoices && method === "POST") {
        const body = parseBody(IssueInvoice, raw, "invoice");
        const now = ctx.now();
        const invoice = ctx.store.update((draft) => {
            const account = requireAccount(draft, decodeURIComponent(invoices[1]));
            const profile = requireProfile(draft, account, decodeURIComponent(invoices[2]));
            return issueInvoiceNow(draft, profile, now, body.amountDue);
        });
        return { status: 201, body: invoiceView(invoice, documentUrls(ctx)) };
    }

    throw fail.notFound("NotFound", `No admin route matches '${route}'. Routes: ${ROUTES.join("; ")}.`);
}
