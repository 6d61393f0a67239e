#!/usr/bin/env node
// Runs every compiled test file (or the files and folders given) with node's test runner, one process per file,
// and makes sure nothing hangs:
//  - each file has a time limit (MDL_TEST_FILE_TIMEOUT_S, default 300 s): past it the file fails and its process is
//    killed;
//  - a file whose process stays alive after its last test (an open server, database, browser or timer) fails
//    after MDL_TEST_EXIT_GRACE_S (default 10 s), naming what kept it alive (scripts/test-guard.mjs);
//  - the whole run has a limit too (MDL_TEST_RUN_TIMEOUT_S, default 3600 s).
// At the end a summary (scripts/test-summary.mjs) lists the failures and the slowest files, and the exit code is
// non-zero on any failure. TEST_CONCURRENCY (2) files run at once.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'src') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.test\.js$/.test(name) && /(^|\/)dist\//.test(p)) files.push(p);
  }
}
for (const r of args.length ? args : ['packages', 'test']) {
  if (statSync(r).isDirectory()) walk(r);
  else files.push(r);
}
files.sort();
if (files.length === 0) {
  console.error('no test files found: did the build run?');
  process.exit(1);
}

const seconds = (name, def) => {
  const v = Number(process.env[name] || def);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name}=${process.env[name]}: expected a number of seconds`);
  return v;
};
const fileTimeoutMs = seconds('MDL_TEST_FILE_TIMEOUT_S', 300) * 1000;
const runTimeoutS = seconds('MDL_TEST_RUN_TIMEOUT_S', 3600);
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const reporter = (name) => pathToFileURL(resolve(here, name)).href;

const child = spawn(
  process.execPath,
  [
    '--import',
    reporter('test-guard.mjs'),
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${fileTimeoutMs}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${reporter('test-summary.mjs')}`,
    '--test-reporter-destination=stdout',
    ...files,
  ],
  { stdio: 'inherit', detached: true },
);
// The whole run's own limit: should the runner itself get stuck, end it and everything it started.
const watchdog = setTimeout(() => {
  console.error(`\ntest run stopped: it went over MDL_TEST_RUN_TIMEOUT_S=${runTimeoutS} s`);
  process.kill(-child.pid, 'SIGKILL');
}, runTimeoutS * 1000);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.kill(-child.pid, signal));
child.on('exit', (code, signal) => {
  clearTimeout(watchdog);
  process.exit(code ?? (signal ? 1 : 0));
});
