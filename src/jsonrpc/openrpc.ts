/**
 * OpenRPC 1.3.2 description of the registry, served by `rpc.discover` and committed as a
 * file so API changes show up in review. Everything here is built in a fixed key order
 * from the registry alone (no timestamps, no host names), so two builds of the same code
 * serialize to identical JSON.
 */
import { z } from 'zod';
import { ERROR_CODES, JSONRPC_CODE, type ErrorCode } from '../errors';
// Type-only: registry.ts imports this module at runtime for rpc.discover.
import type { AnyMethodDef, MethodRegistry, RpcContextBase } from './registry';

export const OPENRPC_VERSION = '1.3.2';

export interface OpenRpcInfo {
  title: string;
  version: string;
}

type JsonSchema = Record<string, unknown>;

export interface ContentDescriptor {
  name: string;
  description?: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface OpenRpcMethod {
  name: string;
  summary: string;
  description?: string;
  paramStructure: 'either';
  params: ContentDescriptor[];
  result: ContentDescriptor;
  errors: { $ref: string }[];
  'x-scope': string;
}

export interface OpenRpcDocument {
  openrpc: string;
  info: OpenRpcInfo;
  methods: OpenRpcMethod[];
  components: {
    errors: Record<string, { code: number; message: string; data?: { code: ErrorCode } }>;
    /** Only present when a method uses recursive or `.meta({ id })` schemas. */
    schemas?: Record<string, JsonSchema>;
  };
}

/** One line per application error, shown to API readers; `data.code` is what clients should switch on. */
const ERROR_MESSAGES: Record<ErrorCode, string> = {
  BAD_USER_INPUT: 'Invalid params; data.problems names each bad field',
  UNAUTHENTICATED: 'A valid API key is required (Authorization: Bearer <key>)',
  FORBIDDEN: 'The API key lacks the scope the method needs (data.requiredScope)',
  NOT_FOUND: 'The referenced record does not exist',
  CONFLICT: 'The request conflicts with the current state of a record',
  RATE_LIMITED: 'Too many requests; retry later',
  UNAVAILABLE: 'A backing system is unavailable; retry later',
  INTERNAL_SERVER_ERROR: 'Unexpected server error; data.requestId finds it in the server log',
};

/** The errors any method can produce before or around its handler (scope check, params check). */
const TRANSPORT_ERRORS: ErrorCode[] = ['BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'INTERNAL_SERVER_ERROR'];

export function buildOpenRpcDocument<C extends RpcContextBase>(
  registry: MethodRegistry<C>,
  info: OpenRpcInfo = registry.info,
): OpenRpcDocument {
  const errors: OpenRpcDocument['components']['errors'] = {};
  for (const code of ERROR_CODES) {
    errors[code] = {
      code: JSONRPC_CODE[code],
      message: ERROR_MESSAGES[code],
      // An unexpected failure carries only { requestId }: nothing about it is safe to name.
      ...(code !== 'INTERNAL_SERVER_ERROR' && { data: { code } }),
    };
  }
  const collector = new SchemaCollector();
  const methods = registry.list().map((def) => describeMethod(def, collector));
  const schemas = collector.sorted();
  return {
    openrpc: OPENRPC_VERSION,
    info: { title: info.title, version: info.version },
    methods,
    components: { errors, ...(Object.keys(schemas).length > 0 && { schemas }) },
  };
}

function describeMethod<C extends RpcContextBase>(def: AnyMethodDef<C>, collector: SchemaCollector): OpenRpcMethod {
  const paramsSchema = collector.convert(def.params, 'input', `${def.name}.params`);
  const properties = (paramsSchema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((paramsSchema.required ?? []) as string[]);
  // Shape key order, not JSON-schema order: it is the by-position order callers rely on.
  const params = Object.keys(def.params.shape).map((key) =>
    descriptor(key, properties[key] ?? {}, required.has(key)),
  );
  // Literal key order is the serialized order; optional keys are spread in place.
  return {
    name: def.name,
    summary: def.summary,
    ...(def.description !== undefined && { description: def.description }),
    paramStructure: 'either',
    params,
    result: descriptor('result', collector.convert(def.result, 'output', `${def.name}.result`)),
    errors: TRANSPORT_ERRORS.map((code) => ({ $ref: `#/components/errors/${code}` })),
    'x-scope': def.scope,
  };
}

function descriptor(name: string, schema: JsonSchema, required?: boolean): ContentDescriptor {
  return {
    name,
    // zod's .describe() lands in the schema; OpenRPC tools show the descriptor's description.
    ...(typeof schema.description === 'string' && { description: schema.description }),
    ...(required !== undefined && { required }),
    schema,
  };
}

const LOCAL_REF = '#/definitions/';
const SHARED_REF = '#/components/schemas/';

/**
 * Converts zod schemas to JSON Schema draft 7 (what OpenRPC 1.3.2 content descriptors hold).
 * Params are described as callers send them (io: input, so defaults make a field optional);
 * results as we send them (io: output).
 *
 * zod puts recursive schemas and schemas registered with `.meta({ id })` under a root
 * `definitions` with `#/definitions/..` refs. Those refs would dangle once the params object
 * is split into one descriptor per key, so they are hoisted into `components.schemas`.
 */
class SchemaCollector {
  private readonly schemas = new Map<string, JsonSchema>();

  convert(schema: z.ZodType, io: 'input' | 'output', owner: string): JsonSchema {
    const json = z.toJSONSchema(schema, {
      target: 'draft-07',
      io,
      // A schema zod cannot express (bigint, map, ...) becomes `{}` rather than breaking discovery.
      unrepresentable: 'any',
      override: ({ zodSchema, jsonSchema }) => {
        // Dates cross the wire as ISO strings (JSON.stringify, z.coerce.date()).
        if (zodSchema._zod.def.type === 'date') {
          const js = jsonSchema as JsonSchema;
          js.type = 'string';
          js.format = 'date-time';
        }
      },
    }) as JsonSchema;
    // The document as a whole declares the dialect; a per-schema $schema is noise.
    delete json.$schema;
    const defs = json.definitions as Record<string, JsonSchema> | undefined;
    delete json.definitions;
    if (!defs) return json;

    const rename = new Map<string, string>();
    for (const name of Object.keys(defs)) {
      // zod's anonymous names (__schema0) restart for every conversion: scope them to the owner.
      // Named ids may differ between input and output (defaults, transforms): keep both.
      const shared = name.startsWith('__schema') ? `${owner}.${name}` : io === 'input' ? `${name}.input` : name;
      rename.set(name, shared);
    }
    const relink = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(relink);
      if (node === null || typeof node !== 'object') return node;
      const out: JsonSchema = {};
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string' && value.startsWith(LOCAL_REF)) {
          const target = rename.get(unescapePointer(value.slice(LOCAL_REF.length)));
          out[key] = target === undefined ? value : SHARED_REF + escapePointer(target);
        } else {
          out[key] = relink(value);
        }
      }
      return out;
    };
    for (const [name, body] of Object.entries(defs)) {
      const key = rename.get(name)!;
      const linked = relink(body) as JsonSchema;
      const previous = this.schemas.get(key);
      if (previous && JSON.stringify(previous) !== JSON.stringify(linked)) {
        throw new Error(`OpenRPC: two different zod schemas are registered with the id "${name}"`);
      }
      this.schemas.set(key, linked);
    }
    return relink(json) as JsonSchema;
  }

  sorted(): Record<string, JsonSchema> {
    return Object.fromEntries([...this.schemas.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}
