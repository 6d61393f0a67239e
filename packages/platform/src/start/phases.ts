import { performance } from 'node:perf_hooks';

/**
 * How long each step of a start took, in ms, the first one ('modules') counted from the start of the process:
 * Node itself and loading the code. Logged once the server listens (`startupMs`), and read by `npm run bench`.
 */
export class StartupPhases {
  readonly #phases: Record<string, number> = { modules: Math.round(performance.now()) };
  #last = performance.now();

  done(name: string): void {
    const now = performance.now();
    this.#phases[name] = Math.round(now - this.#last);
    this.#last = now;
  }

  all(): Record<string, number> {
    return { ...this.#phases, total: this.total() };
  }

  /** Since the process started. */
  total(): number {
    return Math.round(this.#last);
  }
}
