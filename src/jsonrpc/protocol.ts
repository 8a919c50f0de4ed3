/**
 * JSON-RPC 2.0 over any byte transport: envelope checks, batches, notifications and the
 * mapping of AppError to wire error codes. It takes the raw body as text (not pre-parsed
 * JSON) because only here can a broken body be told apart from a broken request: the spec
 * answers the first with -32700 and the second with -32600.
 */
import type { Logger } from 'pino';
import { isAppError, JSONRPC_CODE, type AppError } from '../errors';
import { requireScope } from '../auth/scopes';
import { parseParams, type MethodRegistry, type RawParams, type RpcContextBase } from './registry';

export type JsonRpcId = string | number | null;

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; result: unknown; id: JsonRpcId }
  | { jsonrpc: '2.0'; error: JsonRpcErrorObject; id: JsonRpcId };

/** Codes the spec itself defines; their messages are the spec's, details go in `data`. */
export const RPC_ERROR = {
  PARSE_ERROR: { code: -32700, message: 'Parse error' },
  INVALID_REQUEST: { code: -32600, message: 'Invalid Request' },
  METHOD_NOT_FOUND: { code: -32601, message: 'Method not found' },
  INVALID_PARAMS: { code: -32602, message: 'Invalid params' },
  INTERNAL_ERROR: { code: -32603, message: 'Internal error' },
} as const;

export const DEFAULT_MAX_BATCH = 100;

export interface DispatchOptions {
  /** Largest batch accepted; a bigger one is refused whole with one -32600. Default 100. */
  maxBatch?: number;
  /** Unexpected handler exceptions are logged here at error level, stack included. */
  logger?: Logger;
  /**
   * Called once per executed call of a registered method (notifications included), for
   * metrics. Not called for unknown method names, so label cardinality stays bounded.
   */
  onCall?: (method: string, outcome: 'ok' | 'error', seconds: number) => void;
}

export interface DispatchResult {
  /** Serialized response; null when there is nothing to answer (HTTP 204). */
  body: string | null;
  status: number;
}

/** A batch item or single request after the envelope check. */
type Envelope =
  | { kind: 'invalid'; id: JsonRpcId; reason: string }
  | { kind: 'call'; id: JsonRpcId; notification: boolean; method: string; params: RawParams };

/**
 * Answers one HTTP body. `makeContext` is called at most once, lazily, so every call of a
 * batch shares one context (one requestId, one set of per-request caches) and a body that
 * fails the envelope check never builds one.
 */
export async function dispatch<C extends RpcContextBase>(
  rawBody: string,
  registry: MethodRegistry<C>,
  makeContext: () => C,
  opts: DispatchOptions = {},
): Promise<DispatchResult> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch (e) {
    return single(failure(null, { ...RPC_ERROR.PARSE_ERROR, data: { reason: (e as Error).message } }));
  }

  let context: C | undefined;
  const getContext = (): C => (context ??= makeContext());
  const run = (item: unknown) => answer(parseEnvelope(item), registry, getContext, opts);

  if (!Array.isArray(parsed)) {
    const answered = await run(parsed);
    return answered ? single(answered) : NOTHING;
  }

  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
  if (parsed.length === 0) {
    return single(invalidRequest(null, 'A batch must contain at least one request'));
  }
  if (parsed.length > maxBatch) {
    return single(
      invalidRequest(null, `A batch may hold at most ${maxBatch} calls; this one has ${parsed.length}`, { maxBatch }),
    );
  }
  // The spec lets batch items run concurrently and be answered in any order; Promise.all
  // happens to keep request order, which makes logs easier to read.
  const answered = (await Promise.all(parsed.map(run))).filter((a): a is Answered => a !== null);
  if (answered.length === 0) return NOTHING;
  return { body: `[${answered.map((a) => a.text).join(',')}]`, status: 200 };
}

/** One serialized response, with its error code kept for the HTTP status of a single call. */
interface Answered {
  text: string;
  errorCode?: number;
}

const NOTHING: DispatchResult = { body: null, status: 204 };

/**
 * A lone error that decides the whole exchange gets an HTTP status proxies and API
 * gateways understand; everything else is 200, as JSON-RPC over HTTP convention has it.
 */
function single(answered: Answered): DispatchResult {
  let status = 200;
  if (answered.errorCode === JSONRPC_CODE.UNAUTHENTICATED) status = 401;
  else if (answered.errorCode === JSONRPC_CODE.FORBIDDEN) status = 403;
  return { body: answered.text, status };
}

function parseEnvelope(item: unknown): Envelope {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return { kind: 'invalid', id: null, reason: 'A request must be a JSON object' };
  }
  const req = item as Record<string, unknown>;
  const hasId = Object.prototype.hasOwnProperty.call(req, 'id');
  if (hasId && !isValidId(req.id)) {
    return { kind: 'invalid', id: null, reason: '"id" must be a string, a number or null' };
  }
  // Echo a well-formed id even on an invalid request, so a batch caller can tell which call failed.
  const id = hasId ? (req.id as JsonRpcId) : null;
  if (req.jsonrpc !== '2.0') return { kind: 'invalid', id, reason: '"jsonrpc" must be exactly "2.0"' };
  if (typeof req.method !== 'string') return { kind: 'invalid', id, reason: '"method" must be a string' };
  const params = req.params;
  if (params !== undefined && (params === null || typeof params !== 'object')) {
    return { kind: 'invalid', id, reason: '"params" must be an array or an object when present' };
  }
  // Only a missing "id" makes a notification; an explicit null id is a request.
  return { kind: 'call', id, notification: !hasId, method: req.method, params: params as RawParams };
}

function isValidId(id: unknown): id is JsonRpcId {
  return id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
}

/** Runs one envelope; null means "send nothing" (a notification). */
async function answer<C extends RpcContextBase>(
  envelope: Envelope,
  registry: MethodRegistry<C>,
  getContext: () => C,
  opts: DispatchOptions,
): Promise<Answered | null> {
  // An invalid request is answered even without an id: the caller cannot have meant a
  // notification it failed to spell (spec example: {"jsonrpc":"2.0","method":1,"params":"bar"}).
  if (envelope.kind === 'invalid') return invalidRequest(envelope.id, envelope.reason);

  const { id, notification, method } = envelope;
  const def = registry.get(method);
  if (!def) {
    return notification ? null : failure(id, { ...RPC_ERROR.METHOD_NOT_FOUND, data: { method } });
  }

  const started = process.hrtime.bigint();
  let context: C | undefined;
  let answered: Answered;
  try {
    context = getContext();
    // Scope first: a caller without access must not learn the method's params from -32602.
    requireScope(context.principal, def.scope);
    const params = parseParams(def, envelope.params);
    const result = await def.handler(params, context);
    // `undefined` would drop the "result" member and make the response invalid.
    const text = JSON.stringify({ jsonrpc: '2.0', result: result === undefined ? null : result, id });
    answered = { text };
  } catch (e) {
    // Also catches a result JSON cannot express (BigInt, a cycle): that call fails, not the batch.
    answered = failure(id, toErrorObject(e, method, id, context?.requestId, opts.logger));
  }
  report(opts, method, answered.errorCode === undefined ? 'ok' : 'error', started);
  return notification ? null : answered;
}

/** AppErrors are meant for the caller; anything else is a bug and is reported without detail. */
function toErrorObject(
  e: unknown,
  method: string,
  id: JsonRpcId,
  requestId: string | undefined,
  logger: Logger | undefined,
): JsonRpcErrorObject {
  if (isAppError(e)) return appErrorObject(e);
  logger?.error({ err: e, method, id, requestId }, 'JSON-RPC method failed with an unexpected error');
  // Neither message nor stack of the original error: they may name tables, paths or secrets.
  return { ...RPC_ERROR.INTERNAL_ERROR, data: { requestId: requestId ?? null } };
}

function report(opts: DispatchOptions, method: string, outcome: 'ok' | 'error', started: bigint): void {
  if (!opts.onCall) return;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  try {
    opts.onCall(method, outcome, seconds);
  } catch (e) {
    // A broken metrics hook must not turn a successful call into a failed one.
    opts.logger?.warn({ err: e, method }, 'JSON-RPC onCall hook threw');
  }
}

function failure(id: JsonRpcId, error: JsonRpcErrorObject): Answered {
  try {
    return { text: errorBody(error, id), errorCode: error.code };
  } catch {
    // AppError details JSON cannot express: keep the code and message, drop the data.
    return { text: errorBody({ code: error.code, message: error.message }, id), errorCode: error.code };
  }
}

function invalidRequest(id: JsonRpcId, reason: string, extra?: Record<string, unknown>): Answered {
  return failure(id, { ...RPC_ERROR.INVALID_REQUEST, data: { reason, ...extra } });
}

/** Builds a complete error body for transports that refuse a request before dispatch (413, 401, 405). */
export function errorBody(error: JsonRpcErrorObject, id: JsonRpcId = null): string {
  // Key order as in the spec's examples: jsonrpc, error, id.
  return JSON.stringify({ jsonrpc: '2.0', error, id });
}

/** The wire form of an AppError raised outside dispatch (e.g. by authentication). */
export function appErrorObject(e: AppError): JsonRpcErrorObject {
  return { code: JSONRPC_CODE[e.code], message: e.message, data: { code: e.code, ...e.details } };
}
