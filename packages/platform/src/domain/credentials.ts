import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppCredential, DB, Institution } from '../db/schema.js';
import type { Vault } from '../vault.js';
import { assertCredentialEnvAllowed } from './deployment.js';

const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

/** Secrets are 40 ASCII characters: the first 16 are the SM4 key (PROTOCOL.md), all 40 sign. */
export function newSecret(): string {
  return randomString(40);
}

export function newAppId(): string {
  return 'APP' + randomString(29);
}

export interface InstitutionInput {
  orgId: string;
  orgName: string;
  region?: string | undefined;
  endpointUrl?: string | undefined;
  notifyHosts?: string[] | undefined;
  paymentChannels?: unknown[] | undefined;
  /** Ports the platform may call the institution on (ORG_001, ORG_002); empty: 443 and 80. */
  ports?: number[] | undefined;
}

/** The ports an institution registered, or the guide's defaults (outbound/address-policy.ts). */
export function outboundPorts(raw: string | null | undefined): number[] {
  const list = raw ? (JSON.parse(raw) as number[]) : [];
  return list.length > 0 ? list : [443, 80];
}

export async function upsertInstitution(db: Kysely<DB>, input: InstitutionInput): Promise<Institution> {
  const values = {
    org_id: input.orgId,
    org_name: input.orgName,
    region: input.region ?? null,
    endpoint_url: input.endpointUrl ?? null,
    notify_hosts: JSON.stringify(input.notifyHosts ?? []),
    payment_channels: JSON.stringify(input.paymentChannels ?? []),
    outbound_ports: JSON.stringify(input.ports ?? []),
  };
  return db
    .insertInto('institution')
    .values(values)
    .onConflict((oc) =>
      oc.column('org_id').doUpdateSet({
        org_name: values.org_name,
        updated_at: new Date(),
        ...(input.region !== undefined ? { region: values.region } : {}),
        ...(input.endpointUrl !== undefined ? { endpoint_url: values.endpoint_url } : {}),
        ...(input.notifyHosts !== undefined ? { notify_hosts: values.notify_hosts } : {}),
        ...(input.paymentChannels !== undefined ? { payment_channels: values.payment_channels } : {}),
        ...(input.ports !== undefined ? { outbound_ports: values.outbound_ports } : {}),
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface CreateAppInput {
  kind: 'institution' | 'channel';
  orgId?: string | undefined;
  env: 'test' | 'prod';
  label?: string | undefined;
  /** Fixed secret for demo and tests; a random one otherwise. */
  secret?: string | undefined;
  appId?: string | undefined;
}

export async function createApp(db: Kysely<DB>, vault: Vault, input: CreateAppInput): Promise<{ appId: string; secret: string }> {
  const appId = input.appId ?? newAppId();
  const secret = input.secret ?? newSecret();
  if (secret.length < 32 || !/^[\x21-\x7e]+$/.test(secret)) throw new Error('a secret is at least 32 printable ASCII characters');
  await assertCredentialEnvAllowed(db, input.env);
  await db
    .insertInto('app_credential')
    .values({
      app_id: appId,
      kind: input.kind,
      org_id: input.kind === 'institution' ? (input.orgId ?? null) : (input.orgId ?? null),
      label: input.label ?? null,
      env: input.env,
      secret_enc: vault.encrypt(secret),
      status: 'active',
    })
    .execute();
  return { appId, secret };
}

export async function listApps(db: Kysely<DB>): Promise<Omit<AppCredential, 'secret_enc'>[]> {
  return db
    .selectFrom('app_credential')
    .select(['app_id', 'kind', 'org_id', 'label', 'env', 'status', 'created_at', 'updated_at'])
    .orderBy('created_at')
    .execute();
}

export async function setAppStatus(db: Kysely<DB>, appId: string, status: 'active' | 'disabled'): Promise<boolean> {
  if (status === 'active') {
    const row = await db.selectFrom('app_credential').select('env').where('app_id', '=', appId).executeTakeFirst();
    if (row) await assertCredentialEnvAllowed(db, row.env);
  }
  const r = await db.updateTable('app_credential').set({ status, updated_at: new Date() }).where('app_id', '=', appId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function rotateApp(db: Kysely<DB>, vault: Vault, appId: string): Promise<string | undefined> {
  const secret = newSecret();
  const r = await db
    .updateTable('app_credential')
    .set({ secret_enc: vault.encrypt(secret), updated_at: new Date() })
    .where('app_id', '=', appId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0 ? secret : undefined;
}

/** What the gateway needs to know about a caller. */
export interface Caller {
  appId: string;
  kind: 'institution' | 'channel';
  orgId: string | null;
  env: 'test' | 'prod';
  secret: string;
}

/**
 * Credential look-up with a short cache: the gateway asks on every request, and a disabled or rotated
 * credential must stop working everywhere within `ttlMs`.
 */
export class CredentialCache {
  readonly #entries = new Map<string, { caller: Caller | undefined; until: number }>();
  constructor(
    private readonly db: Kysely<DB>,
    private readonly vault: Vault,
    private readonly ttlMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(appId: string): Promise<Caller | undefined> {
    const hit = this.#entries.get(appId);
    const t = this.now();
    if (hit && hit.until > t) return hit.caller;
    const row = await this.db
      .selectFrom('app_credential')
      .select(['app_id', 'kind', 'org_id', 'env', 'secret_enc', 'status'])
      .where('app_id', '=', appId)
      .executeTakeFirst();
    const caller =
      row && row.status === 'active'
        ? { appId: row.app_id, kind: row.kind, orgId: row.org_id, env: row.env, secret: this.vault.decrypt(row.secret_enc) }
        : undefined;
    if (this.#entries.size > 10_000) this.#entries.clear();
    // Unknown ids are remembered briefly too, so a flood of junk appIds cannot hammer the database.
    this.#entries.set(appId, { caller, until: t + (caller ? this.ttlMs : 1000) });
    return caller;
  }

  forget(appId: string): void {
    this.#entries.delete(appId);
  }
}
