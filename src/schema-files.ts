/**
 * The published contracts: schema/schema.graphql (GraphQL SDL) and schema/openrpc.json
 * (JSON-RPC methods). Both are rendered from code; `companion schema emit` writes them and
 * tests/schema-files.test.ts fails when the committed copies differ from the code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { VERSION } from './app';
import { buildGraphQLSchema } from './graphql/schema';
import { createMethodRegistry } from './jsonrpc/methods';
import { buildOpenRpcDocument } from './jsonrpc/openrpc';
import { repoRoot } from './paths';

export const SDL_PATH = 'schema/schema.graphql';
export const OPENRPC_PATH = 'schema/openrpc.json';

export function renderSdl(): string {
  return `${printSchema(lexicographicSortSchema(buildGraphQLSchema()))}\n`;
}

export function renderOpenRpc(): string {
  const registry = createMethodRegistry({ title: 'odoo-companion JSON-RPC', version: VERSION });
  return `${JSON.stringify(buildOpenRpcDocument(registry, registry.info), null, 2)}\n`;
}

export function writeSchemaFiles(root = repoRoot()): string[] {
  const out: Array<[string, string]> = [
    [SDL_PATH, renderSdl()],
    [OPENRPC_PATH, renderOpenRpc()],
  ];
  for (const [rel, text] of out) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return out.map(([rel]) => rel);
}
