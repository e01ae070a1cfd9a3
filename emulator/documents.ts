/**
 * SAS-like document links, as Azure hands out for invoice downloads: a URL on
 * a storage endpoint (here `/_blob/...` on the emulator's own origin) that
 * works without a bearer token until it expires, because it carries an
 * expiry (`se`) and an HMAC signature (`sig`) over the path and the expiry.
 * A changed path, expiry or signature is refused with 403, as Storage does.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { fail } from "./errors";
import { isoSeconds } from "./builders";

/** How long a document link works after the download operation completes. */
export const DOCUMENT_LINK_LIFETIME_MS = 60 * 60 * 1000;

const BLOB_PATH = /^\/_blob\/invoices\/([A-Za-z0-9-]+)\/([A-Za-z0-9_.-]+)\.pdf$/;

export function documentPath(invoiceName: string, documentName: string): string {
    return `/_blob/invoices/${invoiceName}/${documentName}.pdf`;
}

function sign(key: string, path: string, expiry: string): string {
    return createHmac("sha256", Buffer.from(key, "base64")).update(`${path}\n${expiry}`).digest("base64url");
}

/** A link to one invoice document, valid for {@link DOCUMENT_LINK_LIFETIME_MS} from `now`. */
export function documentLink(
    key: string,
    origin: string,
    invoiceName: string,
    documentName: string,
    now: Date,
): { url: string; expiryTime: string } {
    const path = documentPath(invoiceName, documentName);
    const expiryTime = isoSeconds(new Date(now.getTime() + DOCUMENT_LINK_LIFETIME_MS));
    const query = new URLSearchParams({ sv: "2019-02-02", sr: "b", sp: "r", se: expiryTime, sig: sign(key, path, expiryTime) });
    return { url: `${origin}${path}?${query.toString()}`, expiryTime };
}

/** Whether a path is a document link path (served without a bearer token). */
export function isDocumentPath(pathname: string): boolean {
    return pathname.startsWith("/_blob/");
}

/**
 * Checks a document link's signature and expiry. Returns the invoice and
 * document it names, or throws 403 (Storage's `AuthenticationFailed`), or
 * 404 for a path that is not a document link at all.
 */
export function checkDocumentLink(key: string, url: URL, now: Date): { invoiceName: string; documentName: string } {
    const m = BLOB_PATH.exec(url.pathname);
    if (!m) throw fail.storageNotFound("The specified blob does not exist.");
    const se = url.searchParams.get("se");
    const sig = url.searchParams.get("sig");
    if (!se || !sig) throw fail.storageAuthFailed("The link has no signature (se and sig are required).");
    const expected = Buffer.from(sign(key, url.pathname, se));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        throw fail.storageAuthFailed("Signature did not match. The link was changed or was not issued by this emulator.");
    }
    const expiry = Date.parse(se);
    if (!Number.isFinite(expiry) || now.getTime() > expiry) {
        throw fail.storageAuthFailed(`Signature not valid in the specified time frame: Expiry [${se}] - Current [${isoSeconds(now)}]`);
    }
    return { invoiceName: m[1], documentName: m[2] };
}
