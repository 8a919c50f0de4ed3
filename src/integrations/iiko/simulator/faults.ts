/** Deterministic fault injection for the iiko simulator (see IikoFaultPlan). */
import { FaultInjector, type FaultKind } from '../../simulator-faults';
import type { IikoFaultPlan, IikoSimOperation } from './types';

export type IikoFaultKind = FaultKind;

/** The shared injector plus the iiko-only XML faults' hit counters. */
export class IikoFaultInjector extends FaultInjector<IikoSimOperation, IikoFaultPlan> {
  readonly xmlHits = { malformedXml: 0, hostileXml: 0 };
}
