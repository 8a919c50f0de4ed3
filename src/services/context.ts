import type { Knex } from 'knex';
import type { AppConfig } from '../config';
import type { EventBus } from '../events/bus';
import type { IikoClient } from '../integrations/iiko/client';
import type { LogikalClient } from '../integrations/logikal/client';
import type { KktController } from '../jobs/receipt-printer';
import type { JobRunner } from '../jobs/runner';
import type { Logger } from '../logger';

/** Clients of the remote systems; null where a system is not configured. */
export interface Integrations {
  logikal: LogikalClient | null;
  /** One client per configured iiko server (IIKO_SERVERS); empty when none is configured. */
  iiko: IikoClient[];
  /** The fiscal register's printer worker; null when no register is configured (receipts queue up). */
  kkt: KktController | null;
}

/**
 * What every service function receives. Services own their transactions (`db.transaction`),
 * publish through `events`, start long work on `jobs`, and never see a transport's request
 * object. Scope checks happen in the transports before a service is called
 * (src/auth/scopes.ts).
 */
export interface ServiceContext {
  db: Knex;
  events: EventBus;
  logger: Logger;
  jobs: JobRunner;
  config: AppConfig;
  integrations: Integrations;
}
