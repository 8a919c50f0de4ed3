/**
 * Read use-cases over products, stock and forecasts. Their writers arrive with the Allegro/Wix
 * and forecasting issues; the shapes are fixed here. (Receipts: services/receipts.ts.)
 */
import { AppError } from '../errors';
import { Forecast, Product } from '../models';
import type { ServiceContext } from './context';
import { paginate, type Page, type PageArgs } from './pagination';
import { containsPattern } from './sql';

export async function listProducts(
  ctx: ServiceContext,
  filter: { search?: string | null; sku?: string | null; ean?: string | null } = {},
  page: PageArgs = {},
  order: { field: 'sku' | 'name' | 'id'; direction: 'asc' | 'desc' } = { field: 'sku', direction: 'asc' },
): Promise<Page<Product>> {
  const q = ctx.db('products');
  if (filter.sku) q.where('products.sku', filter.sku);
  if (filter.search) {
    const p = containsPattern(filter.search);
    q.where((w) => w.whereRaw("lower(products.name) like ? escape '\\'", [p]).orWhereRaw("lower(products.sku) like ? escape '\\'", [p]));
  }
  // EAN codes are a JSON array; a quoted substring match works on SQLite text and PG json text alike.
  if (filter.ean) q.whereRaw('cast(products.ean_codes as text) like ?', [`%"${filter.ean.replace(/[^0-9]/g, '')}"%`]);
  return paginate(q, 'products', page, { column: order.field, direction: order.direction }, (r) => Product.fromDatabaseJson(r));
}

export async function getProduct(ctx: ServiceContext, key: { id?: number | null; sku?: string | null }): Promise<Product> {
  if (key.id == null && !key.sku) throw AppError.badInput('Give a product id or sku', [{ field: 'id', message: 'id or sku is required' }]);
  const p = key.id != null ? await Product.query(ctx.db).findById(key.id) : await Product.query(ctx.db).findOne({ sku: key.sku! });
  if (!p) throw AppError.notFound('Product', key.id ?? key.sku ?? '');
  return p;
}

export async function listForecasts(
  ctx: ServiceContext,
  filter: { departmentId?: number | null; productCode?: string | null; totalOnly?: boolean | null; from?: string | null; to?: string | null; modelVersionId?: number | null } = {},
  page: PageArgs = {},
): Promise<Page<Forecast>> {
  const q = ctx.db('forecasts');
  if (filter.departmentId != null) q.where('forecasts.departmentId', filter.departmentId);
  if (filter.productCode) q.where('forecasts.productCode', filter.productCode);
  if (filter.totalOnly) q.whereNull('forecasts.productCode');
  if (filter.from) q.where('forecasts.date', '>=', filter.from);
  if (filter.to) q.where('forecasts.date', '<=', filter.to);
  if (filter.modelVersionId != null) q.where('forecasts.modelVersionId', filter.modelVersionId);
  return paginate(q, 'forecasts', page, { column: 'date', direction: 'asc' }, (r) => Forecast.fromDatabaseJson(r));
}
