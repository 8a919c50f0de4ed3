/**
 * A faithful Logikal REST API ("MBIOE Service", /api/v3) over real HTTP, for tests, benchmarks
 * and the demo. It follows /work/shared/reference/logikal.md §a/§b; where the real server's
 * behaviour is unknown, the choice is documented in simulator/state.ts and, where it matters to
 * a client, is a knob in SimulatorOptions.
 *
 *   const sim = await startLogikalSimulator({ latencyScale: 0 });
 *   const client = new LogikalClient({ baseUrl: sim.url, username: 'demo', password: 'demo' });
 *   …
 *   await sim.close();
 */
export { startLogikalSimulator } from './simulator/server';
export {
  REAL_LATENCY_MS,
  type FaultPlan,
  type FaultSpec,
  type LatencyMs,
  type LogikalSimulator,
  type MutableSimulatorOptions,
  type SimOperation,
  type SimulatorOptions,
  type SimulatorStats,
} from './simulator/types';
export {
  demoDataset,
  demoGuid,
  allDirectories,
  allProjects,
  findDirectory,
  findElevation,
  type SimDataset,
  type SimDirectory,
  type SimElevation,
  type SimPartsListFixture,
  type SimPhase,
  type SimProject,
} from './simulator/dataset';
export { pngSize } from './simulator/png';
export { partsListSpecFor } from './simulator/parts-lists';
