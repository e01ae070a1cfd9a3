/**
 * What the resource classes do around Pulumi's resource constructor.
 *
 * Pulumi's Node SDK gives every promise it makes while a resource is
 * constructed a debugging stack trace (`new Error().stack`, up to
 * `Error.stackTraceLimit` frames): four for each property (its value, whether
 * it is known, whether it is secret, its dependencies), and the outputs of our
 * resources are properties too, 9 and 12 of them. Pulumi's program runner
 * installs source-map-support, which maps every frame of every trace, so those
 * traces were most of what constructing one of our resources cost: about 10 ms
 * of CPU each on the benchmark machine, twice a no-op dynamic resource with
 * the same inputs (bench/pulumi.ts). Pulumi reads them only to report leaked
 * promises, and only when `PULUMI_DEBUG_PROMISE_LEAKS` is set.
 *
 * So, while our constructors run Pulumi's, errors capture no frames, unless
 * that variable is set. What the engine is told is unchanged: Pulumi lifts the
 * limit itself to find the resource's source position. An error thrown inside
 * (a bad option, a stack transformation that fails) gets the frames of the
 * constructor's caller, so it still says where the program made the resource.
 */

export const PROMISE_LEAKS_ENV = "PULUMI_DEBUG_PROMISE_LEAKS";

/**
 * The stack-trace limit of one constructor's call to Pulumi's. `end` restores
 * the limit (once); `failed` ends it too, and gives an error thrown inside the
 * frames of whoever called `ctor` (pass `new.target`).
 */
export interface TraceWindow {
    end(): void;
    failed(err: unknown, ctor: Function): unknown;
}

export function openTraceWindow(): TraceWindow {
    const limit = Error.stackTraceLimit;
    const quiet = !process.env[PROMISE_LEAKS_ENV];
    if (quiet) Error.stackTraceLimit = 0;
    let open = quiet;
    const end = () => {
        if (open) Error.stackTraceLimit = limit;
        open = false;
    };
    return {
        end,
        failed(err, ctor) {
            const wasQuiet = open;
            end();
            return wasQuiet ? withCallerFrames(err, ctor) : err;
        },
    };
}

/**
 * An error made while frames were not captured, given the frames of the code
 * that called `ctor`. An error that has frames keeps them.
 */
export function withCallerFrames(err: unknown, ctor: Function): unknown {
    if (!(err instanceof Error) || (typeof err.stack === "string" && /\n\s+at /.test(err.stack))) return err;
    const here: { stack?: string } = {};
    Error.captureStackTrace(here, ctor);
    const frames = (here.stack ?? "").split("\n").slice(1).join("\n");
    const head = typeof err.stack === "string" && err.stack ? err.stack : `${err.name}: ${err.message}`;
    err.stack = frames ? `${head}\n${frames}` : head;
    return err;
}
