/**
 * A faithful iikoServer ("resto" API) over real HTTP, for tests, benchmarks and the demo: login
 * with a SHA-1 password and licence seats, logout, the corporation departments XML and SALES
 * OLAP v2 reports, with latency and fault knobs (iiko-wix-allegro.md §1). Where a real server's
 * behaviour is unknown, the choice is documented in simulator/server.ts and simulator/olap.ts.
 *
 *   const sim = await startIikoSimulator({ latencyScale: 0, data: { departments, sales } });
 *   const client = new IikoClient({ name: 'main', baseUrl: sim.url, login: 'admin', password: 'secret' });
 *   …
 *   await sim.close();
 */
import { DEMO_IIKO_DEFAULT_NOW, demoIikoData, type DemoIikoServerName } from './demo-data';
import type { IikoSimData } from './simulator/types';

export { startIikoSimulator, SIM_TEXT } from './simulator/server';
export {
  IIKO_REAL_LATENCY_MS,
  type HostileXmlKind,
  type IikoFaultPlan,
  type IikoFaultSpec,
  type IikoLatencyMs,
  type IikoSimData,
  type IikoSimOperation,
  type IikoSimSaleRow,
  type IikoSimulator,
  type IikoSimulatorOptions,
  type IikoSimulatorStats,
  type MutableIikoSimulatorOptions,
  type SalesGenerator,
  type SimDish,
} from './simulator/types';
export { generateDepartments, generateSales, dayFromEpoch, epochDay, type GenerateDepartmentsOptions, type GenerateSalesOptions } from './simulator/generate';
export { entityBombXml, externalEntityXml, hugeXmlChunks, malformedXml } from './simulator/hostile';
export { DEMO_IIKO_DEFAULT_NOW };

/**
 * The demo's two servers, exactly the departments and sales the demo seed inserts for the same
 * `now` (default DEMO_IIKO_DEFAULT_NOW, the seed's default): same GUIDs, names, codes, types,
 * tax ids and tree, and per (department, dish, day) the same quantity and amount
 * (DishSumInt = amount in roubles). Departments are listed parents first; the roots have no
 * <parentId> element.
 */
export function demoIikoServers(opts: { now?: Date } = {}): Array<{ name: DemoIikoServerName; data: IikoSimData }> {
  return demoIikoData(opts).map((s) => ({
    name: s.name,
    data: {
      departments: s.departments.map(({ depth: _depth, ...d }) => d),
      sales: s.sales.map((r) => ({
        date: r.date,
        departmentId: r.departmentId,
        dishId: r.dishId,
        dishCode: r.dishCode,
        dishName: r.dishName,
        quantity: r.quantity,
        amount: r.amountMinor / 100,
      })),
    },
  }));
}
