/**
 * Typed errors of the iiko integration (re-exported by client.ts and xml.ts).
 *
 * - IikoAuthError: 401 — bad credentials on login, or an unknown/expired token on a call
 *   (the session re-authenticates once on the latter before it surfaces).
 * - IikoLicenceError: a login refused for want of a licence seat (isLicenceRefusal decides).
 * - IikoXmlError: a departments document that is too large, malformed, declares entities/a
 *   DOCTYPE, or has an unexpected shape. Never retried.
 * - IikoError otherwise: kind 'http' (other statuses, retries exhausted on 5xx), 'timeout',
 *   'network', 'contract' (a 2xx answer that is not what the contract says).
 *
 * Messages never contain the password, its SHA-1 or a token (the client scrubs them).
 */

export type IikoErrorKind = 'http' | 'timeout' | 'network' | 'xml' | 'contract';

export interface IikoErrorInit {
  status?: number;
  kind?: IikoErrorKind;
  /** Requests made for this operation, retries included. */
  attempts?: number;
  cause?: unknown;
}

export class IikoError extends Error {
  /** HTTP status; 0 when no answer was received (timeout, network) or the error is local. */
  readonly status: number;
  readonly kind: IikoErrorKind;
  /** The configured server name ('' for a standalone parse). */
  readonly server: string;
  /** 'login', 'logout', 'departments', 'sales' or 'parse'. */
  readonly op: string;
  readonly attempts: number;

  constructor(server: string, op: string, message: string, init: IikoErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'IikoError';
    this.server = server;
    this.op = op;
    this.status = init.status ?? 0;
    this.kind = init.kind ?? 'http';
    this.attempts = init.attempts ?? 1;
  }
}

/** 401: wrong login/password (op 'login'), or an unknown/expired token. */
export class IikoAuthError extends IikoError {
  constructor(...args: ConstructorParameters<typeof IikoError>) {
    super(...args);
    this.name = 'IikoAuthError';
  }
}

/** A login refused because every licence seat is taken (another token holds it). */
export class IikoLicenceError extends IikoError {
  constructor(...args: ConstructorParameters<typeof IikoError>) {
    super(...args);
    this.name = 'IikoLicenceError';
  }
}

export type IikoXmlProblem = 'too_large' | 'malformed' | 'entities' | 'shape';

/** A departments document the companion refuses to use. Never retried. */
export class IikoXmlError extends IikoError {
  readonly problem: IikoXmlProblem;

  constructor(problem: IikoXmlProblem, message: string, init: { server?: string; op?: string; status?: number; cause?: unknown } = {}) {
    super(init.server ?? '', init.op ?? 'parse', message, { status: init.status ?? 0, kind: 'xml', cause: init.cause });
    this.name = 'IikoXmlError';
    this.problem = problem;
  }
}

/**
 * Does this non-2xx answer to a login mean "no free licence seat"? The ONLY place that knows.
 *
 * [unverified] The wire form of a real refusal has not been observed. It matches the simulator's
 * choice (HTTP 409, text "License enhancement is required: no free connections for the API
 * (n of n in use)") and the plausible variants: any 403/409/429/500/503 whose text talks about a
 * licence or connections being used up, in English or Russian. A 401 is never a licence
 * refusal (that is bad credentials). Adjust here once a real answer has been seen.
 */
export function isLicenceRefusal(status: number, body: string): boolean {
  if (![403, 409, 429, 500, 503].includes(status)) return false;
  return /licen[cs]e|лиценз|no free (connection|seat|slot)s?|connections? limit|(connections?|seats?|slots?) (are )?(exhausted|in use|used up)|нет свободных/i.test(body);
}
