/**
 * What a command may touch of the outside world. Passed in by `main`, so a
 * test can run a command in-process with its own streams and environment.
 */
export interface CommandIo {
    stdout: NodeJS.WritableStream & { isTTY?: boolean };
    /** Progress and diagnostics; `isTTY` decides between a live progress line and plain lines. */
    stderr: NodeJS.WritableStream & { isTTY?: boolean };
    /** The environment, read once by the command at start-up. */
    env: Record<string, string | undefined>;
    cwd: string;
}
