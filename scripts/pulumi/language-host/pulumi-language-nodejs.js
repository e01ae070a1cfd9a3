#!/usr/bin/env node
// @ts-check
/**
 * A minimal `pulumi-language-nodejs`: the plugin through which the Pulumi CLI
 * runs Node.js (TypeScript) programs.
 *
 * Why it exists: upstream ships this host next to the CLI, built from the Go
 * module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3.
 * On our offline machines the CLI itself builds from the Go module proxy
 * (scripts/pulumi/ensure-pulumi.sh); ensure-pulumi.sh tries the language host
 * module from the proxy too, and falls back to this file when the proxy does
 * not serve it (today it answers 403). Real users install Pulumi the usual way
 * and never run it.
 *
 * It implements `pulumirpc.LanguageRuntime` as the upstream host at the pinned
 * version does, for what our programs need:
 *   - started as `pulumi-language-nodejs [flags] <engine-address>`, it listens
 *     on 127.0.0.1:0 and prints the port on stdout;
 *   - Run starts `node <@pulumi/pulumi/cmd/run> --monitor ... <entry point>`
 *     resolved from the program directory, with the same arguments and
 *     environment (PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS,
 *     PULUMI_NODEJS_TYPESCRIPT, PULUMI_NODEJS_TSCONFIG_PATH, `nodeargs`), and
 *     reports failures the same way (exit code 32 = "already reported": bail);
 *   - GetRequiredPlugins/GetRequiredPackages answer "none": our programs use
 *     only dynamic providers, whose plugin (pulumi-resource-pulumi-nodejs) is
 *     found next to the CLI. Upstream scans node_modules for provider packages
 *     instead; a program that needs a provider plugin must have it installed.
 *   - InstallDependencies installs nothing and says so; About and
 *     GetProgramDependencies give short answers from package.json.
 * Not supported (UNIMPLEMENTED or a Run error): `runtime: bun`, attaching a
 * debugger, the synchronous-invoke pipes (`--sync`, unused by @pulumi/pulumi
 * 3.x), RunPlugin (plugins written in Node.js), Template, Pack, Link and the
 * code generators (GenerateProgram/Project/Package, i.e. `pulumi convert`,
 * `pulumi package gen-sdk`).
 *
 * Everything it needs (gRPC, generated stubs) comes from the @pulumi/pulumi
 * installed in this repository, so it runs without a build step.
 */
"use strict";

const childProcess = require("child_process");
const fs = require("fs");
const path = require("path");

const protoDir = path.dirname(require.resolve("@pulumi/pulumi/proto/language_grpc_pb"));
/** Loads a module as @pulumi/pulumi's stubs see it, so message classes and gRPC are the same instances. */
const fromProto = (/** @type {string} */ id) => require(require.resolve(id, { paths: [protoDir] }));
const grpc = fromProto("@grpc/grpc-js");
const languageGrpc = require("@pulumi/pulumi/proto/language_grpc_pb");
const languagePb = require("@pulumi/pulumi/proto/language_pb");
const pluginPb = require("@pulumi/pulumi/proto/plugin_pb");
const emptyPb = fromProto("google-protobuf/google/protobuf/empty_pb");

/** The version we report: the @pulumi/pulumi pin, which the CLI is built at too. */
const VERSION = require("@pulumi/pulumi/package.json").version;
/** `cmd/run` exits with this code after printing an error the user can act on; nothing more to say then. */
const EXIT_ALREADY_REPORTED = 32;
/** The engine's own gRPC limit (rpcutil.maxRPCMessageSize). */
const MAX_MESSAGE_BYTES = 400 * 1024 * 1024;
const OOM_MARKERS = ["<--- Last few GCs --->", "Check failed: needs_context && current_scope_ == closure_scope_"];
const OOM_MESSAGE =
    "Detected a possible out of memory error. Consider increasing the memory available to the nodejs process " +
    "by setting the `nodeargs` runtime option in Pulumi.yaml to `nodeargs: --max-old-space-size=<size>` where " +
    "`<size>` is the maximum memory in megabytes that can be allocated to nodejs. " +
    "See https://www.pulumi.com/docs/concepts/projects/project-file/#runtime-options";

/**
 * Parses the command line the CLI uses (Go `flag` syntax): `--tracing <url>`,
 * `--runtime <name>`, `--version`, the logging flags `--logtostderr` and
 * `-v=<n>`, then the engine address.
 * @param {string[]} argv
 */
function parseArgs(argv) {
    /** @type {{tracing: string, runtime: string, version: boolean, logToStderr: boolean, verbose: number, engineAddress: string}} */
    const out = { tracing: "", runtime: "nodejs", version: false, logToStderr: false, verbose: 0, engineAddress: "" };
    const valued = new Set(["tracing", "runtime", "v"]);
    let i = 0;
    for (; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--") {
            i++;
            break;
        }
        if (!arg.startsWith("-") || arg === "-") break;
        const body = arg.replace(/^--?/, "");
        const eq = body.indexOf("=");
        const name = eq < 0 ? body : body.slice(0, eq);
        let value = eq < 0 ? undefined : body.slice(eq + 1);
        if (value === undefined && valued.has(name)) value = argv[++i] ?? "";
        if (name === "tracing") out.tracing = value ?? "";
        else if (name === "runtime") out.runtime = value ?? "";
        else if (name === "v") out.verbose = Number.parseInt(value ?? "0", 10) || 0;
        else if (name === "version") out.version = value === undefined || value === "true";
        else if (name === "logtostderr") out.logToStderr = value === undefined || value === "true";
        // Other glog-style flags carry no meaning here.
    }
    out.engineAddress = argv[i] ?? "";
    return out;
}

const args = parseArgs(process.argv.slice(2));
if (args.version) {
    process.stdout.write(`v${VERSION}\n`);
    process.exit(0);
}
if (args.runtime !== "nodejs") {
    process.stderr.write(
        `pulumi-language-nodejs: runtime '${args.runtime}' is not supported by this offline language host (only nodejs)\n`,
    );
    process.exit(1);
}

/** Our stderr becomes CLI output, so debug lines appear only under `pulumi -v=<n> --logtostderr --logflow`. */
function debug(/** @type {number} */ level, /** @type {string} */ message) {
    if (args.logToStderr && args.verbose >= level) process.stderr.write(`pulumi-language-nodejs: ${message}\n`);
}

let engineAddress = args.engineAddress;
/** Programs started by Run and still running; Cancel and shutdown interrupt them. */
const running = new Set();

/**
 * Reads the `runtime.options` of Pulumi.yaml as upstream does.
 * @param {Record<string, unknown>} options
 * @returns {{typescript: boolean, tsconfig: string, nodeargs: string}}
 */
function parseOptions(options) {
    const out = { typescript: true, tsconfig: "", nodeargs: "" };
    if ("typescript" in options) {
        if (typeof options.typescript !== "boolean") throw new Error("typescript option must be a boolean");
        out.typescript = options.typescript;
    }
    if ("tsconfig" in options) {
        if (typeof options.tsconfig !== "string") throw new Error("tsconfigpath option must be a string");
        out.tsconfig = options.tsconfig;
    }
    if ("nodeargs" in options) {
        if (typeof options.nodeargs !== "string") throw new Error("nodeargs option must be a string");
        out.nodeargs = options.nodeargs;
    }
    return out;
}

/**
 * Splits `nodeargs` like a POSIX shell would (quotes and backslashes, no expansion).
 * @param {string} text
 */
function shellSplit(text) {
    /** @type {string[]} */
    const words = [];
    let word = "";
    let inWord = false;
    /** @type {string | null} */
    let quote = null;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quote === "'") {
            if (c === "'") quote = null;
            else word += c;
        } else if (quote === '"') {
            if (c === '"') quote = null;
            else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) word += text[++i];
            else word += c;
        } else if (c === "'" || c === '"') {
            quote = c;
            inWord = true;
        } else if (c === "\\" && i + 1 < text.length) {
            word += text[++i];
            inWord = true;
        } else if (/\s/.test(c)) {
            if (inWord) words.push(word);
            word = "";
            inWord = false;
        } else {
            word += c;
            inWord = true;
        }
    }
    if (quote) throw new Error(`nodeargs: unterminated ${quote} quote in ${JSON.stringify(text)}`);
    if (inWord) words.push(word);
    return words;
}

/**
 * Serializes the stack's configuration the way `cmd/run` reads it: keys in the
 * old `<namespace>:config:<name>` form, which every @pulumi/pulumi accepts.
 * @param {any} req a pulumirpc.RunRequest
 */
function configJson(req) {
    /** @type {Record<string, string>} */
    const config = {};
    req.getConfigMap().forEach((/** @type {string} */ value, /** @type {string} */ key) => {
        const parts = key.split(":");
        if (parts.length === 2) config[`${parts[0]}:config:${parts[1]}`] = value;
        else if (parts.length === 3 && parts[1] === "config") config[key] = value;
        else {
            throw new Error(
                `could not parse ${key} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`)`,
            );
        }
    });
    return JSON.stringify(config);
}

/**
 * Finds `@pulumi/pulumi/cmd/run` as the program directory resolves it, so the
 * program runs with its own SDK.
 * @param {string} programDir
 */
function locateRunModule(programDir) {
    const mod = process.env.PULUMI_LANGUAGE_NODEJS_RUN_PATH || "@pulumi/pulumi/cmd/run";
    try {
        return require.resolve(mod, { paths: [programDir] });
    } catch (err) {
        if (/** @type {NodeJS.ErrnoException} */ (err).code === "MODULE_NOT_FOUND") {
            throw new Error(
                `It looks like the Pulumi SDK has not been installed. Have you run pulumi install? ` +
                    `(${mod} cannot be resolved from ${programDir})`,
            );
        }
        throw err;
    }
}

/**
 * Runs the program to completion. Resolves with the RunResponse; never rejects
 * for program failures, which are reported in the response like upstream does.
 * @param {any} call the gRPC call carrying a pulumirpc.RunRequest
 */
async function run(call) {
    const req = call.request;
    const response = (/** @type {string} */ error, bail = false) => {
        const r = new languagePb.RunResponse();
        r.setError(error);
        r.setBail(bail);
        return r;
    };
    if (!engineAddress) throw new Error("when debugging or running explicitly, must call Handshake before Run");
    if (req.getAttachDebugger()) return response("attaching a debugger is not supported by this offline language host");

    const info = req.getInfo();
    const programDir = info?.getProgramDirectory() || req.getPwd() || process.cwd();
    const entryPoint = info?.getEntryPoint() || req.getProgram() || ".";

    /** @type {string[]} */
    let nodeArgs;
    /** @type {NodeJS.ProcessEnv} */
    let env;
    /** @type {string} */
    let runPath;
    try {
        const opts = parseOptions(info?.getOptions()?.toJavaScript() ?? {});
        runPath = locateRunModule(programDir);
        env = {
            ...process.env,
            PULUMI_CONFIG: configJson(req),
            PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
        };
        if (opts.typescript) env.PULUMI_NODEJS_TYPESCRIPT = "true";
        if (opts.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = opts.tsconfig;
        nodeArgs = shellSplit(opts.nodeargs);
    } catch (err) {
        return response(/** @type {Error} */ (err).message);
    }

    // The same command line as upstream's constructArguments, minus `--sync`.
    const runArgs = [runPath];
    const flag = (/** @type {string} */ name, /** @type {string} */ value) => {
        if (value) runArgs.push(`--${name}`, value);
    };
    flag("monitor", req.getMonitorAddress());
    flag("engine", engineAddress);
    flag("organization", req.getOrganization());
    flag("project", req.getProject());
    flag("root-directory", info?.getRootDirectory() ?? "");
    flag("stack", req.getStack());
    flag("pwd", programDir);
    if (req.getDryrun()) runArgs.push("--dry-run");
    flag("parallel", String(req.getParallel()));
    flag("tracing", args.tracing);
    runArgs.push(entryPoint, ...req.getArgsList());
    debug(5, `launching ${process.execPath} ${[...nodeArgs, ...runArgs].join(" ")}`);

    return new Promise((resolve) => {
        // stdout goes straight to ours, which the CLI shows; stderr too, read on the way for out-of-memory reports.
        const child = childProcess.spawn(process.execPath, [...nodeArgs, ...runArgs], {
            env,
            stdio: ["ignore", "inherit", "pipe"],
        });
        running.add(child);
        let oom = false;
        let tail = "";
        child.stderr?.on("data", (/** @type {Buffer} */ chunk) => {
            process.stderr.write(chunk);
            if (!oom) {
                const text = tail + chunk.toString("utf8");
                oom = OOM_MARKERS.some((m) => text.includes(m));
                tail = text.slice(-200);
            }
        });
        // The engine gave up on this Run (cancelled or disconnected): stop the program like upstream's CommandContext.
        call.on("cancelled", () => interrupt(child));
        child.on("error", (err) => {
            running.delete(child);
            resolve(response(`Problem executing program (could not run language executor): ${err.message}`));
        });
        child.on("close", (code) => {
            running.delete(child);
            if (code === 0) resolve(response(""));
            else if (code === EXIT_ALREADY_REPORTED) resolve(response("", true));
            else {
                const message = `Program exited with non-zero exit code: ${code ?? -1}`;
                resolve(response(oom ? `${message}. ${OOM_MESSAGE}` : message));
            }
        });
    });
}

/**
 * Interrupts a running program, and kills it if it is still there 5 s later.
 * @param {childProcess.ChildProcess} child
 */
function interrupt(child) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGINT");
    setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }, 5000).unref();
}

/**
 * Which package manager the program uses, judged by its lock file.
 * @param {string} dir
 */
function packageManager(dir) {
    for (const [file, name] of /** @type {const} */ ([
        ["pnpm-lock.yaml", "pnpm"],
        ["yarn.lock", "yarn"],
        ["bun.lockb", "bun"],
        ["bun.lock", "bun"],
    ])) {
        if (fs.existsSync(path.join(dir, file))) return name;
    }
    return "npm";
}

/**
 * The program's direct dependencies with the versions installed (or, when not
 * installed, the declared ranges). Transitive dependencies are not listed.
 * @param {string} dir
 */
function directDependencies(dir) {
    let manifest;
    try {
        manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    } catch {
        return [];
    }
    const declared = { ...manifest.devDependencies, ...manifest.dependencies };
    return Object.keys(declared)
        .sort()
        .map((name) => {
            let version = String(declared[name]);
            for (let d = dir; ; d = path.dirname(d)) {
                const file = path.join(d, "node_modules", name, "package.json");
                if (fs.existsSync(file)) {
                    try {
                        version = JSON.parse(fs.readFileSync(file, "utf8")).version ?? version;
                    } catch {
                        // Unreadable manifest: keep the declared range.
                    }
                    break;
                }
                if (path.dirname(d) === d) break;
            }
            return { name, version };
        });
}

let watchedEngine = "";
/**
 * Probes the engine every 5 minutes, like upstream's rpcutil.Healthcheck, and
 * exits when it is gone, so a crashed CLI does not leave hosts behind.
 * @param {string} address
 */
function watchEngine(address) {
    if (watchedEngine === address) return;
    watchedEngine = address;
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    const timer = setInterval(() => {
        client.makeUnaryRequest(
            "/grpc.health.v1.Health/Check",
            () => Buffer.alloc(0), // an empty HealthCheckRequest
            (/** @type {Buffer} */ b) => b,
            Buffer.alloc(0),
            new grpc.Metadata(),
            { deadline: Date.now() + 60_000 },
            (/** @type {any} */ err) => {
                if (err && err.code !== grpc.status.UNIMPLEMENTED) {
                    debug(1, `engine ${address} is unreachable (${err.message}); exiting`);
                    shutdown(1);
                }
            },
        );
    }, 5 * 60_000);
    timer.unref();
}

/**
 * Adapts an async handler to grpc-js's unary callback style; a thrown error
 * becomes the call's status (UNKNOWN unless it carries a gRPC code).
 * @param {(call: any) => Promise<any> | any} handler
 */
function unary(handler) {
    return (/** @type {any} */ call, /** @type {Function} */ callback) => {
        Promise.resolve()
            .then(() => handler(call))
            .then(
                (result) => callback(null, result),
                (err) => callback({ code: err.code ?? grpc.status.UNKNOWN, details: String(err.message ?? err) }),
            );
    };
}

/** Methods left out answer UNIMPLEMENTED (grpc-js's default handler). */
const handlers = {
    handshake: unary((call) => {
        engineAddress = call.request.getEngineAddress();
        watchEngine(engineAddress);
        return new languagePb.LanguageHandshakeResponse();
    }),
    getPluginInfo: unary(() => {
        const info = new pluginPb.PluginInfo();
        info.setVersion(VERSION);
        return info;
    }),
    // Our programs use dynamic providers only, so no plugin needs installing before they run.
    getRequiredPlugins: unary(() => new languagePb.GetRequiredPluginsResponse()),
    getRequiredPackages: unary(() => new languagePb.GetRequiredPackagesResponse()),
    run: unary(run),
    installDependencies: (/** @type {any} */ call) => {
        const dir = call.request.getInfo()?.getProgramDirectory() || call.request.getDirectory() || process.cwd();
        const message = new languagePb.InstallDependenciesResponse();
        message.setStdout(
            Buffer.from(
                `Not installing dependencies: this offline language host leaves that to you ` +
                    `(run '${packageManager(dir)} install' in ${dir}).\n`,
            ),
        );
        call.write(message);
        call.end();
    },
    runtimeOptionsPrompts: unary(() => new languagePb.RuntimeOptionsResponse()),
    about: unary((call) => {
        const dir = call.request.getInfo()?.getProgramDirectory() || process.cwd();
        const pm = packageManager(dir);
        const about = new languagePb.AboutResponse();
        about.setExecutable(process.execPath);
        about.setVersion(process.version);
        about.getMetadataMap().set("packagemanager", pm);
        const probe = childProcess.spawnSync(pm, ["--version"], { cwd: dir, encoding: "utf8", timeout: 10_000 });
        if (probe.status === 0) about.getMetadataMap().set("packagemanagerVersion", probe.stdout.trim());
        return about;
    }),
    getProgramDependencies: unary((call) => {
        const dir = call.request.getInfo()?.getProgramDirectory() || call.request.getPwd() || process.cwd();
        const res = new languagePb.GetProgramDependenciesResponse();
        for (const dep of directDependencies(dir)) {
            const d = new languagePb.DependencyInfo();
            d.setName(dep.name);
            d.setVersion(dep.version);
            res.addDependencies(d);
        }
        return res;
    }),
    cancel: unary(() => {
        for (const child of running) interrupt(child);
        return new emptyPb.Empty();
    }),
};

const server = new grpc.Server({
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
});
server.addService(languageGrpc.LanguageRuntimeService, handlers);

let stopping = false;
/** Stops serving and exits; running programs are interrupted first. */
function shutdown(/** @type {number} */ code) {
    if (stopping) return;
    stopping = true;
    for (const child of running) interrupt(child);
    server.tryShutdown(() => process.exit(code));
    setTimeout(() => process.exit(code), 6000).unref();
}
// The CLI stops plugins with SIGINT to their process group, then SIGKILL after 5 s.
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (/** @type {Error | null} */ err, /** @type {number} */ port) => {
    if (err) {
        process.stderr.write(`pulumi-language-nodejs: could not start the language host gRPC server: ${err.message}\n`);
        process.exit(1);
    }
    if (engineAddress) watchEngine(engineAddress);
    // The CLI reads this one line to learn where we listen.
    process.stdout.write(`${port}\n`);
});
