/**
 * The emulator's admin API (`/_emulator/...`) over HTTP, as the tests and the
 * benchmarks drive it from outside the emulator's process.
 */

/**
 * One call of the emulator's admin API (`<base>/_emulator/<path>`), with a
 * JSON body when given; returns the parsed JSON answer (undefined when empty)
 * and throws with the status and body on anything but 2xx.
 */
export async function adminCall(base: string, method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${base}/_emulator/${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`admin ${method} ${path} -> ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
}
