import type { Args, Command, Io } from '@mdl/protocol/cli';
import type { Config } from '../config.js';
import { createUser, UserInputError, type Role } from '../domain/console/auth.js';
import { listUsers as readUsers } from '../domain/console/users.js';
import { cliLogger } from '../log.js';
import { CLI_OPERATOR } from './actor.js';
import { createPlatform } from '../platform.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  let s = '';
  for await (const chunk of process.stdin) s += String(chunk);
  return s.split(/\r?\n/)[0] ?? '';
}

export const usersCommand: Command<Config> = {
  name: 'users',
  summary:
    'console accounts: create | list\nThe password comes from --password or, better (it stays out of the shell history), from the first line\nof standard input. At least 10 characters of three kinds (upper, lower, digit, symbol).\nAn operator gets a TOTP secret for an authenticator app; it is printed once, with its otpauth:// URI.',
  usage: ['users create --username U --role operator|auditor|staff [--org-id ID] [--password P] [--json]', 'users list [--json]'],
  options: {
    username: { type: 'string', help: 'account name (create)' },
    role: { type: 'string', help: 'operator, auditor or staff (create)' },
    'org-id': { type: 'string', help: 'the institution of a staff account (create)' },
    password: { type: 'string', help: 'the password (create; better on standard input)' },
  },
  run: (a, io, config) => users(config, a, io),
};

async function users(config: Config, a: Args, io: Io, stdin: () => Promise<string> = readStdin): Promise<number> {
  const values = { username: a.get('username'), role: a.get('role'), 'org-id': a.get('org-id'), password: a.get('password'), json: a.json };
  const positionals = a.positionals;
  if (positionals[0] !== 'create' && positionals[0] !== 'list') {
    io.out(a.help());
    return 2;
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
      CLI_OPERATOR.username,
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
