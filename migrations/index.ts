/**
 * The ordered list of migrations. Listing them in code (instead of letting knex scan a folder)
 * makes the same list work from TypeScript under vitest and from compiled JS in dist/.
 * A new migration: add a file named YYYYMMDD_NNNN_what.ts and append it here.
 */
import type { Knex } from 'knex';
import * as core from './20261122_0001_core';
import * as iikoSync from './20261201_0002_iiko_sync';
import * as receiptQueue from './20261205_0003_receipt_queue';

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const migrations: Migration[] = [
  { name: '20261122_0001_core', ...core },
  { name: '20261201_0002_iiko_sync', ...iikoSync },
  { name: '20261205_0003_receipt_queue', ...receiptQueue },
];
