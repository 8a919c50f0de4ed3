/** Deterministic fault injection for the iiko simulator (see IikoFaultPlan). */
import { mulberry32 } from '../../../util/prng';
import type { IikoFaultPlan, IikoFaultSpec, IikoSimOperation } from './types';

export type IikoFaultKind = 'status5xx' | 'timeout' | 'truncateBody';

const zero = (): Record<IikoFaultKind, number> => ({ status5xx: 0, timeout: 0, truncateBody: 0 });

export class IikoFaultInjector {
  private plan: IikoFaultPlan | undefined;
  private rng: () => number = mulberry32(1);
  readonly hits = { ...zero(), malformedXml: 0, hostileXml: 0 };
  private planHits = zero();

  constructor(plan?: IikoFaultPlan) {
    this.set(plan);
  }

  set(plan: IikoFaultPlan | undefined): void {
    this.plan = plan;
    this.rng = mulberry32(plan?.seed ?? 1);
    this.planHits = zero();
  }

  get current(): IikoFaultPlan | undefined {
    return this.plan;
  }

  /** Decides whether this request (of `op`) gets the fault `kind`; counts the hit. */
  decide(kind: IikoFaultKind, op: IikoSimOperation | 'unknown'): boolean {
    const spec: IikoFaultSpec | undefined = this.plan?.[kind];
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
