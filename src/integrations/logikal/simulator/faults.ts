/** Deterministic fault injection for the simulator (see FaultPlan). */
import { mulberry32 } from '../../../util/prng';
import type { FaultPlan, FaultSpec, SimOperation } from './types';

export type FaultKind = 'status5xx' | 'timeout' | 'truncateBody';

export { mulberry32 };

export class FaultInjector {
  private plan: FaultPlan | undefined;
  private rng: () => number = mulberry32(1);
  readonly hits: Record<FaultKind, number> = { status5xx: 0, timeout: 0, truncateBody: 0 };
  /** Hits since the current plan was set (for `times`). */
  private planHits: Record<FaultKind, number> = { status5xx: 0, timeout: 0, truncateBody: 0 };

  constructor(plan?: FaultPlan) {
    this.set(plan);
  }

  set(plan: FaultPlan | undefined): void {
    this.plan = plan;
    this.rng = mulberry32(plan?.seed ?? 1);
    this.planHits = { status5xx: 0, timeout: 0, truncateBody: 0 };
  }

  /** Decides whether this request (of `op`) gets the fault `kind`; counts the hit. */
  decide(kind: FaultKind, op: SimOperation | 'unknown'): boolean {
    const spec: FaultSpec | undefined = this.plan?.[kind];
    if (!spec) return false;
    const target = spec.op ?? 'any';
    if (target !== 'any' && target !== op) return false;
    if (spec.times !== undefined && this.planHits[kind] >= spec.times) return false;
    const rate = spec.rate ?? 1;
    if (rate <= 0) return false;
    if (rate < 1 && this.rng() >= rate) return false;
    this.planHits[kind]++;
    this.hits[kind]++;
    return true;
  }

  /** The status of the next injected 5xx: the plan's, else 503, 502, 500 in turn. */
  status5xx(): 500 | 502 | 503 {
    const fixed = this.plan?.status5xx?.status;
    if (fixed) return fixed;
    return ([503, 502, 500] as const)[(this.planHits.status5xx - 1) % 3]!;
  }
}
