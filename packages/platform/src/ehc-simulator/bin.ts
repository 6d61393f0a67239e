// The simulator as a program of its own (tests spawn it; `mdl ehc-simulator` is the same from the CLI). A file
// apart from main.ts: the CLI bundle includes main.ts, and must not start a simulator when it loads.
import { runSimulator } from './main.js';

runSimulator(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`mdl ehc-simulator: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
