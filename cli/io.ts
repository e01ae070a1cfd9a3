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

/**
 * A writer for the output of a long-running command (the emulator, the
 * sandbox) that outlives its reader: once the stream fails (EPIPE when the
 * reader closed the pipe, as `emulator | head -1` does after the first
 * line), further output is dropped and the command keeps serving, instead
 * of dying of an unhandled 'error' event.
 */
export function survivingWriter(stream: NodeJS.WritableStream): (text: string) => void {
    let open = true;
    stream.on("error", () => {
        open = false;
    });
    return (text) => {
        if (open) stream.write(text);
    };
}
