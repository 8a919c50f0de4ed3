/**
 * Renders a sync run's progress events on a terminal: a live bar on a TTY, one line per
 * event otherwise (logs, CI). Reads the same event stream as the GraphQL subscription.
 */
import type { SyncEventView } from '../services/sync-runs';

export interface ProgressOut {
  isTTY?: boolean;
  write(s: string): unknown;
}

export function renderEvent(e: SyncEventView, out: ProgressOut, startedAt: number): void {
  const secs = ((Date.now() - startedAt) / 1000).toFixed(1).padStart(5);
  const frac = e.total ? Math.min(1, (e.done ?? 0) / e.total) : 0;
  const width = 24;
  const bar = e.total ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ${String(e.done ?? 0).padStart(3)}/${e.total}` : ''.padEnd(width + 10);
  const line = `${secs}s ${bar} ${e.step}${e.message ? `: ${e.message}` : ''}`;
  if (out.isTTY) out.write(`\r\x1b[2K${line}`);
  else out.write(`${line}\n`);
}

export function renderCounters(counters: Record<string, number>): string {
  return Object.entries(counters)
    .map(([k, v]) => `  ${k.padEnd(24)} ${v}`)
    .join('\n');
}
