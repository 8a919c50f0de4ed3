/**
 * One error type for every use-case. Services throw AppError; each transport maps
 * `code` to its own wire form (GraphQL `extensions.code`, a JSON-RPC error code, an
 * HTTP status, a CLI exit message). Transports never invent business errors.
 */
export const ERROR_CODES = [
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** HTTP status each code maps to when an error decides a whole HTTP response. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

/**
 * JSON-RPC codes per error. Invalid input and internal errors use the spec's own codes
 * (-32602, -32603); the others sit in the implementation-defined server-error range
 * -32000..-32099. docs/jsonrpc.md lists them.
 */
export const JSONRPC_CODE: Record<ErrorCode, number> = {
  BAD_USER_INPUT: -32602,
  UNAUTHENTICATED: -32001,
  FORBIDDEN: -32003,
  NOT_FOUND: -32004,
  CONFLICT: -32009,
  RATE_LIMITED: -32029,
  UNAVAILABLE: -32050,
  INTERNAL_SERVER_ERROR: -32603,
};

export interface FieldProblem {
  /** Dotted path of the offending input field, e.g. `items.2.price`. */
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Machine-readable detail safe to show to the caller (never secrets or stack traces). */
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }

  static badInput(message: string, problems?: FieldProblem[]): AppError {
    return new AppError('BAD_USER_INPUT', message, problems ? { problems } : undefined);
  }
  static notFound(entity: string, key: string | number): AppError {
    return new AppError('NOT_FOUND', `${entity} ${JSON.stringify(key)} not found`, { entity, key });
  }
  static unauthenticated(message = 'A valid API key is required (Authorization: Bearer <key>)'): AppError {
    return new AppError('UNAUTHENTICATED', message);
  }
  static forbidden(scope: string): AppError {
    return new AppError('FORBIDDEN', `This API key lacks the "${scope}" scope`, { requiredScope: scope });
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
