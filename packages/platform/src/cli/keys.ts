import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Command } from '@mdl/protocol/cli';
import type { Config } from '../config.js';
import { cliLogger } from '../log.js';
import { createPlatform, MasterKeyMismatchError } from '../platform.js';
import { sealAudit } from '../domain/audit-chain.js';
import { rotateMasterKey, RotationError, type RotationProgress } from '../domain/keys/rotate.js';
import type { Io } from '@mdl/protocol/cli';

const SUMMARY = `re-seal every sealed value and re-key every blind index under a new master key
  Stop every mdl serve/worker first. Resumable: after a crash or Ctrl-C run the same command again (same
  --new-key); a second run while one is going is refused. With MDL_MASTER_KEY (PostgreSQL) give --new-key,
  and set MDL_MASTER_KEY to it once the rotation has finished. On the embedded default without
  MDL_MASTER_KEY the new key is made and kept in <data dir>/master.key.next, which replaces master.key at
  the end. See docs/operations.md, "Master-key rotation".`;

const KEY_RE = /^[0-9a-fA-F]{32}$/;

/** `mdl keys rotate`; `env` tells whether the master key came from MDL_MASTER_KEY or from the data directory. */
export function keysCommand(env: NodeJS.ProcessEnv): Command<Config> {
  return {
    name: 'keys',
    summary: SUMMARY,
    usage: 'keys rotate [--new-key HEX] [--batch N] [--json]',
    options: {
      'new-key': { type: 'string', help: 'the new master key, 32 hex characters (openssl rand -hex 16)' },
      batch: { type: 'string', help: 'rows re-sealed per transaction' },
    },
    async run(a, io, config) {
      if (a.positionals[0] !== 'rotate') {
        io.out(a.help());
        return 2;
      }
      return rotate(config, { 'new-key': a.get('new-key'), batch: a.get('batch'), json: a.json }, io, env);
    },
  };
}

async function rotate(
  config: Config,
  values: { 'new-key': string | undefined; batch: string | undefined; json: boolean },
  io: Io,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  // The key file beside the data is ours to replace only when the key came from it.
  const keyFile = !config.databaseUrl && !env.MDL_MASTER_KEY ? resolve(config.dataDir, 'master.key') : undefined;
  const nextFile = keyFile ? `${keyFile}.next` : undefined;
  let newKey = values['new-key']?.toLowerCase();
  if (newKey !== undefined && !KEY_RE.test(newKey)) {
    io.err('mdl keys rotate: --new-key must be 32 hex characters (openssl rand -hex 16)');
    return 2;
  }
  if (nextFile && existsSync(nextFile)) {
    const kept = readFileSync(nextFile, 'utf8').trim().toLowerCase();
    if (newKey && newKey !== kept) {
      io.err(`mdl keys rotate: ${nextFile} holds the new key of an unfinished rotation; run without --new-key to finish it`);
      return 2;
    }
    newKey = kept;
  } else if (nextFile) {
    newKey ??= randomBytes(16).toString('hex');
    // Kept before anything is re-sealed under it: a crash must not lose the only copy.
    writeFileSync(nextFile, newKey + '\n', { mode: 0o600, flag: 'wx' });
  }
  if (!newKey) {
    io.err('mdl keys rotate: --new-key is required when the master key comes from MDL_MASTER_KEY');
    return 2;
  }
  const batchSize = values.batch ? Math.max(1, Number(values.batch) || 500) : 500;

  let platform;
  try {
    platform = await createPlatform(config, { queue: false, keyRotation: true, log: cliLogger() });
  } catch (e) {
    // Finished, but the process ended before the key file was replaced: the database already has the new key.
    if (e instanceof MasterKeyMismatchError && keyFile && nextFile && existsSync(nextFile)) {
      const check = await createPlatform({ ...config, masterKey: newKey }, { queue: false, log: cliLogger() }).catch(() => undefined);
      if (check) {
        await check.close();
        renameSync(nextFile, keyFile);
        io.out(values.json ? JSON.stringify({ finished: true }) : 'the rotation had finished; master.key now holds the new key');
        return 0;
      }
    }
    throw e;
  }
  try {
    // Events written so far are sealed under the old key (still checked after the rotation, Vault.ring).
    for (let n = -1; n !== 0;) n = await sealAudit(platform.db, platform.vault, 10_000);
    let last = '';
    const show = (p: RotationProgress) => {
      if (values.json) return;
      const line = `${p.step}: ${p.rowsDone}/${p.rowsTotal}${p.done ? ' done' : ''}`;
      if (line !== last) io.out(line);
      last = line;
    };
    let kept = 0;
    const finished = await rotateMasterKey(platform.db, config.masterKey, newKey, { batchSize, onProgress: show, onKept: () => kept++ });
    if (kept > 0) {
      io.err(
        `mdl keys rotate: ${kept} arrears items have a subject key the platform does not make (loaded or repaired by hand); kept as they were`,
      );
    }
    if (!finished) throw new RotationError('stopped before the end; run the command again');
  } catch (e) {
    if (e instanceof RotationError) {
      io.err(`mdl keys rotate: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await platform.close();
  }
  if (keyFile && nextFile) renameSync(nextFile, keyFile);
  io.out(
    values.json
      ? JSON.stringify({ finished: true })
      : keyFile
        ? 'rotation finished; master.key holds the new key'
        : 'rotation finished; set MDL_MASTER_KEY to the new key before starting the platform',
  );
  return 0;
}
