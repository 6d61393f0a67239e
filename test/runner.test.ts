import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

/**
 * The test runner itself (scripts/test.mjs) on small fixture files (test/fixtures/runner/): a file that leaves its
 * process alive fails, a file that waits for ever is stopped at its time limit, a suite whose `before` fails closes
 * what it opened, and the run ends by itself with the failures in its summary and a non-zero exit code.
 */
async function runTests(files: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  // NODE_TEST_CONTEXT would make the inner runner talk to this one instead of printing.
  const { NODE_TEST_CONTEXT: _, ...outer } = process.env;
  const child = spawn(process.execPath, ['scripts/test.mjs', ...files.map((f) => `test/fixtures/runner/${f}`)], {
    env: { ...outer, ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // Should the runner itself hang, this test fails instead of hanging with it.
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(killer);
  return { code, out };
}

describe('test runner', () => {
  it('fails a file that leaves its process alive, and still passes the rest', async () => {
    const r = await runTests(['passes.test.mjs', 'leaves-server-open.test.mjs', 'before-fails.test.mjs'], {
      MDL_TEST_EXIT_GRACE_S: '1',
    });
    assert.notEqual(r.code, 0, r.out);
    assert.match(
      r.out,
      /leaves-server-open\.test\.mjs: the process is still alive 1 s after its last test \(still open: [^)]*TCPServerWrap/,
    );
    assert.match(r.out, /✖ test\/fixtures\/runner\/leaves-server-open\.test\.mjs › the file itself: .*stayed alive after the last test/);
    // The suite whose before failed is reported as such, and its scope closed the server: no "still alive" for it.
    assert.match(
      r.out,
      /✖ test\/fixtures\/runner\/before-fails\.test\.mjs › a suite whose set-up fails half-way: \[hookFailed\] the browser would not start/,
    );
    assert.doesNotMatch(r.out, /before-fails\.test\.mjs: the process is still alive/);
    assert.doesNotMatch(r.out, /✖ test\/fixtures\/runner\/passes\.test\.mjs/);
    assert.match(r.out, /^2 passed, 3 failed, 0 skipped$/m);
  });

  it('stops a file at its time limit and exits non-zero', async () => {
    const r = await runTests(['never-ends.test.mjs'], { MDL_TEST_FILE_TIMEOUT_S: '3' });
    assert.notEqual(r.code, 0, r.out);
    assert.match(
      r.out,
      /✖ test\/fixtures\/runner\/never-ends\.test\.mjs › the file itself: \[testTimeoutFailure\] test timed out after 3000ms/,
    );
    assert.match(r.out, /^0 passed, 1 failed, 0 skipped$/m);
  });

  it('passes a clean run with exit code 0', async () => {
    const r = await runTests(['passes.test.mjs'], {});
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^1 passed, 0 failed, 0 skipped$/m);
  });
});
