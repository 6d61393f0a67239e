import type { Args, Command, Io, OptionSpecs } from '@mdl/protocol/cli';
import type { Config } from '../config.js';
import {
  createApp,
  listApps,
  rotateApp,
  setAppStatus,
  upsertInstitution,
  type ChangedBy,
  type InstitutionInput,
} from '../domain/credentials.js';
import { parseInstitutionForm } from '../domain/console/institutions.js';
import { CLI_OPERATOR } from './actor.js';
import { cliLogger } from '../log.js';
import { createPlatform } from '../platform.js';

/** The credential functions take a `ChangedBy`: the same CLI operator as every other `mdl` change. */
const CLI: ChangedBy = { actorType: 'operator', actorId: CLI_OPERATOR.username };

/** The options of `mdl apps create`; list, disable and rotate take none. */
const OPTIONS: OptionSpecs = {
  'org-id': { type: 'string', help: 'institution code (create)' },
  'org-name': { type: 'string', help: 'institution name (create)' },
  env: { type: 'string', help: 'test or prod (create)' },
  'notify-host': { type: 'string', multiple: true, help: 'a host the callbacks may go to; repeat for more (create)' },
  'endpoint-url': {
    type: 'string',
    help: "base URL of the institution's own interfaces: the platform calls ORG_001 at URL/qmdl/getOverdueResult (citizen refresh, reconciliation)",
  },
  port: {
    type: 'string',
    multiple: true,
    help: "a port the platform may call the institution on (ORG_001, callbacks); none given: 443 and 80. The endpoint URL's port must be one of them",
  },
  channel: { type: 'boolean', help: 'a 闽政通-style channel credential (query only)' },
  label: { type: 'string', help: 'name of a channel credential' },
};

export const appsCommand: Command<Config> = {
  name: 'apps',
  summary:
    'credentials (appId + secret): create | list | disable | rotate\nThe secret is printed once, at creation or rotation. Keep it like a password.',
  usage: [
    'apps create --org-id ID --org-name NAME --env test|prod [--notify-host HOST ...] [--endpoint-url URL] [--port N ...] [--json]',
    'apps create --channel --label NAME --env test|prod [--json]',
    'apps list [--json]',
    'apps disable APP_ID [--json]',
    'apps rotate APP_ID [--json]',
  ],
  options: OPTIONS,
  run: (a, io, config) => apps(config, a, io),
};

/** Which flag a field of the institution form comes from, for the error message. */
const FLAG_OF_FIELD: Record<string, string> = {
  orgId: '--org-id',
  orgName: '--org-name',
  endpointUrl: '--endpoint-url',
  notifyHosts: '--notify-host',
  ports: '--port',
};

async function apps(config: Config, a: Args, io: Io): Promise<number> {
  const values = {
    'org-id': a.get('org-id'),
    'org-name': a.get('org-name'),
    env: a.get('env'),
    'notify-host': a.list('notify-host').length ? a.list('notify-host') : undefined,
    'endpoint-url': a.get('endpoint-url'),
    port: a.list('port').length ? a.list('port') : undefined,
    channel: a.values.channel === true,
    label: a.get('label'),
    json: a.json,
  };
  const positionals = a.positionals;
  const [sub, appIdArg] = positionals;
  if (!sub) {
    io.out(a.help());
    return 2;
  }
  const fail = (msg: string) => (io.err(`mdl apps ${sub}: ${msg}`), 2);
  let institution: InstitutionInput | undefined;
  if (sub === 'create') {
    if (values.env !== 'test' && values.env !== 'prod') return fail('--env must be test or prod');
    if (values.env === 'test' && config.deployment === 'production')
      return fail('test credentials belong to a sandbox (MDL_DEPLOYMENT=sandbox); this is a production deployment: use --env prod');
    if (!values.channel) {
      // The console's rules, one implementation (domain/console/institutions.ts): flags become its form fields.
      if (!values['org-id']) return fail('--org-id is required: the institution code, at most 12 letters or digits');
      if (!values['org-name']) return fail('--org-name is required, at most 40 characters');
      const checked = parseInstitutionForm(
        {
          orgId: values['org-id'],
          orgName: values['org-name'],
          region: '',
          endpointUrl: values['endpoint-url']?.replace(/\/+$/, '') ?? '',
          notifyHosts: (values['notify-host'] ?? []).join('\n'),
          paymentChannels: '',
          ports: (values.port ?? []).join(','),
        },
        true,
      );
      const [field, message] = Object.entries(checked.errors)[0] ?? [];
      if (field && message) return fail(`${FLAG_OF_FIELD[field] ?? field}: ${message}`);
      institution = checked.input;
    } else if (values['endpoint-url']) {
      return fail('--endpoint-url belongs to an institution, not a channel');
    }
  } else if (sub === 'disable' || sub === 'rotate') {
    if (!appIdArg) return fail('give the APP_ID');
  } else if (sub !== 'list') {
    return fail(`unknown subcommand\n\n${a.help()}`);
  }
  const platform = await createPlatform(config, { queue: false, log: cliLogger() });
  try {
    const { db, vault } = platform;
    switch (sub) {
      case 'create': {
        if (!values.channel) {
          // Only what the flags give: creating a credential for a known institution keeps its other settings.
          const i = institution!;
          await upsertInstitution(
            db,
            {
              orgId: i.orgId,
              orgName: i.orgName,
              ...(values['notify-host'] ? { notifyHosts: i.notifyHosts } : {}),
              ...(values['endpoint-url'] ? { endpointUrl: i.endpointUrl } : {}),
              ...(values.port ? { ports: i.ports } : {}),
            },
            CLI,
          );
        }
        const r = await createApp(
          db,
          vault,
          {
            kind: values.channel ? 'channel' : 'institution',
            orgId: values['org-id'],
            env: values.env as 'test' | 'prod',
            label: values.label,
          },
          CLI,
        );
        const out = {
          appId: r.appId,
          secret: r.secret,
          kind: values.channel ? 'channel' : 'institution',
          orgId: values['org-id'] ?? null,
          env: values.env,
        };
        io.out(
          values.json
            ? JSON.stringify(out)
            : `created ${out.kind} credential\n  appId:  ${r.appId}\n  secret: ${r.secret}\n(the secret is shown only now)`,
        );
        return 0;
      }
      case 'list': {
        const rows = await listApps(db);
        if (values.json) io.out(JSON.stringify(rows));
        else if (rows.length === 0) io.out('no credentials yet: mdl apps create --help');
        else
          for (const r of rows) io.out(`${r.app_id}  ${r.kind.padEnd(11)} ${(r.org_id ?? '-').padEnd(12)} ${r.env.padEnd(4)} ${r.status}`);
        return 0;
      }
      case 'disable': {
        const ok = await setAppStatus(db, appIdArg!, 'disabled', CLI);
        io.out(values.json ? JSON.stringify({ appId: appIdArg, disabled: ok }) : ok ? `disabled ${appIdArg}` : `no credential ${appIdArg}`);
        return ok ? 0 : 1;
      }
      case 'rotate': {
        const secret = await rotateApp(db, vault, appIdArg!, CLI);
        io.out(
          values.json
            ? JSON.stringify({ appId: appIdArg, secret: secret ?? null })
            : secret
              ? `new secret for ${appIdArg}: ${secret}`
              : `no credential ${appIdArg}`,
        );
        return secret ? 0 : 1;
      }
    }
    return 2;
  } finally {
    await platform.close();
  }
}
