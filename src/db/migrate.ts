import type { Knex } from 'knex';
import { migrations, type Migration } from '../../migrations';

/** knex MigrationSource over the in-code list (see migrations/index.ts for why). */
class ListMigrationSource implements Knex.MigrationSource<Migration> {
  async getMigrations(): Promise<Migration[]> {
    return migrations;
  }
  getMigrationName(m: Migration): string {
    return m.name;
  }
  async getMigration(m: Migration): Promise<Knex.Migration> {
    return { up: m.up, down: m.down };
  }
}

const config = (): Knex.MigratorConfig => ({ migrationSource: new ListMigrationSource(), tableName: 'knex_migrations' });

export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest(config())) as [number, string[]];
  return applied;
}

export async function rollbackAll(knex: Knex): Promise<void> {
  await knex.migrate.rollback(config(), true);
}

/** Names of migrations not yet applied (empty = schema current); used by /readyz. */
export async function pendingMigrations(knex: Knex): Promise<string[]> {
  const [, pending] = (await knex.migrate.list(config())) as [unknown[], Migration[]];
  return pending.map((m) => (typeof m === 'string' ? m : m.name));
}
