/**
 * Durable local files: a JSON document replaced atomically, and an append-only JSON-lines log.
 * Both fsync before they report success, so what a caller was told is written survives a crash or
 * a power cut of the hospital machine.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

async function fsyncDir(dir: string): Promise<void> {
  // A rename is durable only once the directory entry is; some platforms cannot open a directory.
  try {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    /* best effort */
  }
}

const pending = new Map<string, Promise<void>>();

/**
 * Write to a temporary file, fsync, rename over the target: readers see the old or the new file, never half.
 * Writes to one path are queued in call order, so a slower earlier write can never land over a later one.
 */
export function writeFileAtomic(path: string, text: string): Promise<void> {
  const prev = pending.get(path) ?? Promise.resolve();
  const next = prev.catch(() => {}).then(() => writeNow(path, text));
  pending.set(path, next);
  void next
    .finally(() => {
      if (pending.get(path) === next) pending.delete(path);
    })
    .catch(() => {});
  return next;
}

async function writeNow(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const h = await open(tmp, 'w', 0o600);
  try {
    await h.writeFile(text);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 1));
}

export async function readJsonFile<T>(path: string, fallback: T): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw e;
  }
  return JSON.parse(text) as T;
}

/** Serialises writes so concurrent updates of one document land in order. */
export class JsonDocument<T> {
  private chain: Promise<void> = Promise.resolve();
  constructor(
    readonly path: string,
    public value: T,
  ) {}

  static async load<T>(path: string, fallback: T): Promise<JsonDocument<T>> {
    return new JsonDocument(path, await readJsonFile(path, fallback));
  }

  /** Persists the current value; resolves once it is on disk. */
  save(): Promise<void> {
    const snapshot = JSON.parse(JSON.stringify(this.value)) as T;
    const next = this.chain.then(() => writeJsonAtomic(this.path, snapshot));
    this.chain = next.catch(() => undefined);
    return next;
  }
}

/** Append-only log, one JSON value per line, each append fsync'd before it resolves. */
export class JsonLinesLog {
  private chain: Promise<void> = Promise.resolve();
  constructor(readonly path: string) {}

  /** Every complete record; a torn last line (crash mid-write) is ignored. */
  async readAll(): Promise<unknown[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: unknown[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        /* torn write */
      }
    }
    return out;
  }

  /** Replaces the whole log at once (compaction), atomically. */
  rewrite(records: readonly unknown[]): Promise<void> {
    const next = this.chain.then(() => writeFileAtomic(this.path, records.map((r) => JSON.stringify(r)).join('\n') + '\n'));
    this.chain = next.catch(() => undefined);
    return next;
  }

  append(record: unknown): Promise<void> {
    const next = this.chain.then(async () => {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const h = await open(this.path, 'a', 0o600);
      try {
        // A leading newline closes any torn line left by a crash, so this record parses on its own.
        await h.appendFile('\n' + JSON.stringify(record));
        await h.sync();
      } finally {
        await h.close();
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
