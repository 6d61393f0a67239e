// A test reporter (scripts/test.mjs adds it beside `spec`): at the end of the run, the failures again in one list,
// the slowest files, and the closing line "N passed, N failed, N skipped". Sets a non-zero exit code on any failure.
import { relative } from 'node:path';

const rel = (file) => (file ? relative(process.cwd(), file) : '(unknown file)');
// scripts/test-guard.mjs ends a file's process with this code when it stayed alive after its last test (not
// imported from there: importing the guard would register its hook in this process).
const LEFT_ALIVE = 86;
const firstLine = (err) => {
  if (err?.exitCode === LEFT_ALIVE) return 'the process stayed alive after the last test (what was still open is printed above)';
  const cause = err?.cause ?? err;
  return String(cause?.message ?? cause ?? '')
    .split('\n')[0]
    .slice(0, 300);
};

export default async function* summary(source) {
  const started = Date.now();
  let passed = 0;
  let skipped = 0;
  const failures = [];
  const fileMs = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { name, nesting, file, details, skip, todo } = event.data;
    if (nesting === 0) fileMs.set(rel(file), (fileMs.get(rel(file)) ?? 0) + (details.duration_ms ?? 0));
    if (details.type === 'suite') {
      // A suite fails by itself when a hook fails; its tests are then reported as cancelled.
      if (event.type === 'test:fail' && details.error?.failureType === 'hookFailed') failures.push({ file, name, error: details.error });
      continue;
    }
    if (skip || todo) skipped++;
    else if (event.type === 'test:pass') passed++;
    else failures.push({ file, name, error: details.error });
  }
  const lines = ['', `== test summary (${Math.round((Date.now() - started) / 1000)} s)`];
  if (failures.length) {
    lines.push('failed:');
    for (const f of failures) {
      const what = f.name === f.file ? 'the file itself' : f.name;
      lines.push(`  ✖ ${rel(f.file)} › ${what}: ${f.error?.failureType ? `[${f.error.failureType}] ` : ''}${firstLine(f.error)}`);
    }
  }
  const slowest = [...fileMs].sort((a, b) => b[1] - a[1]).slice(0, 5);
  lines.push(`slowest files: ${slowest.map(([f, ms]) => `${f} ${Math.round(ms / 1000)} s`).join(', ')}`);
  lines.push(`${passed} passed, ${failures.length} failed, ${skipped} skipped`, '');
  if (failures.length) process.exitCode = 1;
  yield lines.join('\n');
}
