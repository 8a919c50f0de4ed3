/**
 * The whole data model of the first release. Runs unchanged on SQLite and PostgreSQL:
 * only knex's portable column types are used, timestamps are timestamptz (text on SQLite),
 * money is integer minor units (bigInteger), GUIDs are stored lower-case as strings.
 */
import type { Knex } from 'knex';

function stamps(t: Knex.CreateTableBuilder, knex: Knex): void {
  t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
}

export async function up(knex: Knex): Promise<void> {
  // ---- Logikal: directories → projects → phases → elevations → glass / parts
  await knex.schema.createTable('directories', (t) => {
    t.increments('id');
    t.string('path', 1024).notNullable().unique(); // Logikal's directory path is its identity
    t.string('name', 255).notNullable();
    t.integer('parent_id').unsigned().references('id').inTable('directories').onDelete('SET NULL');
    t.integer('level').notNullable().defaultTo(0);
    t.boolean('exclude_from_sync').notNullable().defaultTo(false);
    t.timestamp('synced_at', { useTz: true });
    stamps(t, knex);
  });
  await knex.schema.createTable('projects', (t) => {
    t.increments('id');
    t.string('guid', 36).notNullable().unique();
    t.integer('directory_id').unsigned().references('id').inTable('directories').onDelete('SET NULL');
    t.string('name', 255).notNullable();
    t.string('job_number', 255);
    t.string('offer_number', 255);
    t.string('person_in_charge', 255);
    t.timestamp('created_date', { useTz: true });
    t.timestamp('changed_date', { useTz: true });
    t.timestamp('synced_at', { useTz: true });
    stamps(t, knex);
    t.index(['directory_id']);
    t.index(['name']);
  });
  await knex.schema.createTable('phases', (t) => {
    t.increments('id');
    t.integer('project_id').unsigned().notNullable().references('id').inTable('projects').onDelete('CASCADE');
    // The null GUID is Logikal's default phase and recurs in every project: unique per project only.
    t.string('logikal_id', 36).notNullable();
    t.string('name', 255).notNullable();
    t.text('description');
    t.timestamp('synced_at', { useTz: true });
    stamps(t, knex);
    t.unique(['project_id', 'logikal_id']);
  });
  await knex.schema.createTable('elevations', (t) => {
    t.increments('id');
    t.string('guid', 36).notNullable().unique();
    t.integer('phase_id').unsigned().notNullable().references('id').inTable('phases').onDelete('CASCADE');
    t.string('version_id', 64);
    t.string('name', 255).notNullable();
    t.text('description');
    t.text('description2');
    t.double('width');
    t.double('height');
    t.integer('amount');
    t.timestamp('changed_date', { useTz: true });
    // From the parts list's Elevations table (units carried through, never assumed).
    t.text('auto_description');
    t.text('auto_description_short');
    t.double('width_out');
    t.string('width_unit', 32);
    t.double('height_out');
    t.string('height_unit', 32);
    t.double('weight_out');
    t.string('weight_unit', 32);
    t.double('area_output');
    t.string('area_unit', 32);
    t.string('system_code', 255);
    t.string('system_name', 255);
    t.string('system_long_name', 512);
    t.string('color_base_long', 512);
    t.binary('thumbnail');
    t.string('thumbnail_mime', 64);
    t.string('parts_file_hash', 64);
    t.integer('parts_file_size');
    t.string('parse_status', 32).notNullable().defaultTo('pending'); // pending|success|failed
    t.text('parse_error');
    t.timestamp('parsed_at', { useTz: true });
    t.timestamp('synced_at', { useTz: true });
    stamps(t, knex);
    t.index(['phase_id']);
  });
  await knex.schema.createTable('elevation_glass', (t) => {
    t.increments('id');
    t.integer('elevation_id').unsigned().notNullable().references('id').inTable('elevations').onDelete('CASCADE');
    t.string('glass_id', 100).notNullable();
    t.text('name');
    t.index(['elevation_id']);
  });
  await knex.schema.createTable('elevation_parts', (t) => {
    t.increments('id');
    t.integer('elevation_id').unsigned().notNullable().references('id').inTable('elevations').onDelete('CASCADE');
    t.string('kind', 16).notNullable(); // article | profile
    t.string('article_code', 255).notNullable();
    t.text('description');
    t.string('color', 255);
    t.double('amount');
    t.double('length');
    t.bigInteger('price_minor'); // integer minor units
    t.index(['elevation_id']);
  });

  // ---- iiko: departments tree and daily sales
  await knex.schema.createTable('departments', (t) => {
    t.increments('id');
    t.string('guid', 36).notNullable();
    t.string('source_server', 255).notNullable(); // which configured iiko server it came from
    t.integer('parent_id').unsigned().references('id').inTable('departments').onDelete('SET NULL');
    t.string('parent_guid', 36);
    t.string('code', 255);
    t.string('name', 255).notNullable();
    t.string('type', 64).notNullable(); // CORPORATION | JURPERSON | DEPARTMENT | STORE | SALEPOINT ...
    t.string('taxpayer_id', 32);
    t.timestamp('removed_at', { useTz: true }); // gone upstream: marked, not deleted
    t.timestamp('synced_at', { useTz: true });
    stamps(t, knex);
    t.unique(['source_server', 'guid']);
    t.index(['parent_id']);
  });
  await knex.schema.createTable('daily_sales', (t) => {
    t.increments('id');
    t.integer('department_id').unsigned().notNullable().references('id').inTable('departments').onDelete('CASCADE');
    t.string('product_code', 255).notNullable(); // iiko dish code/id
    t.string('product_name', 255);
    t.string('date', 10).notNullable(); // YYYY-MM-DD, the department's business day
    t.double('quantity').notNullable().defaultTo(0);
    t.bigInteger('amount_minor').notNullable().defaultTo(0);
    t.timestamp('imported_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['department_id', 'product_code', 'date']);
    t.index(['date']);
  });

  // ---- Products, stock and marketplaces (Allegro orders in, Wix inventory out)
  await knex.schema.createTable('products', (t) => {
    t.increments('id');
    t.string('sku', 128).notNullable().unique();
    t.string('name', 512).notNullable();
    t.json('ean_codes').notNullable(); // string[]
    stamps(t, knex);
  });
  await knex.schema.createTable('stock_levels', (t) => {
    t.increments('id');
    t.integer('product_id').unsigned().notNullable().references('id').inTable('products').onDelete('CASCADE');
    t.string('location', 128).notNullable();
    t.double('quantity').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['product_id', 'location']);
  });
  await knex.schema.createTable('marketplace_mappings', (t) => {
    t.increments('id');
    t.integer('product_id').unsigned().notNullable().references('id').inTable('products').onDelete('CASCADE');
    t.string('marketplace', 32).notNullable(); // wix | allegro
    t.string('external_product_id', 128);
    t.string('external_variant_id', 128);
    t.string('external_inventory_id', 128);
    t.string('external_offer_id', 128);
    stamps(t, knex);
    t.unique(['product_id', 'marketplace']);
  });

  // ---- Fiscal receipts and their attempt log
  await knex.schema.createTable('receipts', (t) => {
    t.increments('id');
    t.string('client_uuid', 36).notNullable().unique(); // idempotency key from the caller
    t.string('status', 32).notNullable(); // queued|printing|fiscalised|failed|dead|cancelled
    t.string('operation', 32).notNullable().defaultTo('sale'); // sale | sale_return ...
    t.string('tax_system', 32);
    t.json('items').notNullable();
    t.json('payments').notNullable();
    t.bigInteger('total_minor').notNullable();
    t.string('customer_contact', 255);
    t.bigInteger('expected_fiscal_document_number');
    t.bigInteger('fiscal_document_number');
    t.string('fiscal_sign', 32);
    t.integer('shift_number');
    t.timestamp('fiscalised_at', { useTz: true });
    t.integer('attempt_count').notNullable().defaultTo(0);
    t.text('last_error');
    stamps(t, knex);
    t.index(['status', 'id']);
  });
  await knex.schema.createTable('receipt_attempts', (t) => {
    t.increments('id');
    t.integer('receipt_id').unsigned().notNullable().references('id').inTable('receipts').onDelete('CASCADE');
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true });
    t.string('outcome', 32).notNullable(); // ok | device_error | transport_error | reconciled
    t.integer('device_error_code');
    t.text('device_error_text');
    t.index(['receipt_id']);
  });

  // ---- Forecasts
  await knex.schema.createTable('model_versions', (t) => {
    t.increments('id');
    t.string('name', 128).notNullable();
    t.string('version', 64).notNullable();
    t.string('algorithm', 64).notNullable();
    t.json('metrics'); // e.g. { wape: 0.21, mase: 0.8 }
    t.timestamp('trained_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['name', 'version']);
  });
  await knex.schema.createTable('forecasts', (t) => {
    t.increments('id');
    t.integer('department_id').unsigned().notNullable().references('id').inTable('departments').onDelete('CASCADE');
    t.string('product_code', 255); // null = the department's total
    t.string('date', 10).notNullable();
    t.double('p10').notNullable();
    t.double('p50').notNullable();
    t.double('p90').notNullable();
    t.integer('model_version_id').unsigned().notNullable().references('id').inTable('model_versions').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['department_id', 'date']);
  });

  // ---- Sync runs and their progress events (every long job reports through these)
  await knex.schema.createTable('sync_runs', (t) => {
    t.increments('id');
    t.string('kind', 64).notNullable(); // logikal.project | iiko.departments | ...
    t.string('target', 512).notNullable();
    t.string('status', 32).notNullable(); // queued|running|succeeded|failed|cancelled|interrupted
    t.json('counters').notNullable();
    t.integer('done').notNullable().defaultTo(0);
    t.integer('total');
    t.string('last_step', 128); // the latest progress step, or the final status
    t.text('error');
    t.timestamp('queued_at', { useTz: true }).notNullable();
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.index(['kind', 'target', 'status']);
  });
  await knex.schema.createTable('sync_events', (t) => {
    t.increments('id');
    t.integer('run_id').unsigned().notNullable().references('id').inTable('sync_runs').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.string('step', 128).notNullable();
    t.text('message');
    t.integer('done');
    t.integer('total');
    t.json('counters');
    t.timestamp('at', { useTz: true }).notNullable();
    t.unique(['run_id', 'seq']);
  });

  // ---- API clients (keys stored as SHA-256 of a 256-bit random secret)
  await knex.schema.createTable('api_clients', (t) => {
    t.increments('id');
    t.string('name', 255).notNullable();
    t.string('key_prefix', 32).notNullable().unique(); // public part shown in listings
    t.string('key_hash', 64).notNullable();
    t.json('scopes').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'api_clients', 'sync_events', 'sync_runs', 'forecasts', 'model_versions', 'receipt_attempts',
    'receipts', 'marketplace_mappings', 'stock_levels', 'products', 'daily_sales', 'departments',
    'elevation_parts', 'elevation_glass', 'elevations', 'phases', 'projects', 'directories',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
