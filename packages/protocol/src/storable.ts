/**
 * What the platform can store, checked once over a whole decoded envelope or payload before anything else reads
 * it (issue #14). PostgreSQL refuses NUL (U+0000) in text and JSON, JSON text cannot carry a lone UTF-16
 * surrogate (jsonb refuses `\ud800`, UTF-8 encoding silently turns it into U+FFFD), and unbounded nesting costs
 * stack in every later step (validation, JSON encoding, jsonb). A request carrying any of these is refused at
 * the door as 000105 instead of being accepted and then failing in processing, or failing as 000002.
 *
 * The limits are documented in docs/error-codes.md and spec/integration-guide.zh.md's readers get them in the
 * reply message.
 */
export const STORABLE_LIMITS = {
  /** Nesting of a whole envelope or payload (objects and arrays); the schemas themselves need fewer than 8. */
  maxDepth: 32,
  /** Nesting inside an `extData` value (the object itself is level 1). */
  extDataMaxDepth: 8,
  /** Size of an `extData` value as compact JSON, in UTF-8 bytes. */
  extDataMaxBytes: 4096,
} as const;

export interface StorableIssue {
  path: string;
  message: string;
}

// NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
// eslint-disable-next-line no-control-regex -- NUL is exactly what is looked for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function stringProblem(s: string): string | undefined {
  const m = UNSTORABLE.exec(s);
  if (!m) return undefined;
  return m[0] === '\u0000' ? '含有不允许的空字符 (U+0000)' : '含有不成对的 UTF-16 代理字符（无效的 Unicode 文本）';
}

const utf8 = new TextEncoder();

/**
 * The first part of `value` the database could not store, or undefined. Walks without recursion, so a hostile
 * nesting depth cannot exhaust the stack here; any `extData` member is also held to its own depth and size limits.
 */
export function unstorableProblem(value: unknown, root = ''): StorableIssue | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: root, depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    const at = path || '报文';
    if (typeof v === 'string') {
      const p = stringProblem(v);
      if (p) return { path: at, message: p };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= STORABLE_LIMITS.maxDepth) return { path: at, message: `嵌套层数超过 ${STORABLE_LIMITS.maxDepth} 层` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}[${i}]`, depth: depth + 1 });
      continue;
    }
    const entries = Object.entries(v as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, child] = entries[i]!;
      const childPath = path ? `${path}.${k}` : k;
      const kp = stringProblem(k);
      if (kp) return { path: `${at} 的字段名`, message: kp };
      if (k === 'extData' && child !== null && typeof child === 'object') {
        const extIssue = extDataProblem(child, childPath);
        if (extIssue) return extIssue;
      }
      stack.push({ v: child, path: childPath, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Depth first: the size is measured only once the nesting is known to be bounded (JSON.stringify recurses). */
function extDataProblem(v: object, path: string): StorableIssue | undefined {
  if (tooDeep(v, STORABLE_LIMITS.extDataMaxDepth)) {
    return { path, message: `extData 嵌套层数超过 ${STORABLE_LIMITS.extDataMaxDepth} 层` };
  }
  const bytes = utf8.encode(JSON.stringify(v)).length;
  return bytes > STORABLE_LIMITS.extDataMaxBytes
    ? { path, message: `extData 超过 ${STORABLE_LIMITS.extDataMaxBytes} 字节（实际 ${bytes} 字节）` }
    : undefined;
}

function tooDeep(value: object, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) return true;
    for (const c of Object.values(v as Record<string, unknown>)) stack.push([c, d + 1]);
  }
  return false;
}
