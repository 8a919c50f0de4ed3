/**
 * A consecutive-failure circuit breaker for one device or remote system. Closed: calls go
 * through. After `failureThreshold` failures in a row it opens for `openMs`; once that has
 * passed one trial call is allowed (half-open): success closes it, failure opens it again for
 * twice as long, up to `maxOpenMs`. Callers ask canTry() before a call and report the outcome;
 * the breaker never calls anything itself (no timers to leak).
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold: number;
  openMs: number;
  maxOpenMs: number;
}

export interface BreakerView {
  state: BreakerState;
  consecutiveFailures: number;
  /** When an open breaker allows its next trial call (ISO-8601), else null. */
  retryAt: string | null;
}

export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private currentOpenMs: number;

  constructor(private readonly opts: BreakerOptions, private readonly now: () => number = Date.now) {
    this.currentOpenMs = opts.openMs;
  }

  get state(): BreakerState {
    if (this.failures < this.opts.failureThreshold) return 'closed';
    return this.now() >= this.openUntil ? 'half_open' : 'open';
  }

  canTry(): boolean {
    return this.state !== 'open';
  }

  /** Milliseconds until the next trial call is allowed (0 when allowed now). */
  msUntilTrial(): number {
    return this.state === 'open' ? Math.max(0, this.openUntil - this.now()) : 0;
  }

  onSuccess(): void {
    this.failures = 0;
    this.openUntil = 0;
    this.currentOpenMs = this.opts.openMs;
  }

  onFailure(): void {
    const wasHalfOpen = this.state === 'half_open';
    this.failures += 1;
    if (this.failures < this.opts.failureThreshold) return;
    if (wasHalfOpen) this.currentOpenMs = Math.min(this.currentOpenMs * 2, this.opts.maxOpenMs);
    this.openUntil = this.now() + this.currentOpenMs;
  }

  view(): BreakerView {
    const state = this.state;
    return {
      state,
      consecutiveFailures: this.failures,
      retryAt: state === 'open' ? new Date(this.openUntil).toISOString() : null,
    };
  }
}
