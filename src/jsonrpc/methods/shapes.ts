/**
 * What JSON-RPC answers look like: snake_case keys (the Python/Odoo convention the addons
 * use), ids as numbers, money in minor units, timestamps as ISO-8601 UTC strings. The zod
 * schemas here document results in the OpenRPC document (schema/openrpc.json).
 */
import { z } from 'zod';
import { SYNC_STATUSES } from '../../models';
import { RECEIPT_STATUSES } from '../../services/receipts';

const str = z.string();
const nstr = z.string().nullable();
const nnum = z.number().nullable();
const ts = z.string().describe('ISO-8601 UTC timestamp');
const nts = ts.nullable();

export const pageSchema = <T extends z.ZodTypeAny>(item: T) =>
  z.object({
    items: z.array(item),
    next_cursor: z.string().nullable().describe('Pass as `after` to get the next page; null on the last page'),
  });

export const glassSchema = z.object({ id: z.number(), glass_id: str, name: nstr });
export const partSchema = z.object({
  id: z.number(), kind: z.enum(['article', 'profile']), article_code: str, description: nstr, color: nstr,
  amount: nnum, length: nnum, price_minor: nnum,
});
export const elevationSchema = z.object({
  id: z.number(), guid: str, phase_id: z.number(), version_id: nstr, name: str, description: nstr, description2: nstr,
  width: nnum, height: nnum, amount: nnum, changed_date: nts, auto_description: nstr, auto_description_short: nstr,
  width_out: nnum, width_unit: nstr, height_out: nnum, height_unit: nstr, weight_out: nnum, weight_unit: nstr,
  area_output: nnum, area_unit: nstr, system_code: nstr, system_name: nstr, system_long_name: nstr,
  color_base_long: nstr, has_thumbnail: z.boolean(), parts_file_hash: nstr, parse_status: str, parse_error: nstr,
  parsed_at: nts, synced_at: nts,
  glass: z.array(glassSchema).optional().describe('With with_parts'),
  parts: z.array(partSchema).optional().describe('With with_parts'),
});
export const phaseSchema = z.object({
  id: z.number(), logikal_id: str, is_default: z.boolean(), name: str, description: nstr, synced_at: nts,
  elevations: z.array(elevationSchema).optional(),
});
export const projectSchema = z.object({
  id: z.number(), guid: str, name: str, directory_path: nstr, job_number: nstr, offer_number: nstr,
  person_in_charge: nstr, created_date: nts, changed_date: nts, synced_at: nts, updated_at: ts,
  phases: z.array(phaseSchema).optional().describe('projects.get only'),
});

type DepartmentNodeOut = {
  id: number; guid: string; source_server: string; code: string | null; name: string; type: string;
  taxpayer_id: string | null; depth: number; children: DepartmentNodeOut[];
};
export const departmentNodeSchema: z.ZodType<DepartmentNodeOut> = z.lazy(() =>
  z.object({
    id: z.number(), guid: str, source_server: str, code: nstr, name: str, type: str, taxpayer_id: nstr,
    depth: z.number(), children: z.array(departmentNodeSchema),
  }),
);
export const dailySalesSchema = z.object({
  date: str, department_id: z.number(), product_code: nstr, quantity: z.number(), amount_minor: z.number(),
});
export const productSchema = z.object({
  id: z.number(), sku: str, name: str, ean_codes: z.array(str), updated_at: ts,
  stock: z.array(z.object({ location: str, quantity: z.number(), updated_at: ts })),
  marketplaces: z.array(z.object({
    marketplace: str, external_product_id: nstr, external_variant_id: nstr, external_inventory_id: nstr, external_offer_id: nstr,
  })),
});
export const receiptSchema = z.object({
  id: z.number(), client_uuid: str, status: z.enum(RECEIPT_STATUSES), operation: str, tax_system: nstr,
  items: z.array(z.object({
    name: str, price_minor: z.number(), quantity: z.number(), amount_minor: nnum.optional(), vat: str,
    payment_method: str, payment_subject: str, unit: nstr.optional(),
  })),
  payments: z.array(z.object({ type: str, amount_minor: z.number() })),
  total_minor: z.number(), change_minor: nnum, customer_contact: nstr, cashier_name: nstr,
  fiscal_document_number: nnum, fiscal_sign: nstr, fn_serial: nstr, shift_number: nnum, receipt_number: nnum,
  fiscalised_at: nts, attempt_count: z.number(), last_error: nstr, last_error_code: nnum, created_at: ts, updated_at: ts,
  attempts: z.array(z.object({
    started_at: ts, finished_at: nts, outcome: str, device_error_code: nnum, device_error_text: nstr,
    expected_fiscal_document_number: nnum,
  })).optional().describe('receipts.get only'),
});
export const cashRegisterSchema = z.object({
  configured: z.boolean(),
  state: z.enum(['starting', 'ready', 'offline', 'operator_needed', 'hard_fault', 'stopped', 'not_configured']),
  breaker: z.object({ state: z.enum(['closed', 'open', 'half_open']), consecutive_failures: z.number(), retry_at: nts }).nullable(),
  last_error: z.object({ code: nnum, text: str, at: ts }).nullable(),
  fn_serial: nstr, shift_number: nnum, shift_open: z.boolean().nullable(), shift_opened_at: nts, shift_close_due_at: nts,
  last_fiscal_document_number: nnum,
  warnings: z.object({ fn_expires_soon: z.boolean(), fn_archive_nearly_full: z.boolean(), ofd_timeout: z.boolean() }).nullable(),
  queue: z.object(Object.fromEntries(RECEIPT_STATUSES.map((st) => [st, z.number()])) as Record<(typeof RECEIPT_STATUSES)[number], z.ZodNumber>),
});
export const forecastSchema = z.object({
  id: z.number(), department_id: z.number(), product_code: nstr, date: str, p10: z.number(), p50: z.number(),
  p90: z.number(), model_version: z.object({ id: z.number(), name: str, version: str, algorithm: str }).nullable(),
});
export const syncRunSchema = z.object({
  id: z.number(), kind: str, target: str,
  status: z.enum(SYNC_STATUSES),
  counters: z.record(z.string(), z.number()), done: z.number(), total: nnum, error: nstr, last_step: nstr,
  queued_at: ts, started_at: nts, finished_at: nts, updated_at: ts, duration_ms: nnum,
});

const snakeKeys = new Map<string, string>();
/** Key conversion is cached: the same few hundred column names recur in every answer. */
function snakeKey(k: string): string {
  let s = snakeKeys.get(k);
  if (s === undefined) {
    s = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (snakeKeys.size < 10_000) snakeKeys.set(k, s);
  }
  return s;
}

/** camelCase → snake_case keys, deeply; Buffers are dropped (binary never goes over JSON-RPC). */
export function snake(value: unknown): any {
  if (Array.isArray(value)) return value.map(snake);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    if (Buffer.isBuffer(value)) return undefined;
    const src = typeof (value as { toJSON?: unknown }).toJSON === 'function' && !(value instanceof Date)
      ? (value as { toJSON(): object }).toJSON()
      : value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(src as object)) {
      if (Buffer.isBuffer(v) || typeof v === 'function') continue;
      out[snakeKey(k)] = snake(v);
    }
    return out;
  }
  return value;
}
