/**
 * The one pub/sub interface every job publishes progress through and every subscription,
 * `sync.status` poll and CLI progress bar reads from. In-process for now (one instance,
 * SQLite or PostgreSQL); a Redis or PostgreSQL LISTEN/NOTIFY event target can replace the
 * default without touching publishers or subscribers (createPubSub takes an eventTarget).
 */
import { createPubSub } from '@graphql-yoga/subscription';
import type { Receipt } from '../models';
import type { SyncEventView, SyncRunView } from '../services/sync-runs';

export type EventMap = {
  /** A sync run changed (status, counters or a new progress event); keyed by run id. */
  SYNC_RUN_UPDATED: [runId: number, run: SyncRunView];
  /** A progress event of a run (the final one carries the run's end status). */
  SYNC_EVENT: [runId: number, event: SyncEventView];
  /** A fiscal receipt changed status (queued, printing, fiscalised, dead, cancelled, retried). */
  RECEIPT_UPDATED: [receipt: Receipt];
};

export type EventBus = ReturnType<typeof createEventBus>;

export function createEventBus() {
  return createPubSub<EventMap>();
}
