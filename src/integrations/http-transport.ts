/**
 * The HTTP stack of every integration client (Logikal, iiko, …): keep-alive agents with a
 * per-request hook, timeouts, size caps and cut-short bodies detected.
 */
import http from 'node:http';
import https from 'node:https';
import fetch, { type RequestInit } from 'node-fetch';
import type { Logger } from '../logger';

/**
 * node-fetch 2 never ends (nor fails) a body whose socket closes before the announced
 * Content-Length arrived — it only detects that for chunked bodies — so a truncated answer
 * would hang until the timeout. The agents are therefore made hookable: the `agent` callback of
 * one fetch arms a hook that the agent runs on that request's ClientRequest (Node calls
 * `agent.addRequest` synchronously inside http.request, which node-fetch calls synchronously
 * inside fetch()), and the hook watches the response for `close` before `complete`.
 */
type RequestHook = (req: http.ClientRequest) => void;
interface HookableAgent {
  armHook(hook: RequestHook | undefined): void;
}

function hookable<A extends http.Agent>(agent: A): A & HookableAgent {
  let armed: RequestHook | undefined;
  const target = agent as unknown as { addRequest: (req: http.ClientRequest, opts: unknown) => unknown };
  const addRequest = target.addRequest.bind(agent);
  target.addRequest = (req, opts) => {
    const hook = armed;
    armed = undefined;
    hook?.(req);
    return addRequest(req, opts);
  };
  const arm: HookableAgent = {
    armHook: (hook) => {
      armed = hook;
    },
  };
  return Object.assign(agent, arm);
}

/** Why an HTTP exchange failed below the application: each client maps these to its own errors. */
/** 'aborted': the caller's signal fired (a cancelled or stopping job); never worth a retry. */
export type TransportFailureKind = 'timeout' | 'truncated' | 'too-large' | 'network' | 'aborted';

export class TransportFailure extends Error {
  constructor(
    readonly kind: TransportFailureKind,
    message: string,
    /** The HTTP status when headers had arrived, else 0. */
    readonly status: number,
    /** True only when the request provably never reached the server (connection refused, DNS). */
    readonly notSent: boolean,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'TransportFailure';
  }
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export interface HttpExchange {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  maxBytes: number;
  compress?: boolean;
  /** Aborts the exchange (a job being cancelled or stopped): TransportFailure kind 'aborted'. */
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

/**
 * One keep-alive HTTP stack for an integration client (node-fetch over hookable agents): a
 * per-request timeout, size cap and detection of bodies cut short. Messages never carry the URL
 * (it may hold a key); the client adds its own context.
 */
export class HttpTransport {
  private readonly httpAgent: http.Agent & HookableAgent;
  private readonly httpsAgent: https.Agent & HookableAgent;

  constructor(opts: { maxSockets: number }) {
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets, keepAliveMsecs: 1_000 };
    this.httpAgent = hookable(new http.Agent(agentOpts));
    this.httpsAgent = hookable(new https.Agent(agentOpts));
  }

  async send(x: HttpExchange): Promise<HttpAnswer> {
    if (x.signal?.aborted) throw new TransportFailure('aborted', 'request aborted before it was sent', 0, true);
    const controller = new AbortController();
    /** Why we aborted: our timer, a body cut short, a body over the cap, or the caller. */
    let abortedBy: 'timeout' | 'truncated' | 'too-large' | 'caller' | undefined;
    const timer = setTimeout(() => {
      abortedBy ??= 'timeout';
      controller.abort();
    }, x.timeoutMs);
    const onCallerAbort = () => {
      abortedBy ??= 'caller';
      controller.abort();
    };
    x.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const watch: RequestHook = (req) =>
      req.once('response', (res: http.IncomingMessage) =>
        res.once('close', () => {
          if (res.complete) return;
          abortedBy ??= 'truncated';
          controller.abort();
        }),
      );
    let status = 0;
    try {
      const pending = fetch(x.url, {
        method: x.method,
        headers: x.headers,
        body: x.body,
        agent: (u: URL) => {
          const agent = u.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
          agent.armHook(watch);
          return agent;
        },
        signal: controller.signal as unknown as RequestInit['signal'],
        redirect: 'manual',
        compress: x.compress ?? true,
        size: x.maxBytes,
      });
      // The hook is consumed synchronously inside fetch(); never leave it armed for another request.
      this.httpAgent.armHook(undefined);
      this.httpsAgent.armHook(undefined);
      const res = await pending;
      status = res.status;
      const declared = res.headers.get('content-length');
      if (declared !== null && Number(declared) > x.maxBytes) {
        abortedBy = 'too-large';
        controller.abort();
        throw new TransportFailure('too-large', `${declared} bytes announced, more than ${x.maxBytes}`, status, false);
      }
      let body: Buffer;
      try {
        body = await res.buffer();
      } catch (e) {
        if ((e as { type?: string }).type === 'max-size') {
          abortedBy = 'too-large';
          controller.abort(); // the rest is still coming: drop the connection
          throw new TransportFailure('too-large', `the body exceeded ${x.maxBytes} bytes`, status, false, e);
        }
        throw e;
      }
      if (declared !== null && Number(declared) !== body.length) {
        throw new TransportFailure('truncated', `truncated answer (${body.length} of ${declared} bytes)`, status, false);
      }
      return { status, contentType: res.headers.get('content-type') ?? '', body };
    } catch (e) {
      if (e instanceof TransportFailure) throw e;
      const err = e as { name?: string; code?: string; type?: string };
      if (abortedBy === 'caller') throw new TransportFailure('aborted', 'request aborted', status, false, e);
      if (abortedBy === 'truncated') {
        throw new TransportFailure('truncated', 'truncated answer (the connection closed before the whole body arrived)', status, false, e);
      }
      if (abortedBy === 'timeout' || err.name === 'AbortError') {
        throw new TransportFailure('timeout', `no answer within ${x.timeoutMs} ms`, status, false, e);
      }
      // node-fetch puts the URL in its messages: only the code is kept.
      const code = err.code ?? err.type ?? 'error';
      throw new TransportFailure('network', `connection failed (${code})`, status, err.code !== undefined && NOT_SENT_CODES.has(err.code), e);
    } finally {
      clearTimeout(timer);
      x.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** A failure worth retrying; `performed` 'no' means the server provably did not act on it. */
export class Transient<E extends Error> {
  constructor(
    readonly error: E,
    readonly performed: 'no' | 'unknown',
  ) {}
}

export interface RetryPolicy {
  retries: number;
  /** First back-off; it doubles per attempt (full jitter, capped at 60 s). */
  baseMs: number;
  /**
   * A login whose outcome is unknown is never retried: each login may take a licence seat on
   * the server, and a second one could leave the first seat taken until it expires.
   */
  isLogin: boolean;
  logger?: Logger;
  /** Log fields naming the call, e.g. { server, op }. */
  context: Record<string, unknown>;
  onRetry?: () => void;
  /** Ends a back-off early (a job cancelled or stopping): TransportFailure kind 'aborted'. */
  signal?: AbortSignal;
}

/** Waits `ms`, or less when `signal` fires (then throws TransportFailure 'aborted'). */
async function backOff(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise((r) => setTimeout(r, ms));
  if (signal.aborted) throw new TransportFailure('aborted', 'request aborted during a retry back-off', 0, true);
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new TransportFailure('aborted', 'request aborted during a retry back-off', 0, true));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `attempt(n)` until it succeeds, throws something else than a Transient, or the policy says stop. */
export async function withRetries<T, E extends Error & { kind?: string; status?: number }>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (!(e instanceof Transient)) throw e;
      const err = e.error as E;
      const mayRetry = n <= policy.retries && (!policy.isLogin || e.performed === 'no');
      if (!mayRetry) {
        if (policy.isLogin && e.performed === 'unknown') {
          policy.logger?.warn({ ...policy.context, kind: err.kind, status: err.status }, 'login outcome unknown: not retried (a session may hold a seat on the server until it expires)');
        }
        throw err;
      }
      const wait = Math.random() * Math.min(60_000, policy.baseMs * 2 ** (n - 1));
      policy.onRetry?.();
      policy.logger?.warn({ ...policy.context, attempt: n, kind: err.kind, status: err.status, waitMs: Math.round(wait) }, `request failed, retrying: ${err.message}`);
      await backOff(wait, policy.signal);
    }
  }
}
