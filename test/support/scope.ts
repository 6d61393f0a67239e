import { after } from 'node:test';

/**
 * What a suite opens (platforms, hospitals, servers, browsers), closed after it in reverse order whether or not
 * its `before` got to the end: a half-done `before` must not leave a server that keeps the test process alive.
 * Every close is tried; the first error is rethrown after all of them ran. Call it in the `describe` body.
 */
export function suiteScope(): { add<T>(value: T, close: (value: T) => unknown): T } {
  const closers: (() => unknown)[] = [];
  after(async () => {
    let failure: unknown;
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure) throw failure;
  });
  return {
    add(value, close) {
      closers.push(() => close(value));
      return value;
    },
  };
}
