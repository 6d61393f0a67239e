import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The city e-health-card simulator as a process of its own, as the sandbox runs it (`mdl ehc-simulator`). */
export const SIMULATOR = fileURLToPath(new URL('../../../packages/platform/dist/ehc-simulator/bin.js', import.meta.url));

export interface Simulator {
  url: string;
  child: ChildProcess;
  /** What it wrote, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export const CITY_APP_ID = 'MDLCITY0001';
export const CITY_SECRET = 'CitySecret0123456789abcdef';

export async function startSimulator(args: string[] = [], credential = { appId: CITY_APP_ID, secret: CITY_SECRET }): Promise<Simulator> {
  const child = spawn(process.execPath, [SIMULATOR, '--port', '0', ...args], {
    env: { ...process.env, MDL_EHC_UPSTREAM_APP_ID: credential.appId, MDL_EHC_UPSTREAM_SECRET: credential.secret },
  });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /\{"url":"[^"]+"\}/.exec(out);
      if (line) resolve((JSON.parse(line[0]) as { url: string }).url);
    });
    void exited.then(() => reject(new Error(`the simulator exited before it listened:\n${out}`)));
  });
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
