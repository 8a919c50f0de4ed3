/**
 * Deterministic fault injection shared by the simulators (Logikal, iiko, …): which request of
 * which operation gets a 5xx, a never-answered request or a truncated body, reproducibly
 * (a seeded PRNG drives `rate`).
 */
import { mulberry32 } from '../util/prng';

export type FaultKind = 'status5xx' | 'timeout' | 'truncateBody';

/** Which requests a fault hits: `op` (default any), at most `times`, each with probability `rate`. */
export interface FaultSpec<Op extends string> {
  op?: Op | 'any';
  rate?: number;
  times?: number;
}

export interface BaseFaultPlan<Op extends string> {
  status5xx?: FaultSpec<Op> & { status?: 500 | 502 | 503 };
  timeout?: FaultSpec<Op>;
  truncateBody?: FaultSpec<Op>;
  seed?: number;
}

const zero = (): Record<FaultKind, number> => ({ status5xx: 0, timeout: 0, truncateBody: 0 });

export class FaultInjector<Op extends string, Plan extends BaseFaultPlan<Op> = BaseFaultPlan<Op>> {
  private plan: Plan | undefined;
  private rng: () => number = mulberry32(1);
  readonly hits: Record<FaultKind, number> = zero();
  /** Hits since the current plan was set (for `times`). */
  private planHits = zero();

  constructor(plan?: Plan) {
    this.set(plan);
  }

  set(plan: Plan | undefined): void {
    this.plan = plan;
    this.rng = mulberry32(plan?.seed ?? 1);
    this.planHits = zero();
  }

  get current(): Plan | undefined {
    return this.plan;
  }

  /** Decides whether this request (of `op`) gets the fault `kind`; counts the hit. */
  decide(kind: FaultKind, op: Op | 'unknown'): boolean {
    const spec: FaultSpec<Op> | undefined = this.plan?.[kind];
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
