import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createSimulator } from './server.js';
import { SimStore } from './store.js';

export const SIMULATOR_HELP = `mdl ehc-simulator — a city e-health-card system for tests and the sandbox (docs/ehc-flows.md)

Options:
  --port N          port to listen on (default 8090; 0: any free port)
  --host ADDR       address to listen on (default 127.0.0.1)
  --store FILE      keep the people and cards in this JSON file (default: memory only)
  --fail-first N    answer the first N calls with HTTP 503
  --delay-ms N      hold every answer N milliseconds
The credential is MDL_EHC_UPSTREAM_APP_ID and MDL_EHC_UPSTREAM_SECRET, the same settings the platform uses.
Prints one JSON line {"url": …} once it listens; stops on SIGINT/SIGTERM.`;

/** Runs the simulator until a signal; resolves with the exit code. */
export async function runSimulator(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      store: { type: 'string' },
      'fail-first': { type: 'string', default: '0' },
      'delay-ms': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return (process.stdout.write(SIMULATOR_HELP + '\n'), 0);
  const appId = env.MDL_EHC_UPSTREAM_APP_ID ?? '';
  const secret = env.MDL_EHC_UPSTREAM_SECRET ?? '';
  if (!appId || secret.length < 16) {
    process.stderr.write('mdl ehc-simulator: set MDL_EHC_UPSTREAM_APP_ID and MDL_EHC_UPSTREAM_SECRET (at least 16 characters)\n');
    return 2;
  }
  const store = new SimStore(values.store);
  store.seedDemo();
  const server = createSimulator({ store, appId, secret, failFirst: Number(values['fail-first']), delayMs: Number(values['delay-ms']) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(values.port), values.host, resolve);
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  process.stdout.write(JSON.stringify({ url: `http://${host}:${a.port}` }) + '\n');
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
