/**
 * What a command may touch of the outside world. Passed in by `main`, so a
 * test can run a command in-process with its own streams and environment.
 */
export interface CommandIo {
    stdout: NodeJS.WritableStream & { isTTY?: boolean };
    stderr: NodeJS.WritableStream;
    /** The environment, read once by the command at start-up. */
    env: Record<string, string | undefined>;
    cwd: string;
}
