import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded database's files hold password hashes, the ledger and the audit trail: only the platform's
 * operating-system user may read or write them. Start-up repairs a looser mode (a directory to 0700, a file
 * to 0600) and reports each repair that mattered, and the process creates new files without group or other
 * bits (umask 077), so the files PGlite writes later are private too. A loose file inside a directory that
 * was already private was never reachable by anyone else (PGlite rewrites its relation caches 0644 on every
 * start): it is tightened without a warning, so that the warning keeps meaning something.
 */
export function secureDataDir(dir: string, warn: (message: string) => void): number {
  if (process.platform === 'win32') return 0;
  process.umask(0o077);
  let repaired = 0;
  const walk = (path: string, reachable: boolean) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    const want = st.isDirectory() ? 0o700 : 0o600;
    const loose = (st.mode & 0o077) !== 0;
    if (loose || (st.mode & 0o777 & want) !== want) {
      chmodSync(path, want);
      if (loose && reachable) repaired++;
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name), reachable && loose);
  };
  walk(dir, true);
  if (repaired > 0) warn(`${dir}: ${repaired} files or folders were readable by other users; now only by this user (0700/0600)`);
  return repaired;
}
