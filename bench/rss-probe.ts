/**
 * Preloaded into a benchmarked child process (`node -r dist/bench/rss-probe.js ...`):
 * at exit, writes the process's peak resident set size (bytes) and CPU time
 * (user + system, ms) as JSON `{rssBytes, cpuMs}` to the file named by
 * `BENCH_RSS_FILE`.
 */
import * as fs from "node:fs";

/**
 * The peak RSS of this program, in bytes. Linux's `VmHWM` belongs to the
 * address space made at exec, whereas `getrusage`'s maxRSS (kilobytes) also
 * remembers the forked copy of the parent before exec, which here is the
 * benchmark itself holding every PDF, so it would overstate the child.
 */
function peakRss(maxRssKb: number): number {
    try {
        const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync("/proc/self/status", "utf8"));
        if (m) return Number(m[1]) * 1024;
    } catch {
        // not Linux
    }
    return maxRssKb * 1024;
}

const file = process.env.BENCH_RSS_FILE;
if (file) {
    process.on("exit", () => {
        const usage = process.resourceUsage();
        // CPU times are in microseconds.
        fs.writeFileSync(file, JSON.stringify({ rssBytes: peakRss(usage.maxRSS), cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }));
    });
}
