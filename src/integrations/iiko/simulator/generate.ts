/**
 * Generated data for the iiko simulator: department trees of any size, and lazily computed
 * daily sales with weekly and yearly seasonality, Russian holidays and a trend.
 */
import { ZERO_GUID } from '../contract';
import type { RawDepartment } from '../xml';
import { Rng, hash01, inn } from './random';
import type { IikoSimSaleRow, SalesGenerator, SimDish } from './types';

// ---------------------------------------------------------------------------------------------
// Departments

export interface GenerateDepartmentsOptions {
  /** Exactly this many items (≥ 1). */
  count: number;
  /** Default 1. */
  seed?: number;
  /** List children before parents (a seeded shuffle, then deepest first). Default false: parents first. */
  shuffle?: boolean;
  /**
   * Depth of the deepest level (root = 0; default 3): 1 CORPORATION → JURPERSON; 2 … → DEPARTMENT;
   * 3 … → STORE/SALEPOINT; ≥ 4 adds ORGDEVELOPMENT levels between JURPERSON and DEPARTMENT.
   */
  depth?: number;
  /** How the root's parentId is written: empty element (default), "0", the zero GUID, or no element. */
  rootParent?: '' | '0' | 'zero-guid' | 'missing';
  /** Use every type (CENTRALOFFICE, CENTRALSTORE, MANUFACTURE, ORGDEVELOPMENT…), not only the common ones. */
  typesMix?: boolean;
}

const JUR_WORDS = ['Вкус', 'Север', 'Берёзка', 'Традиция', 'Гурман', 'Самовар', 'Очаг', 'Дом еды', 'Пир', 'Хлеб & Соль', 'Трапеза', 'Меню'];
const PERSONS = ['Иванов Пётр Сергеевич', 'Смирнова Ольга Игоревна', 'Кузнецов Артём Юрьевич', 'Попова Дарья Андреевна', 'Соколов Илья Романович'];
const KINDS = ['Ресторан', 'Кафе', 'Бистро', 'Кофейня', 'Бар', 'Столовая', 'Пиццерия'];
const PLACES = ['Волга', 'Ладога', 'Онега', 'Байкал', 'Арбат', 'Невский', 'Таймыр', 'Урал', 'Алтай', 'Камчатка', 'Сахалин', 'Селигер', 'Пиво & Раки', 'Ёлки-палки', 'Сити', 'Вокзал'];
const REGIONS = ['77', '78', '50', '47', '66', '16', '54', '23'];

/** A realistic corporation tree CORPORATION → JURPERSON → (ORGDEVELOPMENT…) → DEPARTMENT → STORE/SALEPOINT… */
export function generateDepartments(opts: GenerateDepartmentsOptions): RawDepartment[] {
  const count = Math.floor(opts.count);
  if (!(count >= 1)) throw new Error('generateDepartments: count must be ≥ 1');
  const depth = Math.max(1, Math.min(12, Math.floor(opts.depth ?? 3)));
  const mix = opts.typesMix ?? false;
  const rng = new Rng(opts.seed ?? 1);
  const out: Array<RawDepartment & { depth: number }> = [];
  const full = () => out.length >= count;
  const add = (d: RawDepartment, level: number): RawDepartment | null => {
    if (full()) return null;
    const item = { ...d, depth: level };
    out.push(item);
    return item;
  };

  const rootParent = opts.rootParent ?? '';
  const root = add(
    {
      id: rng.guid(),
      parentId: rootParent === 'missing' ? null : rootParent === 'zero-guid' ? ZERO_GUID : rootParent,
      code: null,
      name: 'ГК «Сеть ресторанов»',
      type: 'CORPORATION',
      taxpayerId: null,
    },
    0,
  )!;
  if (mix) {
    add({ id: rng.guid(), parentId: root.id, code: 'CO', name: 'Центральный офис', type: 'CENTRALOFFICE', taxpayerId: null }, 1);
    add({ id: rng.guid(), parentId: root.id, code: 'CS', name: 'Центральный склад', type: 'CENTRALSTORE', taxpayerId: null }, 1);
  }

  // Levels below JURPERSON: ORGDEVELOPMENT × (depth − 3), DEPARTMENT (depth ≥ 2), leaves (depth ≥ 3).
  const orgLevels = Math.max(0, depth - 3);
  let jurNo = 0;
  let deptNo = 0;
  let orgNo = 0;

  const leaves = (dept: RawDepartment, level: number, place: string) => {
    const kinds: Array<[string, string]> = [['STORE', 'Склад'], ['SALEPOINT', 'Зал']];
    if (rng.next() < 0.5) kinds.push(['SALEPOINT', 'Бар']);
    if (mix && rng.next() < 0.4) kinds.push(['MANUFACTURE', 'Заготовочный цех']);
    kinds.forEach(([type, label], k) =>
      add({ id: rng.guid(), parentId: dept.id, code: `${dept.code}.${k + 1}`, name: `${label} — ${place}`, type, taxpayerId: null }, level),
    );
  };

  const departments = (parent: RawDepartment, level: number, taxpayerId: string) => {
    const n = rng.int(3, 8);
    for (let k = 0; k < n && !full(); k++) {
      deptNo++;
      const place = PLACES[(deptNo - 1) % PLACES.length]!;
      const dept = add(
        {
          id: rng.guid(),
          parentId: parent.id,
          code: String(100 + deptNo),
          name: `${rng.pick(KINDS)} «${place}» №${deptNo}`,
          type: 'DEPARTMENT',
          taxpayerId,
        },
        level,
      );
      if (dept && depth >= level + 1) leaves(dept, level + 1, `${place} №${deptNo}`);
    }
  };

  const below = (parent: RawDepartment, level: number, orgLeft: number, taxpayerId: string) => {
    if (orgLeft > 0) {
      const n = rng.int(2, 3);
      for (let k = 0; k < n && !full(); k++) {
        orgNo++;
        const org = add(
          { id: rng.guid(), parentId: parent.id, code: `R${orgNo}`, name: `Регион ${orgNo}${orgLeft > 1 ? '' : ' — филиал'}`, type: 'ORGDEVELOPMENT', taxpayerId: null },
          level,
        );
        if (org) below(org, level + 1, orgLeft - 1, taxpayerId);
      }
      return;
    }
    if (depth >= 2) departments(parent, level, taxpayerId);
  };

  while (!full()) {
    jurNo++;
    const person = rng.next() < 0.25;
    const taxpayerId = person ? inn(rng, 12, rng.pick(REGIONS)) : inn(rng, 10, rng.pick(REGIONS));
    const name = person ? `ИП ${PERSONS[(jurNo - 1) % PERSONS.length]}` : `ООО «${JUR_WORDS[(jurNo - 1) % JUR_WORDS.length]}${jurNo > JUR_WORDS.length ? ` ${jurNo}` : ''}»`;
    const jur = add({ id: rng.guid(), parentId: root.id, code: `J${jurNo}`, name, type: 'JURPERSON', taxpayerId }, 1);
    if (jur && depth >= 2) below(jur, 2, orgLevels, taxpayerId);
  }

  let list = out;
  if (opts.shuffle) {
    list = rng.shuffle([...out]);
    list.sort((a, b) => b.depth - a.depth); // stable: random within a level, every child before its parent
  }
  return list.map(({ depth: _d, ...d }) => d);
}

// ---------------------------------------------------------------------------------------------
// Sales

export interface GenerateSalesOptions {
  /** Department GUIDs that sell. */
  departments: string[];
  /** Dishes on the menu (the same menu everywhere). */
  dishes: number;
  /** First and last day, inclusive (YYYY-MM-DD). */
  from: string;
  to: string;
  /** Default 1. */
  seed?: number;
}

const DAY_MS = 86_400_000;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Days since 1970-01-01 of a YYYY-MM-DD date (NaN when it is not one). */
export function epochDay(date: string): number {
  if (!DATE_RE.test(date)) return NaN;
  const ms = Date.parse(`${date}T00:00:00Z`);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date ? NaN : ms / DAY_MS;
}

export function dayFromEpoch(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

const DISH_NAMES = [
  'Борщ с пампушками', 'Салат «Цезарь» с курицей', 'Пельмени домашние', 'Стейк рибай', 'Котлета по-киевски', 'Уха по-фински',
  'Блины с икрой', 'Морс клюквенный 0,5 л', 'Чай чёрный, чайник', 'Медовик', 'Капучино 300 мл', 'Латте 400 мл', 'Американо',
  'Солянка сборная', 'Оливье', 'Винегрет', 'Сельдь под шубой', 'Шашлык из свинины', 'Плов', 'Манты', 'Хинкали', 'Хачапури по-аджарски',
  'Фиш & чипс', 'Паста карбонара', 'Пицца «Маргарита»', 'Бургер классический', 'Картофель фри', 'Сырники со сметаной', 'Окрошка на квасе',
  'Драники', 'Голубцы', 'Бефстроганов', 'Гречка с грибами', 'Компот', 'Квас 0,5 л', 'Лимонад «Тархун»', 'Наполеон', 'Эклер', 'Мороженое',
  'Хлеб бородинский',
];
const PORTIONS = ['', ' (большая порция)', ' (детская порция)', ' с собой', ' (бизнес-ланч)'];
/** Weekday profiles, index = getUTCDay() (0 = Sunday): restaurant, coffee shop, canteen. */
const WEEK_PROFILES = [
  [1.15, 0.8, 0.85, 0.9, 1.0, 1.3, 1.45],
  [0.75, 1.1, 1.1, 1.05, 1.05, 1.0, 0.8],
  [0.4, 1.2, 1.2, 1.2, 1.2, 1.1, 0.5],
];
/** Russian holidays (MM-DD → factor): New Year (closed-ish 1 Jan, busy holidays 2–8 Jan), 14 Feb, 23 Feb, 8 Mar, 1 and 9 May, 12 Jun, 4 Nov, the corporate-party week and 31 Dec. */
const HOLIDAYS: Record<string, number> = {
  '01-01': 0.45, '01-02': 1.25, '01-03': 1.3, '01-04': 1.3, '01-05': 1.25, '01-06': 1.2, '01-07': 1.35, '01-08': 1.15,
  '02-14': 1.35, '02-23': 1.2, '03-08': 1.6, '05-01': 1.2, '05-09': 1.4, '06-12': 1.15, '11-04': 1.1,
  '12-24': 1.2, '12-25': 1.3, '12-26': 1.3, '12-27': 1.35, '12-28': 1.3, '12-29': 1.25, '12-30': 1.2, '12-31': 0.7,
};

const round2 = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Deterministic daily sales (see SalesGenerator); rows are computed when a day is asked for. */
export function generateSales(opts: GenerateSalesOptions): SalesGenerator {
  const fromDay = epochDay(opts.from);
  const toDay = epochDay(opts.to);
  if (Number.isNaN(fromDay) || Number.isNaN(toDay) || toDay < fromDay) throw new Error('generateSales: from/to must be YYYY-MM-DD with from ≤ to');
  const seed = (opts.seed ?? 1) >>> 0;
  const rng = new Rng(seed ^ 0x5a1e5);
  const departments = opts.departments.map((d) => d.trim().toLowerCase());

  const dishes: SimDish[] = [];
  for (let j = 0; j < opts.dishes; j++) {
    const base = DISH_NAMES[j % DISH_NAMES.length]!;
    const round = Math.floor(j / DISH_NAMES.length);
    const suffix = round < PORTIONS.length ? PORTIONS[round]! : ` №${round}`;
    const weighed = j % 25 === 17;
    const roubles = round2(rng.int(9, 150) * 10 - (rng.next() < 0.3 ? 0.1 : 0)); // 90..1500, some …9.90-style prices
    dishes.push({
      id: rng.guid(),
      code: String(10_001 + j),
      name: weighed ? `${base} (на вес), кг` : `${base}${suffix}`,
      price: weighed ? roubles * 2 : roubles,
      weighed,
      base: 3 + 60 / Math.pow(1 + j, 0.7),
    });
  }
  const deptScale = departments.map(() => round2(rng.float(0.5, 1.6)));
  const deptProfile = departments.map(() => rng.int(0, WEEK_PROFILES.length - 1));

  const calendar = (day: number, deptIndex: number): number => {
    const date = new Date(day * DAY_MS);
    const week = WEEK_PROFILES[deptProfile[deptIndex] ?? 0]![date.getUTCDay()]!;
    const start = Date.UTC(date.getUTCFullYear(), 0, 1) / DAY_MS;
    const doy = day - start;
    const season = 1 + 0.12 * Math.sin((2 * Math.PI * (doy - 80)) / 365.25);
    const holiday = HOLIDAYS[dayFromEpoch(day).slice(5)] ?? 1;
    const trend = 1 + (0.08 * (day - fromDay)) / 365.25;
    return week * season * holiday * trend;
  };

  return {
    kind: 'iiko-sales-generator',
    from: dayFromEpoch(fromDay),
    to: dayFromEpoch(toDay),
    departments,
    dishes,
    factor(date: string, departmentIndex = 0): number {
      const day = epochDay(date);
      return Number.isNaN(day) ? 0 : calendar(day, departmentIndex);
    },
    day(date: string): IikoSimSaleRow[] {
      const day = epochDay(date);
      if (Number.isNaN(day) || day < fromDay || day > toDay) return [];
      const rows: IikoSimSaleRow[] = [];
      for (let i = 0; i < departments.length; i++) {
        if (hash01(seed, day, i, 0x7fffffff) < 0.004) continue; // closed that day (inventory, repairs)
        const f = calendar(day, i) * deptScale[i]!;
        const dept = departments[i]!;
        for (let j = 0; j < dishes.length; j++) {
          const dish = dishes[j]!;
          const u = hash01(seed, day, i, j);
          const lambda = dish.base * f * (0.75 + 0.5 * u);
          const quantity = dish.weighed ? round3(lambda * 0.35) : Math.round(lambda);
          if (quantity <= 0) continue;
          const amount = round2(quantity * dish.price);
          const v = hash01(seed ^ 0xd15c, day, i, j);
          const discount = v < 0.7 ? 0 : round2(amount * (0.05 + 0.1 * ((v - 0.7) / 0.3)));
          rows.push({ date, departmentId: dept, dishId: dish.id, dishCode: dish.code, dishName: dish.name, quantity, amount, discount });
        }
      }
      return rows;
    },
  };
}
