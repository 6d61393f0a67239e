import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { listUsers as readUsers } from '../domain/console/users.js';
import { createUser, UserInputError, type Role } from '../domain/console/auth.js';
import { cliLogger } from '../log.js';
import { createPlatform } from '../platform.js';
import type { Io } from './io.js';

const HELP = `mdl users — console accounts

  mdl users create --username U --role operator|auditor|staff [--org-id ID] [--password P] [--json]
  mdl users list [--json]

The password comes from --password or, better (it stays out of the shell history), from the first line
of standard input. At least 10 characters of three kinds (upper, lower, digit, symbol).
An operator gets a TOTP secret for an authenticator app; it is printed once, with its otpauth:// URI.`;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  let s = '';
  for await (const chunk of process.stdin) s += String(chunk);
  return s.split(/\r?\n/)[0] ?? '';
}

export async function usersCommand(config: Config, args: string[], io: Io, stdin: () => Promise<string> = readStdin): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      username: { type: 'string' },
      role: { type: 'string' },
      'org-id': { type: 'string' },
      password: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || (positionals[0] !== 'create' && positionals[0] !== 'list')) {
    io.out(HELP);
    return values.help ? 0 : 2;
  }
  if (positionals[0] === 'list') return listUsers(config, values.json === true, io);
  const fail = (msg: string) => (io.err(`mdl users create: ${msg}`), 2);
  if (!values.username) return fail('--username is required');
  if (!['operator', 'auditor', 'staff'].includes(values.role ?? '')) return fail('--role must be operator, auditor or staff');
  if (values.role === 'staff' && !values['org-id']) return fail('--org-id is required for staff');
  const password = values.password ?? (await stdin());
  if (!password) return fail('give the password with --password or on standard input');
  const platform = await createPlatform(config, { queue: false, log: cliLogger() });
  try {
    const r = await createUser(
      platform,
      { username: values.username, role: values.role as Role, orgId: values['org-id'] ?? null, password },
      'cli',
    );
    const out = { username: r.user.username, role: r.user.role, orgId: r.user.org_id, totpSecret: r.totpSecret, otpauth: r.otpauth };
    if (values.json) io.out(JSON.stringify(out));
    else {
      io.out(`created ${out.role} ${out.username}${out.orgId ? ` (${out.orgId})` : ''}`);
      {
        io.out(`  TOTP secret: ${r.totpSecret}`);
        io.out(`  otpauth URI: ${r.otpauth}`);
        io.out('(add it to an authenticator app now: it is shown only once)');
      }
      io.out(`sign in at ${config.publicUrl}/console/login`);
    }
    return 0;
  } catch (e) {
    if (e instanceof UserInputError) return fail(e.message);
    throw e;
  } finally {
    await platform.close();
  }
}

async function listUsers(config: Config, json: boolean, io: Io): Promise<number> {
  const platform = await createPlatform(config, { queue: false, log: cliLogger() });
  try {
    const rows = (await readUsers(platform.db)).map(({ id: _id, ...row }) => row);
    if (json) io.out(JSON.stringify(rows));
    else if (rows.length === 0) io.out('no console accounts yet: mdl users create --help');
    else {
      const now = Date.now();
      for (const r of rows) {
        const locked = r.locked_until && r.locked_until.getTime() > now ? ' (locked)' : '';
        io.out(`${r.username.padEnd(20)} ${r.role.padEnd(8)} ${(r.org_id ?? '-').padEnd(12)} ${r.status}${locked}`);
      }
    }
    return 0;
  } finally {
    await platform.close();
  }
}
