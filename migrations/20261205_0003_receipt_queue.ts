/**
 * The fiscal receipt queue (issue 5):
 *
 * - receipts gain what the printer worker needs to print a receipt exactly once: the FN serial
 *   the expected fiscal document number was read from (a replaced FN makes reconciliation
 *   ambiguous), the receipt's number in its shift and the change given, the device error of the
 *   last failure, when the next attempt may start (backoff after an operator error), the
 *   cashier, and `print_payload`: the receipt exactly as it is sent to the register (integer
 *   money and quantities, tags resolved), fixed at intake so a retry prints the same document.
 * - kkt_state: one row per register: what we know of its FN and shift. `shift_opened_at` is
 *   when *we* saw the shift open (the device does not report it); the worker closes the shift
 *   before 24 h from it.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('receipts', (t) => {
    t.string('fn_serial', 32);
    t.integer('receipt_number');
    t.bigInteger('change_minor');
    t.integer('last_error_code');
    t.timestamp('next_attempt_at', { useTz: true });
    t.string('cashier_name', 64);
    t.json('print_payload');
  });
  await knex.schema.alterTable('receipt_attempts', (t) => {
    t.bigInteger('expected_fiscal_document_number');
  });
  await knex.schema.createTable('kkt_state', (t) => {
    t.string('register_id', 64).primary();
    t.string('fn_serial', 32);
    t.integer('shift_number');
    t.timestamp('shift_opened_at', { useTz: true });
    t.bigInteger('last_fiscal_document_number');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('kkt_state');
  await knex.schema.alterTable('receipt_attempts', (t) => {
    t.dropColumn('expected_fiscal_document_number');
  });
  await knex.schema.alterTable('receipts', (t) => {
    for (const c of ['fn_serial', 'receipt_number', 'change_minor', 'last_error_code', 'next_attempt_at', 'cashier_name', 'print_payload']) {
      t.dropColumn(c);
    }
  });
}
