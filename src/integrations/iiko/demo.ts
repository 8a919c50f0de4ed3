/**
 * The demo's iiko: two simulators (iiko-main and iiko-second, the servers the demo data set
 * describes) started inside the middleware process, with scaled-down real latencies, so a new
 * user can sync departments and import sales without any outside system. A configured
 * IIKO_SERVERS always wins.
 */
import type { AppConfig } from '../../config';
import { demoIikoServers, startIikoSimulator, type IikoSimulator } from './simulator';

export const DEMO_IIKO_CREDENTIALS = { login: 'demo', password: 'demo' };

export interface DemoIiko {
  config: AppConfig;
  /** Empty when real servers are configured. */
  simulators: Array<{ name: string; simulator: IikoSimulator }>;
  close(): Promise<void>;
}

export async function withDemoIiko(config: AppConfig): Promise<DemoIiko> {
  if (config.iiko.servers.length) return { config, simulators: [], close: async () => undefined };
  const simulators: DemoIiko['simulators'] = [];
  const close = async () => {
    await Promise.allSettled(simulators.map((s) => s.simulator.close()));
  };
  try {
    for (const server of demoIikoServers()) {
      const simulator = await startIikoSimulator({
        data: server.data,
        latencyScale: config.iiko.demoLatencyScale,
        ...DEMO_IIKO_CREDENTIALS,
      });
      simulators.push({ name: server.name, simulator });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    simulators,
    close,
    config: {
      ...config,
      iiko: {
        ...config.iiko,
        servers: simulators.map((s) => ({ name: s.name, url: s.simulator.url, ...DEMO_IIKO_CREDENTIALS })),
      },
    },
  };
}
