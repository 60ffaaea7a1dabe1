import type { Clock } from "../platform/clock";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a provider's circuit. @default 5 */
  failureThreshold?: number;
  /** How long an open circuit refuses calls before it lets one trial through. @default 30000 */
  coolDownMs?: number;
}

interface ProviderCircuit {
  consecutiveFailures: number;
  /** Epoch ms until which calls are refused; null while closed. */
  openUntil: number | null;
  /** Half-open: the one call let through after the cool-down has not reported back yet. */
  trialInFlight: boolean;
}

/**
 * Per-provider circuit breakers, in this instance's memory: a provider that keeps failing is
 * skipped for a while instead of costing every message a send timeout before failover.
 */
export class CircuitBreaker {
  private readonly circuits = new Map<string, ProviderCircuit>();
  private readonly failureThreshold: number;
  private readonly coolDownMs: number;

  constructor(
    private readonly clock: Clock,
    options: CircuitBreakerOptions = {},
  ) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.coolDownMs = options.coolDownMs ?? 30_000;
  }

  /**
   * Whether to call the provider now. After the cool-down this answers true once, and false to
   * everyone else until that trial is recorded: every caller that gets true must record an outcome.
   */
  tryAcquire(provider: string): boolean {
    const circuit = this.circuits.get(provider);
    if (!circuit || circuit.openUntil === null) return true;
    if (this.clock.now().getTime() < circuit.openUntil || circuit.trialInFlight) return false;
    circuit.trialInFlight = true;
    return true;
  }

  recordSuccess(provider: string): void {
    this.circuits.delete(provider);
  }

  recordFailure(provider: string): void {
    const circuit = this.circuits.get(provider) ?? { consecutiveFailures: 0, openUntil: null, trialInFlight: false };
    circuit.consecutiveFailures += 1;
    // A failed trial reopens at once: one failure is enough evidence the provider is still down.
    if (circuit.trialInFlight || circuit.consecutiveFailures >= this.failureThreshold) {
      circuit.openUntil = this.clock.now().getTime() + this.coolDownMs;
      circuit.trialInFlight = false;
    }
    this.circuits.set(provider, circuit);
  }

  /** The call tryAcquire allowed was not made after all: another caller may have the trial. */
  release(provider: string): void {
    const circuit = this.circuits.get(provider);
    if (circuit) circuit.trialInFlight = false;
  }
}
