/** Deterministic fault injection for the Logikal simulator (see FaultPlan). */
import { FaultInjector as SharedFaultInjector, type FaultKind } from '../../simulator-faults';
import type { FaultPlan, SimOperation } from './types';

export type { FaultKind };
export { mulberry32 } from '../../../util/prng';

export class FaultInjector extends SharedFaultInjector<SimOperation, FaultPlan> {}
