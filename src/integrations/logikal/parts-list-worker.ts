/**
 * Worker thread of parts-list-offload.ts: downloads one parts list (GET
 * /elevations/selected/parts-list with the session's token), decodes the base64 `data`,
 * hashes and parses the file, and posts back only the outcome (a few KB) — so the event loop
 * of the middleware never reads the 2.3 MB body, decodes it or opens the SQLite file.
 *
 * It is only ever started from the compiled file (dist/…/parts-list-worker.js); without it
 * (tests run the TypeScript sources) the same steps run in the calling thread
 * (client.ts processPartsList), which is also the reference for what this returns.
 *
 * HTTP is the project's one transport (../http-transport.ts: node-fetch, its own keep-alive
 * agent in this thread). Failures are posted back
 * as transport failures and mapped, retried and reported by the client exactly like the
 * in-thread path.
 */
import { parentPort } from 'node:worker_threads';
import { HttpTransport, TransportFailure } from '../http-transport';
import { processPartsList } from './client';

import type { OffloadAnswer, OffloadRequest } from './parts-list-offload';

const transport = new HttpTransport({ maxSockets: 16 });

async function handle(r: OffloadRequest): Promise<OffloadAnswer> {
  let answer: { status: number; contentType: string; body: Buffer };
  try {
    answer = await transport.send({ url: r.url, method: 'GET', headers: r.headers, timeoutMs: r.timeoutMs, maxBytes: r.maxBytes });
  } catch (e) {
    if (e instanceof TransportFailure) return { type: 'failure', id: r.id, kind: e.kind, message: e.message, status: e.status, notSent: e.notSent };
    return { type: 'failure', id: r.id, kind: 'network', message: `connection failed (${(e as Error).message})`, status: 0, notSent: false };
  }
  const { status, contentType, body } = answer;
  // Error answers are small: the client maps them as it does any other.
  if (status < 200 || status >= 300) return { type: 'answer', id: r.id, status, contentType, bytes: body.length, body };
  try {
    return { type: 'answer', id: r.id, status, contentType, bytes: body.length, file: processPartsList(body, r.parse) };
  } catch (e) {
    // Not a data envelope or not base64: the client raises the same error as in-thread.
    const err = e as Error & { kind?: string };
    return { type: 'answer', id: r.id, status, contentType, bytes: body.length, invalid: { message: err.message, contract: err.kind === 'contract' } };
  }
}

parentPort!.on('message', (r: OffloadRequest) => {
  void handle(r).then((a) => parentPort!.postMessage(a));
});
