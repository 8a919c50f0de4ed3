/**
 * schema/ holds the published contracts. They must match the code: run
 * `npm run schema:emit` (after `npm run build`) when this fails on purpose.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/paths';
import { OPENRPC_PATH, SDL_PATH, renderOpenRpc, renderSdl } from '../src/schema-files';

const read = (rel: string) => fs.readFileSync(path.join(repoRoot(), rel), 'utf8');

describe('published schema files', () => {
  it('schema/schema.graphql is the SDL the code emits', () => {
    expect(read(SDL_PATH)).toBe(renderSdl());
  });

  it('schema/openrpc.json is the OpenRPC document the code emits', () => {
    expect(read(OPENRPC_PATH)).toBe(renderOpenRpc());
  });

  it('the SDL carries the Relay connection and subscription contracts', () => {
    const sdl = renderSdl();
    expect(sdl).toMatch(/type ProjectConnection \{[^}]*edges: \[ProjectEdge!\]!/s);
    expect(sdl).toMatch(/type PageInfo \{[^}]*hasNextPage: Boolean!/s);
    expect(sdl).toMatch(/syncRunUpdated\(id: ID!\): SyncRun!/);
  });
});
