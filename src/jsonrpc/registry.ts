/**
 * The JSON-RPC method table: what each method is called, which scope it needs, what its
 * params look like (a zod object) and which service call answers it. Wire concerns
 * (envelopes, batches, error codes) live in protocol.ts; this module only knows how
 * JSON-RPC params map onto a method's zod object.
 */
import { z } from 'zod';
import { AppError, type FieldProblem } from '../errors';
import type { Principal, Scope } from '../auth/scopes';
import { buildOpenRpcDocument, type OpenRpcInfo } from './openrpc';

/** What every transport context must carry; apps extend it with services, loaders, ... */
export interface RpcContextBase {
  principal: Principal | null;
  /** Correlates logs with the `data.requestId` of a -32603 response. */
  requestId: string;
}

export interface MethodDef<C extends RpcContextBase, P extends z.ZodObject<any>, R> {
  /** `domain.verb`, e.g. `projects.list`. Names starting with `rpc.` are reserved for built-ins. */
  name: string;
  summary: string;
  description?: string;
  /** Checked with `requireScope` before params are validated, so callers without access learn nothing about the params. */
  scope: Scope;
  /** By-name params are validated by this object; its key order is the by-position order. */
  params: P;
  /** Describes the result in the OpenRPC document only; results are not validated at runtime. */
  result: z.ZodType<R>;
  // A property, not a method, so strictFunctionTypes checks `ctx`: a handler that needs a
  // richer context than the registry provides does not compile.
  handler: (params: z.output<P>, ctx: C) => Promise<R>;
}

/**
 * A method of any params/result type, as stored in a registry. `params: any` because a
 * specific handler accepts less than "any object"; the registry only ever calls it with
 * the output of that method's own `params` schema.
 */
export type AnyMethodDef<C extends RpcContextBase> = Omit<MethodDef<C, z.ZodObject<any>, unknown>, 'handler'> & {
  handler: (params: any, ctx: C) => Promise<unknown>;
};

/**
 * Identity helper so `params` drives the handler's parameter type. Annotate `ctx` in the
 * handler (or pass the type arguments) when the handler needs more than RpcContextBase.
 */
export function defineMethod<C extends RpcContextBase, P extends z.ZodObject<any>, R>(
  def: MethodDef<C, P, R>,
): MethodDef<C, P, R> {
  return def;
}

export const RESERVED_PREFIX = 'rpc.';
export const DISCOVER_METHOD = 'rpc.discover';

export class MethodRegistry<C extends RpcContextBase> {
  private readonly methods = new Map<string, AnyMethodDef<C>>();
  private readonly builtins = new Map<string, AnyMethodDef<C>>();
  /** rpc.discover answers from this; rebuilt lazily after every add(). */
  private discoverCache: object | undefined;

  /** `info` names the service in the OpenRPC document that `rpc.discover` returns. */
  constructor(readonly info: OpenRpcInfo) {
    this.builtins.set(DISCOVER_METHOD, {
      name: DISCOVER_METHOD,
      summary: 'Describe this JSON-RPC service as an OpenRPC 1.3.2 document',
      scope: 'read',
      params: z.object({}),
      result: z.record(z.string(), z.unknown()),
      handler: async () => (this.discoverCache ??= buildOpenRpcDocument(this, this.info)),
    });
  }

  add<P extends z.ZodObject<any>, R>(def: MethodDef<C, P, R>): this {
    if (!def.name || /\s/.test(def.name)) throw new Error(`Invalid JSON-RPC method name ${JSON.stringify(def.name)}`);
    if (def.name.startsWith(RESERVED_PREFIX)) {
      throw new Error(`JSON-RPC method names starting with "${RESERVED_PREFIX}" are reserved: ${def.name}`);
    }
    if (this.methods.has(def.name)) throw new Error(`JSON-RPC method ${def.name} is registered twice`);
    this.methods.set(def.name, def);
    this.discoverCache = undefined;
    return this;
  }

  /** Application methods and built-ins (`rpc.discover`). */
  get(name: string): AnyMethodDef<C> | undefined {
    return this.methods.get(name) ?? this.builtins.get(name);
  }

  /** Application methods only, sorted by name; built-ins are not part of the published API. */
  list(): AnyMethodDef<C>[] {
    return [...this.methods.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/** JSON-RPC `params` after the envelope check: absent, by-position or by-name. */
export type RawParams = unknown[] | Record<string, unknown> | undefined;

/**
 * Maps raw JSON-RPC params onto the method's zod object and validates them.
 * Throws AppError BAD_USER_INPUT (wire: -32602) with one problem per bad field.
 *
 * A positional `null` means "not given" (Python callers pass None to skip an optional
 * parameter that is not last); a required parameter given as null still fails.
 */
export function parseParams<P extends z.ZodObject<any>>(def: { name: string; params: P }, raw: RawParams): z.output<P> {
  const keys = Object.keys(def.params.shape);
  let input: Record<string, unknown>;
  if (raw === undefined) {
    input = {};
  } else if (Array.isArray(raw)) {
    if (raw.length > keys.length) {
      const takes = keys.length ? `at most ${keys.length} (${keys.join(', ')})` : 'no params';
      throw invalidParams(
        raw.slice(keys.length).map((_, i) => ({
          field: String(keys.length + i),
          message: `unexpected positional parameter: ${def.name} takes ${takes}`,
        })),
      );
    }
    input = Object.fromEntries(raw.map((value, i) => [keys[i], value]).filter(([, value]) => value !== null));
  } else {
    input = raw;
  }
  const parsed = strictParams(def.params).safeParse(input);
  if (!parsed.success) throw invalidParams(zodProblems(parsed.error.issues, input));
  // strictParams only changes how unknown keys are treated, so the output is still P's.
  return parsed.data as z.output<P>;
}

function invalidParams(problems: FieldProblem[]): AppError {
  // The spec's canonical message; the detail callers need is in data.problems.
  return AppError.badInput('Invalid params', problems);
}

const strictCache = new WeakMap<z.ZodObject<any>, z.ZodObject<any>>();

/**
 * By-name params must not carry unknown keys: a typo (`minued`) would otherwise be
 * silently dropped by zod's default "strip" mode and the call would run without it.
 * Schemas that chose strict or loose behaviour themselves are used as they are.
 */
function strictParams(schema: z.ZodObject<any>): z.ZodObject<any> {
  if (schema._zod.def.catchall !== undefined) return schema;
  let strict = strictCache.get(schema);
  if (!strict) {
    strict = schema.strict();
    strictCache.set(schema, strict);
  }
  return strict;
}

/** Converts zod issues into FieldProblems with dotted paths (`items.2.price`). */
export function zodProblems(issues: readonly z.core.$ZodIssue[], input: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ field: [...path, key].join('.'), message: 'unknown parameter' });
    } else if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
      // zod says "expected number, received undefined"; callers understand "required".
      problems.push({ field: path.join('.'), message: `required (${issue.expected})` });
    } else {
      problems.push({ field: path.join('.'), message: issue.message });
    }
  }
  return problems;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
