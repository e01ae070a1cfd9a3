/**
 * The one way this package waits: a timer that an abort signal ends early.
 * The client waits between polls of a long-running operation, the
 * reconciler between retries and between passes of `--watch`.
 */

/** Resolves after `ms` milliseconds, or at once when `signal` aborts (it never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        if (signal?.aborted || ms <= 0) return resolve();
        const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener("abort", done, { once: true });
    });
}
