/**
 * API keys: `oc_<prefix>_<secret>`, 256 random bits. The full key is shown once, at creation;
 * only its SHA-256 is stored (a fast hash is right here: the secret is random, not a password,
 * so there is nothing to brute-force). The prefix is public and finds the row.
 */
import crypto from 'node:crypto';
import { parseScopes, type Principal, type Scope } from '../auth/scopes';
import { nowIso } from '../db/time';
import { AppError } from '../errors';
import { ApiClient } from '../models';
import type { ServiceContext } from './context';

export interface ApiClientView {
  id: number;
  name: string;
  keyPrefix: string;
  scopes: Scope[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const KEY_RE = /^oc_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;
/** last_used_at is written at most this often per key, so reads do not turn into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

function hashKey(key: string): string {
  return crypto.createHash('sha256').update(key).digest('hex');
}

function view(c: ApiClient): ApiClientView {
  return {
    id: c.id,
    name: c.name,
    keyPrefix: c.keyPrefix,
    scopes: c.scopes as Scope[],
    createdAt: c.createdAt,
    lastUsedAt: c.lastUsedAt,
    revokedAt: c.revokedAt,
  };
}

export async function createApiKey(
  ctx: ServiceContext,
  input: { name: string; scopes: string | readonly string[] },
): Promise<{ client: ApiClientView; key: string }> {
  const name = input.name?.trim();
  if (!name) throw AppError.badInput('A name is required', [{ field: 'name', message: 'empty' }]);
  if (name.length > 255) throw AppError.badInput('Name too long', [{ field: 'name', message: 'at most 255 characters' }]);
  const scopes = parseScopes(input.scopes);
  const prefix = crypto.randomBytes(8).toString('hex').slice(0, 10);
  const key = `oc_${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
  const now = nowIso();
  const client = await ApiClient.query(ctx.db).insertAndFetch({
    name,
    keyPrefix: prefix,
    keyHash: hashKey(key),
    scopes,
    createdAt: now,
  });
  ctx.logger.info({ apiClientId: client.id, name, scopes }, 'API key created');
  return { client: view(client), key };
}

export async function listApiKeys(ctx: ServiceContext): Promise<ApiClientView[]> {
  return (await ApiClient.query(ctx.db).orderBy('id')).map(view);
}

/** Revoke by id or by the public prefix; idempotent. */
export async function revokeApiKey(ctx: ServiceContext, idOrPrefix: number | string): Promise<ApiClientView> {
  const q = ApiClient.query(ctx.db);
  const client = await (typeof idOrPrefix === 'number' || /^\d+$/.test(String(idOrPrefix))
    ? q.findById(Number(idOrPrefix))
    : q.findOne({ keyPrefix: String(idOrPrefix).replace(/^oc_/, '').replace(/_.*$/, '') }));
  if (!client) throw AppError.notFound('API key', idOrPrefix);
  if (!client.revokedAt) {
    await ApiClient.query(ctx.db).patch({ revokedAt: nowIso() }).findById(client.id);
    ctx.logger.info({ apiClientId: client.id }, 'API key revoked');
  }
  return view((await ApiClient.query(ctx.db).findById(client.id))!);
}

export async function countApiKeys(ctx: ServiceContext): Promise<number> {
  const r = (await ApiClient.query(ctx.db).count({ n: '*' }).first()) as unknown as { n: number | string };
  return Number(r.n);
}

/**
 * Resolves a bearer key to its principal. Throws UNAUTHENTICATED for malformed, unknown or
 * revoked keys; never says which, so keys cannot be probed.
 */
export async function authenticateKey(ctx: ServiceContext, key: string): Promise<Principal> {
  const m = KEY_RE.exec(key);
  if (!m) throw AppError.unauthenticated('Invalid API key');
  const client = await ApiClient.query(ctx.db).findOne({ keyPrefix: m[1] });
  const expected = Buffer.from(client?.keyHash ?? '0'.repeat(64), 'hex');
  const actual = Buffer.from(hashKey(key), 'hex');
  if (!client || !crypto.timingSafeEqual(expected, actual) || client.revokedAt) {
    throw AppError.unauthenticated('Invalid or revoked API key');
  }
  const last = client.lastUsedAt ? Date.parse(client.lastUsedAt) : 0;
  if (Date.now() - last > LAST_USED_RESOLUTION_MS) {
    // Best effort: a failed bookkeeping write must not fail the caller's request.
    ApiClient.query(ctx.db)
      .patch({ lastUsedAt: nowIso() })
      .findById(client.id)
      .catch((e: unknown) => ctx.logger.warn({ err: e }, 'could not record API key use'));
  }
  return { clientId: client.id, name: client.name, scopes: client.scopes as Scope[] };
}

/** Parses an `Authorization` header value; null when absent. */
export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw AppError.unauthenticated('Authorization header must be "Bearer <API key>"');
  return m[1];
}
