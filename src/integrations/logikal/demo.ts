/**
 * The demo's Logikal: the simulator started inside the middleware process, with the demo
 * dataset and scaled-down real latencies, so a new user can run a force sync and watch it
 * stream without any outside system. A configured LOGIKAL_URL always wins.
 */
import type { AppConfig } from '../../config';
import { demoDataset, startLogikalSimulator, type LogikalSimulator } from './simulator';

export const DEMO_CREDENTIALS = { username: 'demo', password: 'demo' };

export async function withDemoLogikal(config: AppConfig): Promise<{ config: AppConfig; simulator: LogikalSimulator | null }> {
  if (config.logikal.url) return { config, simulator: null };
  const simulator = await startLogikalSimulator({
    dataset: demoDataset(),
    credentials: DEMO_CREDENTIALS,
    latencyScale: config.logikal.demoLatencyScale,
    maxSessions: Math.max(4, config.logikal.maxSessions),
  });
  return {
    simulator,
    config: { ...config, logikal: { ...config.logikal, url: simulator.url, ...DEMO_CREDENTIALS } },
  };
}
