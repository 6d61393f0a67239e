/**
 * Work that is cheaper done together: what callers submit while up to `maxInFlight` groups are running waits,
 * and goes out as the next group in one call of `run` (one statement, one round trip, one commit). Each caller
 * gets its own result, and only once its group is done; a group that fails fails its own callers and nobody
 * else's. A lone caller waits for nothing but the current tick.
 */
export class Grouped<In, Out> {
  #queue: { input: In; resolve: (out: Out) => void; reject: (e: unknown) => void }[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    /** Does a group's work; returns one result per input, in order. */
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly opts: { maxInFlight: number; maxSize: number; sizeOf?: (input: In) => number },
  ) {}

  submit(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.opts.maxInFlight || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#inFlight >= this.opts.maxInFlight || this.#queue.length === 0) return;
    const sizeOf = this.opts.sizeOf ?? (() => 1);
    // At least one, however large; then as many as fit.
    const group = [this.#queue.shift()!];
    let size = sizeOf(group[0]!.input);
    while (this.#queue.length && size + sizeOf(this.#queue[0]!.input) <= this.opts.maxSize) {
      const next = this.#queue.shift()!;
      size += sizeOf(next.input);
      group.push(next);
    }
    this.#inFlight++;
    this.#schedule();
    try {
      const outs = await this.run(group.map((g) => g.input));
      group.forEach((g, i) => g.resolve(outs[i]!));
    } catch (e) {
      for (const g of group) g.reject(e);
    } finally {
      this.#inFlight--;
      this.#schedule();
    }
  }
}
