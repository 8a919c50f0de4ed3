/**
 * API-key scopes. `admin` implies every other scope. Each service function declares the
 * scope it needs; both transports check it through `requireScope` before calling the service.
 */
import { AppError } from '../errors';

export const SCOPES = ['read', 'sync', 'receipts', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  clientId: number;
  name: string;
  scopes: readonly Scope[];
}

export function hasScope(principal: Principal | null | undefined, scope: Scope): boolean {
  if (!principal) return false;
  return principal.scopes.includes('admin') || principal.scopes.includes(scope);
}

/** Throws UNAUTHENTICATED without a principal and FORBIDDEN without the scope. */
export function requireScope(principal: Principal | null | undefined, scope: Scope): Principal {
  if (!principal) throw AppError.unauthenticated();
  if (!hasScope(principal, scope)) throw AppError.forbidden(scope);
  return principal;
}

export function parseScopes(input: string | readonly string[]): Scope[] {
  const list = typeof input === 'string' ? input.split(/[\s,]+/).filter(Boolean) : [...input];
  const bad = list.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (bad.length) {
    throw AppError.badInput(`Unknown scope(s): ${bad.join(', ')}. Known scopes: ${SCOPES.join(', ')}`, [
      { field: 'scopes', message: `unknown: ${bad.join(', ')}` },
    ]);
  }
  if (!list.length) throw AppError.badInput('At least one scope is required', [{ field: 'scopes', message: 'empty' }]);
  return [...new Set(list)] as Scope[];
}
