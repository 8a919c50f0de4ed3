import type { Knex } from 'knex';
import type { EventBus } from '../events/bus';
import type { Logger } from '../logger';

/**
 * What every service function receives. Services own their transactions (`db.transaction`),
 * publish through `events`, and never see a transport's request object. Scope checks happen
 * in the transports before a service is called (see src/auth/scopes.ts).
 */
export interface ServiceContext {
  db: Knex;
  events: EventBus;
  logger: Logger;
}
