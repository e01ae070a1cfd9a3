/**
 * The benchmark's SMTP sink in a process of its own (so the emulator's work
 * does not stall it), driven over IPC by bench/reconciler.ts: it sends
 * `{url}` once listening, answers `{type: "count"}` with
 * `{accepted, lastSize, cpuMs}`, and exits on `{type: "close"}`. Its one
 * argument, when given, is how many milliseconds it takes per message before
 * it answers (a relay's latency; default 0, at once).
 */
import { startSmtpSink } from "../cli/smtp-sink";

async function main(): Promise<void> {
    if (!process.send) throw new Error("sink-child must be started with an IPC channel (child_process.fork)");
    const latencyMs = Number(process.argv[2] ?? 0);
    if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`sink-child: the latency must be a number of milliseconds, not '${process.argv[2]}'`);
    const sink = await startSmtpSink({
        keep: false,
        onMessage: latencyMs > 0 ? () => new Promise((resolve) => setTimeout(() => resolve(undefined), latencyMs)) : undefined,
    });
    process.on("message", (msg: { type: string }) => {
        if (msg.type === "count") {
            const last = sink.messages[sink.messages.length - 1];
            const cpu = process.cpuUsage();
            process.send!({ type: "count", accepted: sink.accepted, lastSize: last?.size ?? 0, cpuMs: (cpu.user + cpu.system) / 1000 });
            // Only counts are needed: drop the bookkeeping of what was counted.
            sink.messages.splice(0, sink.messages.length - 1);
        } else if (msg.type === "close") {
            void sink.close().then(() => process.exit(0));
        }
    });
    process.send({ type: "ready", url: sink.url });
}

main().catch((err: unknown) => {
    process.stderr.write(`sink-child: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
});
