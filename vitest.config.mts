import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql ships an ESM and a CJS build; Apollo, type-graphql and graphql-ws load the CJS
    // one, so tests and sources must too, or graphql rejects objects "from another realm".
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['tests/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Every test file gets its own SQLite file and PostgreSQL schema, so files run in parallel.
    fileParallelism: true,
  },
});
