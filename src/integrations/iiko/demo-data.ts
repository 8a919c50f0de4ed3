/**
 * The demo's iiko data set, shared by the demo seed (seeds/demo.ts) and the demo simulators
 * (demoIikoServers in ./simulator): two servers, "iiko-main" (52 departments: a restaurant group
 * with three legal entities) and "iiko-second" (22: a coffee-shop chain), and 90 days of daily
 * sales for 6 departments × 10 dishes ending the day before `now`.
 *
 * Because both sides call this one function, a sync of the demo servers finds the seeded rows
 * unchanged: the same GUIDs, names, codes, types, tax ids and tree, and the same
 * (department, dish code, day) → quantity, amount.
 *
 * Determinism: one PRNG stream ("iiko") consumed in a fixed order — the main tree, the second
 * tree, one scale per selling department, then one noise draw per (department, dish, day) in
 * that nesting — exactly the order the seed has always used, so the seeded rows did not change
 * when this moved here. Dish GUIDs (which the seed does not store) come from a second stream
 * ("iiko-dishes") so that they cannot shift the first.
 */
import type { RawDepartment } from './xml';
import { Rng, inn } from './simulator/random';

export const DEMO_IIKO_DEFAULT_NOW = '2026-11-01T00:00:00Z';
/** Days of sales history, ending the day before `now`. */
export const DEMO_IIKO_SALES_DAYS = 90;

export type DemoIikoServerName = 'iiko-main' | 'iiko-second';

export interface DemoDish {
  /** The dish's product GUID in iiko (DishId). */
  id: string;
  /** DishCode: what the companion stores as daily_sales.product_code. */
  code: string;
  name: string;
  /** Price in kopecks. */
  priceMinor: number;
  /** Average quantity per day before the department's scale and the weekday factor. */
  baseQty: number;
}

/** A department of the demo trees; `parentId` null = the root (no <parentId> on the wire). */
export interface DemoDepartment extends RawDepartment {
  /** 0 = CORPORATION root. */
  depth: number;
}

export interface DemoSalesDepartment {
  /** The department's GUID. */
  guid: string;
  dishes: readonly DemoDish[];
  /** Weekday factors, index = getUTCDay() (0 = Sunday). */
  week: readonly number[];
  scale: number;
}

export interface DemoSaleRow {
  /** YYYY-MM-DD, the accounting day. */
  date: string;
  /** Department GUID. */
  departmentId: string;
  dishId: string;
  dishCode: string;
  dishName: string;
  quantity: number;
  /** Kopecks (quantity × price). */
  amountMinor: number;
}

export interface DemoIikoServer {
  name: DemoIikoServerName;
  /** In insertion order: every parent before its children. */
  departments: DemoDepartment[];
  salesDepartments: DemoSalesDepartment[];
  /** Ordered by department, dish, then date ascending (the seed's insertion order). */
  sales: DemoSaleRow[];
}

type DishSpec = Omit<DemoDish, 'id'>;

const RESTAURANT_DISHES: DishSpec[] = [
  { code: '00101', name: 'Борщ с пампушками', priceMinor: 42_000, baseQty: 28 },
  { code: '00102', name: 'Салат «Цезарь» с курицей', priceMinor: 52_000, baseQty: 34 },
  { code: '00103', name: 'Пельмени домашние', priceMinor: 48_000, baseQty: 30 },
  { code: '00104', name: 'Стейк из говядины', priceMinor: 145_000, baseQty: 9 },
  { code: '00105', name: 'Котлета по-киевски', priceMinor: 61_000, baseQty: 14 },
  { code: '00106', name: 'Уха по-фински', priceMinor: 55_000, baseQty: 12 },
  { code: '00107', name: 'Блины с икрой', priceMinor: 89_000, baseQty: 8 },
  { code: '00108', name: 'Морс клюквенный 0,5 л', priceMinor: 19_000, baseQty: 40 },
  { code: '00109', name: 'Чай чёрный, чайник', priceMinor: 25_000, baseQty: 22 },
  { code: '00110', name: 'Медовик', priceMinor: 32_000, baseQty: 18 },
];

const COFFEE_DISHES: DishSpec[] = [
  { code: '20101', name: 'Капучино 300 мл', priceMinor: 24_000, baseQty: 85 },
  { code: '20102', name: 'Латте 400 мл', priceMinor: 27_000, baseQty: 70 },
  { code: '20103', name: 'Американо 300 мл', priceMinor: 19_000, baseQty: 55 },
  { code: '20104', name: 'Флэт уайт', priceMinor: 26_000, baseQty: 40 },
  { code: '20105', name: 'Раф ванильный', priceMinor: 31_000, baseQty: 30 },
  { code: '20106', name: 'Матча латте', priceMinor: 33_000, baseQty: 18 },
  { code: '20107', name: 'Круассан', priceMinor: 18_000, baseQty: 45 },
  { code: '20108', name: 'Сырник с джемом', priceMinor: 21_000, baseQty: 25 },
  { code: '20109', name: 'Сэндвич с индейкой', priceMinor: 39_000, baseQty: 28 },
  { code: '20110', name: 'Морковный торт', priceMinor: 29_000, baseQty: 20 },
];

/** Weekday factors, index = getUTCDay() (0 = Sunday). */
const RESTAURANT_WEEK = [1.15, 0.8, 0.85, 0.9, 1.0, 1.3, 1.45];
const COFFEE_WEEK = [0.75, 1.1, 1.1, 1.05, 1.05, 1.0, 0.8];

const DAY_MS = 24 * 60 * 60 * 1000;

/** 'YYYY-MM-DD' of the UTC day `days` after the UTC day of `ms`. */
const isoDay = (ms: number, days = 0): string => new Date(Math.floor(ms / DAY_MS) * DAY_MS + days * DAY_MS).toISOString().slice(0, 10);
const round = (x: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
};

function mainServerTree(rng: Rng): DemoDepartment[] {
  const out: DemoDepartment[] = [];
  const corp: DemoDepartment = { id: rng.guid(), parentId: null, depth: 0, code: null, name: 'ГК «Вкусные истории»', type: 'CORPORATION', taxpayerId: null };
  out.push(corp);
  const jurs = [
    { name: 'ООО «Вкусные истории»', inn: inn(rng, 10, '77') },
    { name: 'ООО «Северная кухня»', inn: inn(rng, 10, '78') },
    { name: 'ИП Смирнова Анна Викторовна', inn: inn(rng, 12, '50') },
  ];
  const restaurants = ['Волга', 'Ладога', 'Онега', 'Байкал', 'Арбат', 'Невский', 'Таймыр', 'Урал', 'Алтай', 'Камчатка', 'Сахалин', 'Селигер'];
  const kinds = ['Ресторан', 'Кафе', 'Бистро'];
  let d = 0;
  jurs.forEach((j, ji) => {
    const jur: DemoDepartment = { id: rng.guid(), parentId: corp.id, depth: 1, code: `J${ji + 1}`, name: j.name, type: 'JURPERSON', taxpayerId: j.inn };
    out.push(jur);
    for (let k = 0; k < 4; k++, d++) {
      const short = restaurants[d]!;
      const code = String(101 + d);
      const dept: DemoDepartment = {
        id: rng.guid(), parentId: jur.id, depth: 2, code, name: `${kinds[d % kinds.length]} «${short}»`, type: 'DEPARTMENT', taxpayerId: j.inn,
      };
      out.push(dept);
      const child = (n: number, type: string, name: string): DemoDepartment => ({
        id: rng.guid(), parentId: dept.id, depth: 3, code: `${code}.${n}`, name: `${name} — ${short}`, type, taxpayerId: null,
      });
      out.push(child(1, 'STORE', 'Склад'));
      out.push(child(2, 'SALEPOINT', 'Зал'));
      out.push(d % 2 === 0 ? child(3, 'SALEPOINT', 'Бар') : child(3, 'MANUFACTURE', 'Заготовочный цех'));
    }
  });
  return out; // 1 + 3 + 12 + 36 = 52
}

function secondServerTree(rng: Rng): DemoDepartment[] {
  const out: DemoDepartment[] = [];
  const corp: DemoDepartment = { id: rng.guid(), parentId: null, depth: 0, code: null, name: 'Сеть кофеен «Зерно»', type: 'CORPORATION', taxpayerId: null };
  out.push(corp);
  out.push({ id: rng.guid(), parentId: corp.id, depth: 1, code: 'CS', name: 'Центральный склад «Зерно»', type: 'CENTRALSTORE', taxpayerId: null });
  const jurs = [
    { name: 'ООО «Зерно»', inn: inn(rng, 10, '77') },
    { name: 'ИП Ковалёв Дмитрий Сергеевич', inn: inn(rng, 12, '77') },
  ];
  const shops = ['Покровка', 'Маросейка', 'Чистые пруды', 'Сретенка', 'Таганка', 'Остоженка'];
  let d = 0;
  jurs.forEach((j, ji) => {
    const jur: DemoDepartment = { id: rng.guid(), parentId: corp.id, depth: 1, code: `J${ji + 1}`, name: j.name, type: 'JURPERSON', taxpayerId: j.inn };
    out.push(jur);
    for (let k = 0; k < 3; k++, d++) {
      const short = shops[d]!;
      const code = String(201 + d);
      const dept: DemoDepartment = { id: rng.guid(), parentId: jur.id, depth: 2, code, name: `Кофейня «Зерно» — ${short}`, type: 'DEPARTMENT', taxpayerId: j.inn };
      out.push(dept);
      out.push({ id: rng.guid(), parentId: dept.id, depth: 3, code: `${code}.1`, name: `Склад — ${short}`, type: 'STORE', taxpayerId: null });
      out.push({ id: rng.guid(), parentId: dept.id, depth: 3, code: `${code}.2`, name: `Касса — ${short}`, type: 'SALEPOINT', taxpayerId: null });
    }
  });
  return out; // 1 + 1 + 2 + 6 + 12 = 22
}

/**
 * The whole demo iiko data set for a given `now` (default DEMO_IIKO_DEFAULT_NOW): sales cover the
 * DEMO_IIKO_SALES_DAYS UTC days before the UTC day of `now`.
 */
export function demoIikoData(opts: { now?: Date } = {}): DemoIikoServer[] {
  const now = opts.now ?? new Date(DEMO_IIKO_DEFAULT_NOW);
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new Error('demoIikoData: opts.now is not a valid Date');
  const t0 = now.getTime();

  const dishRng = new Rng('iiko-dishes');
  const withIds = (specs: DishSpec[]): DemoDish[] => specs.map((s) => ({ id: dishRng.guid(), ...s }));
  const restaurantDishes = withIds(RESTAURANT_DISHES);
  const coffeeDishes = withIds(COFFEE_DISHES);

  const rng = new Rng('iiko');
  const main = mainServerTree(rng);
  const second = secondServerTree(rng);

  const selling: Array<DemoSalesDepartment & { server: DemoIikoServerName }> = [
    ...main.filter((s) => s.type === 'DEPARTMENT').slice(0, 4).map((s) => ({ server: 'iiko-main' as const, guid: s.id, dishes: restaurantDishes, week: RESTAURANT_WEEK })),
    ...second.filter((s) => s.type === 'DEPARTMENT').slice(0, 2).map((s) => ({ server: 'iiko-second' as const, guid: s.id, dishes: coffeeDishes, week: COFFEE_WEEK })),
  ].map((d) => ({ ...d, scale: round(rng.float(0.7, 1.3), 2) }));

  const sales = new Map<DemoIikoServerName, DemoSaleRow[]>([['iiko-main', []], ['iiko-second', []]]);
  const days = DEMO_IIKO_SALES_DAYS;
  for (const dept of selling) {
    const rows = sales.get(dept.server)!;
    for (const dish of dept.dishes) {
      for (let i = days; i >= 1; i--) {
        const date = isoDay(t0, -i);
        const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
        const trend = 1 + 0.12 * ((days - i) / days - 0.5);
        const quantity = Math.max(0, Math.round(dish.baseQty * dept.scale * dept.week[weekday]! * trend * rng.float(0.82, 1.18)));
        rows.push({ date, departmentId: dept.guid, dishId: dish.id, dishCode: dish.code, dishName: dish.name, quantity, amountMinor: quantity * dish.priceMinor });
      }
    }
  }

  const strip = ({ server: _s, ...d }: DemoSalesDepartment & { server: DemoIikoServerName }): DemoSalesDepartment => d;
  return [
    { name: 'iiko-main', departments: main, salesDepartments: selling.filter((d) => d.server === 'iiko-main').map(strip), sales: sales.get('iiko-main')! },
    { name: 'iiko-second', departments: second, salesDepartments: selling.filter((d) => d.server === 'iiko-second').map(strip), sales: sales.get('iiko-second')! },
  ];
}
