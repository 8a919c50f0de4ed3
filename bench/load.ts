/**
 * The load generator, run in a child process (child_process.fork) so that autocannon's own
 * work (building requests, reading megabyte responses, checking them) never runs on the
 * server's event loop. The parent sends one LoadJob over IPC and gets one LoadResult back.
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  method: 'POST';
  path: string;
  body: string;
}

export interface LoadJob {
  url: string;
  headers: Record<string, string>;
  /** Each connection sends these in order, again and again (a "page" of data). */
  requests: LoadRequest[];
  connections: number;
  durationS: number;
  /** A response whose body contains this is counted as a mismatch (an error inside a 200). */
  errorMarker: string;
  /** When set (single-request pages), a body whose length strays more than 2 % from this is a mismatch. */
  expectedChars?: number;
}

export interface LoadResult {
  requests: number;
  /** Mean requests per second over the run. */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  /** Bytes read per second, headers included. */
  bytesPerSecond: number;
  durationS: number;
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const { expectedChars, errorMarker } = job;
  const verifyBody = (body: unknown): boolean => {
    const s = String(body);
    if (s.includes(errorMarker)) return false;
    // autocannon decodes each TCP chunk on its own, so a UTF-8 character split across two
    // chunks may change the length by a character or two: compare with a tolerance.
    return expectedChars === undefined || Math.abs(s.length - expectedChars) <= expectedChars * 0.02;
  };
  const r = await autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.durationS,
    headers: job.headers,
    requests: job.requests.map((q) => ({ method: q.method, path: q.path, body: q.body })),
    verifyBody,
    // A request has this many seconds before it counts as a timeout (default 10).
    timeout: 30,
  });
  return {
    requests: r.requests.total,
    rps: r.requests.average,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    mismatches: r.mismatches,
    bytesPerSecond: r.throughput.average,
    durationS: r.duration,
  };
}

if (require.main === module) {
  process.once('message', (job: LoadJob) => {
    runLoad(job).then(
      (result) => process.send!({ ok: true, result }, () => process.exit(0)),
      (e: unknown) => process.send!({ ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) }, () => process.exit(1)),
    );
  });
}
