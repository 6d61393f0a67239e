import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppCredential, DB, Institution } from '../db/schema.js';
import type { Vault } from '../vault.js';
import { assertCredentialEnvAllowed } from './deployment.js';
import { audit, auditEvent, type AuditAction } from './audit.js';

/**
 * Who changes an institution or a credential. Every change is audited here, whichever door it came
 * through (console, `mdl apps`, demo seeding), in the transaction of the change.
 */
export interface ChangedBy {
  actorType: 'operator' | 'system';
  actorId: string;
}
export const SYSTEM: ChangedBy = { actorType: 'system', actorId: 'system' };

async function inTransaction<T>(db: Kysely<DB>, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

function auditChange(db: Kysely<DB>, by: ChangedBy, action: AuditAction, target: string, orgId: string | null, detail: unknown) {
  return audit(db, auditEvent(by.actorType, by.actorId, action, { orgId, target, detail }));
}

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

/** An institution's columns as the form or the CLI gives them (a field left out is empty). */
function institutionColumns(input: InstitutionInput) {
  return {
    org_name: input.orgName,
    region: input.region ?? null,
    endpoint_url: input.endpointUrl ?? null,
    notify_hosts: JSON.stringify(input.notifyHosts ?? []),
    payment_channels: JSON.stringify(input.paymentChannels ?? []),
    outbound_ports: JSON.stringify(input.ports ?? []),
  };
}

export async function upsertInstitution(db: Kysely<DB>, input: InstitutionInput, by: ChangedBy = SYSTEM): Promise<Institution> {
  const values = { org_id: input.orgId, ...institutionColumns(input) };
  return inTransaction(db, async (trx) => {
    const existed = await trx.selectFrom('institution').select('org_id').where('org_id', '=', input.orgId).executeTakeFirst();
    const row = await upsertRow(trx, input, values);
    await auditChange(trx, by, existed ? 'institution.update' : 'institution.create', `org:${input.orgId}`, input.orgId, input);
    return row;
  });
}

/**
 * The console's edit form holds every field: an emptied one is cleared (an upsert keeps the old value).
 * Returns false when there is no such institution.
 */
export async function updateInstitution(db: Kysely<DB>, input: InstitutionInput, at: Date, by: ChangedBy): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const r = await trx
      .updateTable('institution')
      .set({ ...institutionColumns(input), updated_at: at })
      .where('org_id', '=', input.orgId)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return false;
    await auditChange(trx, by, 'institution.update', `org:${input.orgId}`, input.orgId, input);
    return true;
  });
}

function upsertRow(
  db: Kysely<DB>,
  input: InstitutionInput,
  values: Omit<Institution, 'created_at' | 'updated_at' | 'require_totp'> & Record<string, unknown>,
) {
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

export async function createApp(
  db: Kysely<DB>,
  vault: Vault,
  input: CreateAppInput,
  by: ChangedBy = SYSTEM,
): Promise<{ appId: string; secret: string }> {
  const appId = input.appId ?? newAppId();
  const secret = input.secret ?? newSecret();
  if (secret.length < 32 || !/^[\x21-\x7e]+$/.test(secret)) throw new Error('a secret is at least 32 printable ASCII characters');
  await assertCredentialEnvAllowed(db, input.env);
  await inTransaction(db, async (trx) => {
    await trx
      .insertInto('app_credential')
      .values({
        app_id: appId,
        kind: input.kind,
        org_id: input.orgId ?? null,
        label: input.label ?? null,
        env: input.env,
        secret_enc: vault.encrypt(secret),
        status: 'active',
      })
      .execute();
    await auditChange(trx, by, 'credential.create', `app:${appId}`, input.orgId ?? null, { kind: input.kind, env: input.env });
  });
  return { appId, secret };
}

export async function listApps(db: Kysely<DB>): Promise<Omit<AppCredential, 'secret_enc'>[]> {
  return db
    .selectFrom('app_credential')
    .select(['app_id', 'kind', 'org_id', 'label', 'env', 'status', 'created_at', 'updated_at'])
    .orderBy('created_at')
    .execute();
}

export async function setAppStatus(db: Kysely<DB>, appId: string, status: 'active' | 'disabled', by: ChangedBy = SYSTEM): Promise<boolean> {
  if (status === 'active') {
    const row = await db.selectFrom('app_credential').select('env').where('app_id', '=', appId).executeTakeFirst();
    if (row) await assertCredentialEnvAllowed(db, row.env);
  }
  return inTransaction(db, async (trx) => {
    const r = await trx
      .updateTable('app_credential')
      .set({ status, updated_at: new Date() })
      .where('app_id', '=', appId)
      .returning('org_id')
      .executeTakeFirst();
    if (!r) return false;
    await auditChange(trx, by, status === 'active' ? 'credential.enable' : 'credential.disable', `app:${appId}`, r.org_id, null);
    return true;
  });
}

export async function rotateApp(db: Kysely<DB>, vault: Vault, appId: string, by: ChangedBy = SYSTEM): Promise<string | undefined> {
  const secret = newSecret();
  return inTransaction(db, async (trx) => {
    const r = await trx
      .updateTable('app_credential')
      .set({ secret_enc: vault.encrypt(secret), updated_at: new Date() })
      .where('app_id', '=', appId)
      .returning('org_id')
      .executeTakeFirst();
    if (!r) return undefined;
    await auditChange(trx, by, 'credential.rotate', `app:${appId}`, r.org_id, null);
    return secret;
  });
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

/** An institution's name as registered now (pages that name the hospital a citizen deals with). */
export async function institutionName(db: Kysely<DB>, orgId: string): Promise<string | undefined> {
  const row = await db.selectFrom('institution').select('org_name').where('org_id', '=', orgId).executeTakeFirst();
  return row?.org_name;
}

/** One credential's id, institution and status (the console's credential actions), or undefined. */
export function findApp(db: Kysely<DB>, appId: string) {
  return db.selectFrom('app_credential').select(['app_id', 'org_id', 'status']).where('app_id', '=', appId).executeTakeFirst();
}
