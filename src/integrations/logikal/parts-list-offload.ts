/**
 * Parts-list downloads off the event loop. A force sync spends most of its CPU per elevation on
 * the parts list: reading a 2.3 MB HTTP body, decoding 1.7 MB of base64, SHA-256, opening the
 * SQLite file and reading it. A small pool of worker threads (parts-list-worker.ts) does all of
 * that and sends back only the outcome, so the event loop keeps serving the other sessions,
 * the database and the progress subscribers.
 *
 * The pool exists only where the compiled worker file does (dist/…/parts-list-worker.js): under
 * vitest the sources are TypeScript and every download runs in the calling thread, through the
 * same processPartsList(). LOGIKAL_PARTS_LIST_WORKERS=0 turns the pool off; a number sets its
 * size (default: one worker, two on machines with more than four cores). A worker that dies
 * turns the pool off for the life of the process (its pending downloads fail as network errors,
 * which the client retries in-thread).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PartsListFile, PartsListParseOptions } from './client';
import type { TransportFailureKind } from '../http-transport';

export interface OffloadRequest {
  id: number;
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  maxBytes: number;
  parse: PartsListParseOptions;
}

export type OffloadAnswer =
  | {
      type: 'answer';
      id: number;
      status: number;
      contentType: string;
      bytes: number;
      /** Non-2xx: the error body, mapped by the client. */
      body?: Uint8Array;
      /** 2xx: the processed file. */
      file?: PartsListFile;
      /** 2xx, but not a base64 data envelope. */
      invalid?: { message: string; contract: boolean };
    }
  | {
      type: 'failure';
      id: number;
      kind: TransportFailureKind;
      message: string;
      status: number;
      notSent: boolean;
    };

const WORKER_FILE = path.join(__dirname, 'parts-list-worker.js');

function poolSize(): number {
  const raw = process.env.LOGIKAL_PARTS_LIST_WORKERS;
  if (raw !== undefined && raw.trim() !== '') {
    const n = Number(raw);
    return Number.isInteger(n) && n >= 0 ? Math.min(n, 8) : 1;
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return cores > 4 ? 2 : 1;
}

interface Slot {
  worker: Worker;
  busy: number;
}

class OffloadPool {
  private slots: Slot[] = [];
  private readonly pending = new Map<number, { slot: Slot; resolve: (a: OffloadAnswer) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  broken = false;

  constructor(readonly size: number) {}

  /** Starts the workers now (they take some tens of ms to load), so the first download does not wait. */
  warm(): void {
    if (this.broken) return;
    while (this.slots.length < this.size) this.spawn();
  }

  run(req: Omit<OffloadRequest, 'id'>): Promise<OffloadAnswer> {
    this.warm();
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    return new Promise<OffloadAnswer>((resolve, reject) => {
      this.pending.set(id, { slot, resolve, reject });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage({ ...req, id } satisfies OffloadRequest);
    });
  }

  private spawn(): void {
    const worker = new Worker(WORKER_FILE);
    const slot: Slot = { worker, busy: 0 };
    worker.on('message', (a: OffloadAnswer) => {
      const p = this.pending.get(a.id);
      if (!p) return;
      this.pending.delete(a.id);
      if (--slot.busy === 0) worker.unref();
      p.resolve(a);
    });
    const die = (err: Error) => {
      this.broken = true;
      this.slots = this.slots.filter((s) => s !== slot);
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.reject(err);
      }
    };
    worker.on('error', (e) => die(e));
    worker.on('exit', (code) => die(new Error(`parts-list worker exited (code ${code})`)));
    // An idle pool never keeps the process alive. After the listeners: adding a 'message'
    // listener refs the worker's port again.
    worker.unref();
    this.slots.push(slot);
  }
}

let pool: OffloadPool | null | undefined;

/** The process's pool, or null where downloads run in the calling thread. */
export function partsListPool(): OffloadPool | null {
  if (pool === undefined) {
    const size = poolSize();
    pool = size > 0 && __filename.endsWith('.js') && fs.existsSync(WORKER_FILE) ? new OffloadPool(size) : null;
  }
  return pool && !pool.broken ? pool : null;
}

/** Starts the pool's workers ahead of the first download (a no-op without a pool). */
export function warmPartsListWorkers(): void {
  partsListPool()?.warm();
}
