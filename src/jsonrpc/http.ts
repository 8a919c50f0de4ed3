/**
 * JSON-RPC over HTTP: `POST /jsonrpc`. This module owns only the HTTP edges (method,
 * body size, authentication, status codes); protocol.ts owns everything inside the body.
 *
 * Mount it for every HTTP method so other methods get a 405 instead of the app's 404:
 *   app.all('/jsonrpc', jsonRpcHandler({ ... }))
 * and before any global body parser (see readBody for what happens otherwise).
 */
import express from 'express';
import type { Logger } from 'pino';
import { HTTP_STATUS, isAppError } from '../errors';
import type { Principal } from '../auth/scopes';
import { appErrorObject, dispatch, errorBody, RPC_ERROR, type DispatchOptions, type JsonRpcErrorObject } from './protocol';
import type { MethodRegistry, RpcContextBase } from './registry';

export interface JsonRpcHandlerOptions<C extends RpcContextBase> {
  registry: MethodRegistry<C>;
  /**
   * Resolves the Authorization header. Return null when no header was sent: dispatch still
   * runs, and each call fails with -32001 from its scope check. Throw an AppError (usually
   * UNAUTHENTICATED) when a header was sent but names no valid key: the whole request is
   * refused with that error's HTTP status and no method runs.
   */
  authenticate: (authorizationHeader: string | undefined) => Promise<Principal | null>;
  makeContext: (req: express.Request, principal: Principal | null) => C;
  /** Largest accepted body; larger ones get HTTP 413 before any JSON is parsed. */
  bodyLimitBytes: number;
  maxBatch?: number;
  logger?: Logger;
  onCall?: DispatchOptions['onCall'];
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export function jsonRpcHandler<C extends RpcContextBase>(opts: JsonRpcHandlerOptions<C>): express.RequestHandler {
  // Any content type: Odoo's requests and curl users do not always send application/json,
  // and a wrong header must not turn a valid call into a parse error.
  const readText = express.text({ type: () => true, limit: opts.bodyLimitBytes });

  return async (req, res) => {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      send(res, 405, errorBody({ ...RPC_ERROR.INVALID_REQUEST, data: { reason: 'JSON-RPC requests must use POST' } }));
      return;
    }

    // Authenticate before reading the body: an unknown key should not cost us a buffered body.
    let principal: Principal | null;
    try {
      principal = await opts.authenticate(req.get('authorization'));
    } catch (e) {
      // No method runs: the caller asked to act as someone we cannot verify.
      if (isAppError(e)) send(res, HTTP_STATUS[e.code], errorBody(appErrorObject(e)));
      else send(res, 500, errorBody(internal(e, opts.logger)));
      return;
    }

    let rawBody: string;
    try {
      rawBody = await readBody(readText, req, res);
    } catch (e) {
      const err = e as { type?: string; status?: number; message?: string };
      if (err.type === 'entity.too.large') {
        const reason = `The request body exceeds the limit of ${opts.bodyLimitBytes} bytes`;
        send(res, 413, errorBody({ ...RPC_ERROR.INVALID_REQUEST, data: { reason, limitBytes: opts.bodyLimitBytes } }));
      } else {
        // Unsupported charset or content-encoding, aborted upload: the body cannot be read as text.
        const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 400;
        send(res, status, errorBody({ ...RPC_ERROR.PARSE_ERROR, data: { reason: err.message ?? 'Unreadable body' } }));
      }
      return;
    }

    try {
      const { body, status } = await dispatch(rawBody, opts.registry, () => opts.makeContext(req, principal), {
        maxBatch: opts.maxBatch,
        logger: opts.logger,
        onCall: opts.onCall,
      });
      if (body === null) {
        res.status(204).end();
        return;
      }
      send(res, status, body);
    } catch (e) {
      // dispatch answers handler failures itself; reaching here is a bug in this layer.
      send(res, 500, errorBody(internal(e, opts.logger)));
    }
  };
}

function send(res: express.Response, status: number, body: string): void {
  // RFC 9110: a 401 must say how to authenticate.
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
  res.status(status).setHeader('Content-Type', JSON_CONTENT_TYPE);
  res.send(body);
}

function internal(e: unknown, logger: Logger | undefined): JsonRpcErrorObject {
  logger?.error({ err: e }, 'JSON-RPC HTTP layer failed');
  return { ...RPC_ERROR.INTERNAL_ERROR };
}

/** Runs express.text and returns the body as a string. */
function readBody(readText: express.RequestHandler, req: express.Request, res: express.Response): Promise<string> {
  return new Promise((resolve, reject) => {
    readText(req, res, (err?: unknown) => {
      if (err) return reject(err);
      const body: unknown = req.body;
      if (typeof body === 'string') return resolve(body);
      // No body at all: JSON.parse('') gives the -32700 the spec asks for.
      if (body === undefined) return resolve('');
      // A global express.json() ran first and consumed the stream; its parse already
      // succeeded, so re-serializing gives dispatch the same JSON value.
      resolve(JSON.stringify(body));
    });
  });
}
