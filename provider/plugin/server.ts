/**
 * The provider plugin's gRPC server: Pulumi's `pulumirpc.ResourceProvider`
 * service, on the request and response classes the @pulumi/pulumi SDK
 * generates from Pulumi's protos, and the SDK's own gRPC library. Each
 * method translates a request into plain values, calls {@link PluginProvider}
 * and translates the answer back; nothing else happens here.
 *
 * Why not `provider.main` from `@pulumi/pulumi/provider`: its server (the same
 * in 3.248.0 and 3.276.0) drops the provider configuration (`Configure` never
 * reaches the provider, so `endpoint` and `token` could not be set), cannot
 * return a detailed diff, and fails every `pulumi import` with "Cannot read
 * properties of undefined (reading 'toJavaScript')": it calls
 * `req.getProperties().toJavaScript()` in `Read`, and an import sends no
 * properties. Here `Read` treats missing properties as "import by id".
 *
 * Protocol choices: the plugin does not accept secrets or resource
 * references, so the engine removes secrets before each call and marks an
 * output secret when the input of the same name was (as it does for dynamic
 * providers); it does not support previews of create and update, so a
 * preview never reaches `Create` or `Update` and makes no Azure call (`Check`
 * and `Diff` are pure).
 */
import { createRequire } from "node:module";
import type * as grpcTypes from "@grpc/grpc-js";
import type * as emptyTypes from "google-protobuf/google/protobuf/empty_pb";
import type * as anyTypes from "google-protobuf/google/protobuf/any_pb";
import type * as structTypes from "google-protobuf/google/protobuf/struct_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as statusproto from "@pulumi/pulumi/proto/status_pb";
import { packageVersion } from "../resources/common";
import { checkConfig, diffConfig, type PluginProvider, type PropertyChange } from "./provider";
import { schemaJson } from "./schema";

/**
 * The gRPC and protobuf libraries of the @pulumi/pulumi the program brings
 * (our peer dependency): the ones its generated classes were built with,
 * wherever npm placed them.
 */
const fromSdk = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc: typeof grpcTypes = fromSdk("@grpc/grpc-js");
const emptyproto: typeof emptyTypes = fromSdk("google-protobuf/google/protobuf/empty_pb");
const anyproto: typeof anyTypes = fromSdk("google-protobuf/google/protobuf/any_pb");
const structproto: typeof structTypes = fromSdk("google-protobuf/google/protobuf/struct_pb");

type Props = Record<string, unknown>;
type Callback<T> = grpcTypes.sendUnaryData<T>;
type Call<T> = grpcTypes.ServerUnaryCall<T, unknown>;

/** A Struct as plain values; an absent Struct (an import's `Read`) is empty. */
function plain(struct: structTypes.Struct | undefined): Props {
    return (struct?.toJavaScript() as Props | undefined) ?? {};
}

/** Plain values as a Struct, leaving out `undefined` (which a Struct cannot hold). */
function struct(values: Props): structTypes.Struct {
    return structproto.Struct.fromJavaScript(JSON.parse(JSON.stringify(values)) as Record<string, structTypes.JavaScriptValue>);
}

function failures(list: Array<{ property: string; reason: string }>): provproto.CheckFailure[] {
    return list.map((f) => new provproto.CheckFailure().setProperty(f.property).setReason(f.reason));
}

const KIND: Record<PropertyChange["kind"], [provproto.PropertyDiff.Kind, provproto.PropertyDiff.Kind]> = {
    add: [provproto.PropertyDiff.Kind.ADD, provproto.PropertyDiff.Kind.ADD_REPLACE],
    delete: [provproto.PropertyDiff.Kind.DELETE, provproto.PropertyDiff.Kind.DELETE_REPLACE],
    update: [provproto.PropertyDiff.Kind.UPDATE, provproto.PropertyDiff.Kind.UPDATE_REPLACE],
};

/**
 * The gRPC error for a failed operation. An error carrying `id` (a create
 * Azure may have applied) tells the engine the resource exists but did not
 * initialise, with its outputs, so it is recorded rather than lost.
 */
function grpcError(err: unknown): Partial<grpcTypes.StatusObject> {
    const e: Error & { id?: string; properties?: Props; reasons?: string[] } = err instanceof Error ? err : new Error(String(err));
    const metadata = new grpc.Metadata();
    if (e.id) {
        const detail = new provproto.ErrorResourceInitFailed()
            .setId(e.id)
            .setProperties(struct(e.properties ?? {}))
            .setReasonsList(e.reasons ?? [e.message]);
        const any = new anyproto.Any();
        any.pack(detail.serializeBinary(), "pulumirpc.ErrorResourceInitFailed");
        const status = new statusproto.Status().setCode(grpc.status.UNKNOWN).setMessage(e.message);
        status.addDetails(any);
        metadata.add("grpc-status-details-bin", Buffer.from(status.serializeBinary()));
    }
    return { code: grpc.status.UNKNOWN, details: e.message, metadata };
}

/** Runs a handler and answers the call with its result or its error. */
function answer<T>(callback: Callback<T>, work: () => T | Promise<T>): void {
    Promise.resolve()
        .then(work)
        .then(
            (value) => callback(null, value),
            (err: unknown) => callback(grpcError(err) as grpcTypes.ServiceError, null),
        );
}

/** The service implementation, keyed as the generated service definition names its methods. */
export function serviceImplementation(provider: PluginProvider, env: Record<string, string | undefined>): grpcTypes.UntypedServiceImplementation {
    return {
        getPluginInfo(_call: Call<unknown>, callback: Callback<plugproto.PluginInfo>) {
            answer(callback, () => new plugproto.PluginInfo().setVersion(packageVersion()));
        },
        getSchema(call: Call<provproto.GetSchemaRequest>, callback: Callback<provproto.GetSchemaResponse>) {
            answer(callback, () => {
                if (call.request.getVersion() !== 0) throw new Error(`unsupported schema version ${call.request.getVersion()}`);
                return new provproto.GetSchemaResponse().setSchema(schemaJson());
            });
        },
        checkConfig(call: Call<provproto.CheckRequest>, callback: Callback<provproto.CheckResponse>) {
            answer(callback, () => {
                const news = plain(call.request.getNews());
                return new provproto.CheckResponse().setInputs(struct(news)).setFailuresList(failures(checkConfig(news, env)));
            });
        },
        diffConfig(call: Call<provproto.DiffRequest>, callback: Callback<provproto.DiffResponse>) {
            answer(callback, () => {
                const d = diffConfig(plain(call.request.getOlds()), plain(call.request.getNews()));
                return new provproto.DiffResponse()
                    .setChanges(d.changes ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE)
                    .setDiffsList(d.changed);
            });
        },
        configure(call: Call<provproto.ConfigureRequest>, callback: Callback<provproto.ConfigureResponse>) {
            answer(callback, () => {
                // `variables` hold every setting as a plain string, keyed `<package>:config:<key>`.
                const variables = call.request.getVariablesMap();
                provider.configure((key) => variables.get(key.replace(":", ":config:")));
                return new provproto.ConfigureResponse()
                    .setAcceptsecrets(false)
                    .setAcceptresources(false)
                    .setAcceptoutputs(false)
                    .setSupportspreview(false);
            });
        },
        check(call: Call<provproto.CheckRequest>, callback: Callback<provproto.CheckResponse>) {
            answer(callback, () => {
                const r = provider.check(call.request.getUrn(), plain(call.request.getNews()));
                return new provproto.CheckResponse().setInputs(struct(r.inputs)).setFailuresList(failures(r.failures));
            });
        },
        diff(call: Call<provproto.DiffRequest>, callback: Callback<provproto.DiffResponse>) {
            answer(callback, () => {
                const d = provider.diff(call.request.getUrn(), plain(call.request.getOlds()), plain(call.request.getNews()));
                const resp = new provproto.DiffResponse()
                    .setChanges(d.changes ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE)
                    .setReplacesList(d.replaces)
                    .setDiffsList(d.changed)
                    .setDeletebeforereplace(d.deleteBeforeReplace ?? false)
                    .setHasdetaileddiff(true);
                const detailed = resp.getDetaileddiffMap();
                for (const [path, change] of Object.entries(d.detailedDiff)) {
                    detailed.set(path, new provproto.PropertyDiff().setKind(KIND[change.kind][change.replace ? 1 : 0]).setInputdiff(false));
                }
                return resp;
            });
        },
        create(call: Call<provproto.CreateRequest>, callback: Callback<provproto.CreateResponse>) {
            answer(callback, async () => {
                const r = await provider.create(call.request.getUrn(), plain(call.request.getProperties()));
                return new provproto.CreateResponse().setId(r.id).setProperties(struct(r.outs));
            });
        },
        read(call: Call<provproto.ReadRequest>, callback: Callback<provproto.ReadResponse>) {
            answer(callback, async () => {
                // An import sends no properties: `plain` makes them empty, which the handlers read as "import by id".
                const r = await provider.read(call.request.getUrn(), call.request.getId(), plain(call.request.getProperties()));
                const resp = new provproto.ReadResponse();
                // No id: the resource no longer exists (refresh drops it; import fails saying so).
                if (!r) return resp;
                resp.setId(r.id).setProperties(struct(r.props));
                if (r.inputs) resp.setInputs(struct(r.inputs));
                return resp;
            });
        },
        update(call: Call<provproto.UpdateRequest>, callback: Callback<provproto.UpdateResponse>) {
            answer(callback, async () => {
                const outs = await provider.update(call.request.getUrn(), call.request.getId(), plain(call.request.getOlds()), plain(call.request.getNews()));
                return new provproto.UpdateResponse().setProperties(struct(outs));
            });
        },
        delete(call: Call<provproto.DeleteRequest>, callback: Callback<emptyTypes.Empty>) {
            answer(callback, async () => {
                await provider.remove(call.request.getUrn(), call.request.getId(), plain(call.request.getProperties()));
                return new emptyproto.Empty();
            });
        },
        cancel(_call: Call<unknown>, callback: Callback<emptyTypes.Empty>) {
            answer(callback, () => new emptyproto.Empty());
        },
        attach(_call: Call<unknown>, callback: Callback<emptyTypes.Empty>) {
            answer(callback, () => new emptyproto.Empty());
        },
    };
}

/**
 * Serves the provider on a loopback port chosen by the OS and returns it.
 * The engine reads the port from the plugin's first line of output.
 */
export async function serve(provider: PluginProvider, env: Record<string, string | undefined>): Promise<{ port: number; server: grpcTypes.Server }> {
    const server = new grpc.Server({ "grpc.max_receive_message_length": 64 * 1024 * 1024 });
    server.addService(provrpc.ResourceProviderService as unknown as grpcTypes.ServiceDefinition, serviceImplementation(provider, env));
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    return { port, server };
}
