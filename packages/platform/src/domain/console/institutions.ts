import type { Kysely } from 'kysely';
import type { DB, Institution } from '../../db/schema.js';
import { outboundPorts, type InstitutionInput } from '../credentials.js';

/** Form values of an institution, as typed (strings), and their checks with messages per field. */
export interface InstitutionForm {
  orgId: string;
  orgName: string;
  region: string;
  endpointUrl: string;
  notifyHosts: string;
  paymentChannels: string;
  /** Ports the platform may call the institution on, e.g. `443, 8443`; empty: 443 and 80. */
  ports: string;
}

export type FieldErrors = Record<string, string>;

const HOST_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const CHANNEL_KINDS = ['phone', 'online', 'address', 'other'];
const ENDPOINT_MAX = 160;

/**
 * The one check of an institution's fields, for the console form and `mdl apps create` alike (issue #10):
 * what the platform will call (endpoint, ports) and be called back on (notify hosts) is checked the same way
 * whichever door it comes through.
 */

export function parseInstitutionForm(f: InstitutionForm, isNew: boolean): { input?: InstitutionInput; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const orgId = f.orgId.trim();
  if (isNew && !/^[A-Za-z0-9]{1,12}$/.test(orgId)) errors.orgId = '机构编码为 1 到 12 位字母或数字';
  const orgName = f.orgName.trim();
  if (!orgName || [...orgName].length > 40) errors.orgName = '机构名称为 1 到 40 个字';
  const region = f.region.trim();
  if (region && !/^\d{6}$/.test(region)) errors.region = '地区为 6 位行政区划代码';
  const endpointUrl = f.endpointUrl.trim();
  if (endpointUrl) {
    let ok = false;
    try {
      const u = new URL(endpointUrl);
      // The stricter of the console's and the CLI's former rules: no credentials in the URL, no spaces, 160 characters.
      ok =
        (u.protocol === 'http:' || u.protocol === 'https:') &&
        endpointUrl.length <= ENDPOINT_MAX &&
        !/\s/.test(endpointUrl) &&
        !u.username &&
        !u.password;
    } catch {
      ok = false;
    }
    if (!ok) errors.endpointUrl = `接口地址应为 http(s):// 开头、不超过 ${ENDPOINT_MAX} 字符、不含空格的网址`;
  }
  const portTexts = f.ports
    .split(/[\s,，]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const ports = [...new Set(portTexts.map(Number))];
  if (portTexts.some((p) => !/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535))
    errors.ports = '端口为 1 到 65535 的数字，用逗号分隔';
  else if (ports.length > 10) errors.ports = '最多 10 个端口';
  else if (endpointUrl && !errors.endpointUrl) {
    // The platform calls only registered ports (docs/security.md "Outbound calls"): the endpoint's must be one.
    const u = new URL(endpointUrl);
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    const allowed = outboundPorts(JSON.stringify(ports));
    if (!allowed.includes(port)) errors.ports = `接口地址的端口 ${port} 不在登记的端口（${allowed.join('、')}）中`;
  }
  const notifyHosts = f.notifyHosts
    .split(/[\s,，]+/)
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const badHost = notifyHosts.find((x) => !HOST_RE.test(x));
  if (badHost) errors.notifyHosts = `“${badHost}” 不是有效的主机名`;
  else if (notifyHosts.length > 20) errors.notifyHosts = '最多 20 个回调主机';
  const paymentChannels: { kind: string; label: string; value: string }[] = [];
  const lines = f.paymentChannels
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const [kind, label, ...rest] = line.split('|').map((s) => s.trim());
    const value = rest.join('|');
    if (!kind || !CHANNEL_KINDS.includes(kind) || !label || !value || [...label].length > 40 || [...value].length > 200) {
      errors.paymentChannels = `第 ${i + 1} 行格式应为 类型|名称|内容，类型为 ${CHANNEL_KINDS.join('/')}`;
      break;
    }
    if (kind === 'online' && !/^https?:\/\//.test(value)) {
      errors.paymentChannels = `第 ${i + 1} 行：线上缴费的内容应为 http(s) 网址`;
      break;
    }
    paymentChannels.push({ kind, label, value });
  }
  if (lines.length > 10) errors.paymentChannels = '最多 10 个缴费渠道';
  if (Object.keys(errors).length) return { errors };
  return {
    errors,
    input: { orgId, orgName, region: region || undefined, endpointUrl: endpointUrl || undefined, notifyHosts, paymentChannels, ports },
  };
}

export function institutionToForm(
  row: Pick<Institution, 'org_id' | 'org_name' | 'region' | 'endpoint_url' | 'notify_hosts' | 'payment_channels' | 'outbound_ports'>,
): InstitutionForm {
  const channels = JSON.parse(row.payment_channels) as { kind?: string; label?: string; value?: string }[];
  return {
    orgId: row.org_id,
    orgName: row.org_name,
    region: row.region ?? '',
    endpointUrl: row.endpoint_url ?? '',
    notifyHosts: (JSON.parse(row.notify_hosts) as string[]).join('\n'),
    paymentChannels: channels.map((c) => `${c.kind ?? 'other'}|${c.label ?? ''}|${c.value ?? ''}`).join('\n'),
    ports: (JSON.parse(row.outbound_ports) as number[]).join(', '),
  };
}

/** orgId → name, for pages that show an institution's name where a row holds its code. */
export async function institutionNames(db: Kysely<DB>): Promise<Map<string, string>> {
  const rows = await db.selectFrom('institution').select(['org_id', 'org_name']).execute();
  return new Map(rows.map((r) => [r.org_id, r.org_name]));
}

export async function listInstitutions(db: Kysely<DB>, org: string | undefined) {
  return db
    .selectFrom('institution as o')
    .select((eb) => [
      'o.org_id',
      'o.org_name',
      'o.region',
      'o.endpoint_url',
      'o.updated_at',
      eb
        .selectFrom('app_credential as a')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('a.org_id', '=', 'o.org_id')
        .where('a.status', '=', 'active')
        .as('active_apps'),
    ])
    .$if(org !== undefined, (qb) => qb.where('o.org_id', '=', org!))
    .orderBy('o.org_id')
    .execute();
}

export async function getInstitution(db: Kysely<DB>, org: string | undefined, orgId: string) {
  const inst = await db
    .selectFrom('institution')
    .selectAll()
    .where('org_id', '=', orgId)
    .$if(org !== undefined, (qb) => qb.where('org_id', '=', org!))
    .executeTakeFirst();
  if (!inst) return undefined;
  const apps = await db
    .selectFrom('app_credential')
    .select(['app_id', 'kind', 'label', 'env', 'status', 'created_at', 'updated_at'])
    .where('org_id', '=', inst.org_id)
    .orderBy('created_at')
    .execute();
  return { inst, apps };
}
