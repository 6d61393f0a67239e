// Loaded into every test file's process by scripts/test.mjs (--import). After the file's last test, the process
// should end by itself within MDL_TEST_EXIT_GRACE_S seconds; if it does not, something the tests opened is still
// open, and the file fails with a list of what is keeping the process alive.
import { after } from 'node:test';

// The exit code that tells scripts/test-summary.mjs why the file failed.
const LEFT_ALIVE = 86;

const graceMs = Number(process.env.MDL_TEST_EXIT_GRACE_S || 10) * 1000;

after(() => {
  setTimeout(() => {
    const alive = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    process.stderr.write(
      `\n${process.argv[1]}: the process is still alive ${graceMs / 1000} s after its last test ` +
        `(still open: ${alive.join(', ') || 'unknown'}). Close what the tests open (see test/support/scope.ts).\n`,
    );
    process.exit(LEFT_ALIVE);
  }, graceMs).unref();
});
