/**
 * Cursors of resumable imports (iiko sales: the last day fully imported per server and range).
 * A cursor is advanced in the same transaction as the data it covers, so a re-run after a
 * failure starts right after the last committed step.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sync_checkpoints', (t) => {
    t.increments('id');
    t.string('kind', 64).notNullable(); // iiko.sales | …
    t.string('target', 512).notNullable(); // e.g. "iiko-main:2025-01-01..2025-12-31"
    t.string('cursor', 255).notNullable(); // e.g. the last completed day, YYYY-MM-DD
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['kind', 'target']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sync_checkpoints');
}
