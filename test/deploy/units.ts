/**
 * Reads the shipped systemd units and environment file, so the deployment test starts each process
 * with the command line and settings the units give it (only paths and ports are this machine's).
 */
import { readFileSync } from 'node:fs';

export interface Unit {
  execStart: string[];
  environment: Record<string, string>;
  environmentFile: string | undefined;
}

/** The [Service] settings a process is started with; `%i` is the instance (a port, a number). */
export function readUnit(file: string, instance = ''): Unit {
  const unit: Unit = { execStart: [], environment: {}, environmentFile: undefined };
  let section = '';
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    if (section !== 'Service') continue;
    const [key, ...rest] = line.split('=');
    const value = rest.join('=').replace(/%i/g, instance);
    if (key === 'ExecStart') unit.execStart = value.split(/\s+/);
    else if (key === 'EnvironmentFile') unit.environmentFile = value;
    else if (key === 'Environment') {
      for (const pair of value.split(/\s+/)) {
        const [k, ...v] = pair.split('=');
        unit.environment[k!] = v.join('=');
      }
    }
  }
  if (unit.execStart.length === 0) throw new Error(`${file}: no ExecStart`);
  return unit;
}

/** KEY=value lines, as systemd's EnvironmentFile= reads them (no quoting is used in ours). */
export function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}
