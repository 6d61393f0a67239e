/** A FIFO lock: PGlite is a single connection, so every user of it takes turns through one of these. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  /** Holders and waiters: 0 when idle, 1 while held, more while others wait (the metrics' pool figures). */
  queued = 0;

  async lock(): Promise<() => void> {
    let release!: () => void;
    this.queued++;
    const next = new Promise<void>((r) => (release = () => (this.queued--, r())));
    const prev = this.#tail;
    this.#tail = prev.then(() => next);
    await prev;
    return release;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.lock();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
