import type { Principal } from '../auth/scopes';
import type { ServiceContext } from '../services/context';
import type { Loaders } from '../services/loaders';

/** What every resolver receives: the services' context, the caller and per-request loaders. */
export interface GraphQLContext {
  services: ServiceContext;
  principal: Principal;
  loaders: Loaders;
  requestId: string;
}
