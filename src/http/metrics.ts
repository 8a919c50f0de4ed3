/**
 * Prometheus metrics: request counts and latencies per transport and method. Labels are
 * bounded: GraphQL operations are labelled by their root field (the schema bounds those),
 * JSON-RPC calls by registered method name, everything else by route template.
 */
import client from 'prom-client';

export type Transport = 'graphql' | 'graphql-ws' | 'jsonrpc' | 'http';

export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'companion_' });
  const requests = new client.Counter({
    name: 'companion_requests_total',
    help: 'Requests handled, by transport, method and outcome (ok | error)',
    labelNames: ['transport', 'method', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'companion_request_duration_seconds',
    help: 'Request latency in seconds, by transport and method',
    labelNames: ['transport', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    /**
     * Gauges of the receipt queue and the register, read at scrape time (one read per scrape:
     * both gauges share it). `companion_kkt_state` is 1 for the register's current state.
     */
    trackReceipts(read: () => Promise<{ state: string; queue: Record<string, number> }>) {
      let last: { at: number; value: Promise<{ state: string; queue: Record<string, number> }> } | null = null;
      const once = () => {
        if (!last || Date.now() - last.at > 500) last = { at: Date.now(), value: read() };
        return last.value;
      };
      new client.Gauge({
        name: 'companion_receipts',
        help: 'Fiscal receipts by status (queued, printing, fiscalised, dead, cancelled)',
        labelNames: ['status'] as const,
        registers: [registry],
        async collect() {
          const s = await once();
          for (const [status, n] of Object.entries(s.queue)) this.set({ status }, n);
        },
      });
      const states = ['starting', 'ready', 'offline', 'operator_needed', 'hard_fault', 'stopped', 'not_configured'];
      new client.Gauge({
        name: 'companion_kkt_state',
        help: 'The cash register worker\'s state: 1 for the current one (ready, offline, operator_needed, hard_fault, …)',
        labelNames: ['state'] as const,
        registers: [registry],
        async collect() {
          const s = await once();
          for (const st of states) this.set({ state: st }, st === s.state ? 1 : 0);
        },
      });
    },
    observe(transport: Transport, method: string, outcome: 'ok' | 'error', seconds: number) {
      requests.inc({ transport, method, outcome });
      duration.observe({ transport, method }, seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
