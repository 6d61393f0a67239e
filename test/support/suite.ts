import assert from 'node:assert/strict';
import { addInstitution, startTestPlatform, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { call } from './client.js';
import { TestHospital } from './hospital.js';
import type { suiteScope } from './scope.js';

/** An institution to register: its code and what `addInstitution` takes (name, env, notify hosts, …). */
export type InstitutionSpec = { orgId: string } & NonNullable<Parameters<typeof addInstitution>[2]>;

/** What the suites over real HTTP start from. */
export interface HospitalSuite<N extends readonly InstitutionSpec[]> {
  t: TestPlatform;
  /** Where the platform listens. */
  base: string;
  /** The institutions, in the order asked for. */
  insts: { [K in keyof N]: TestInstitution };
  /** ORG_002 callbacks and ORG_001 on loopback, holding the first institution's credential. */
  hospital: TestHospital;
}

/**
 * A listening test platform, its institutions and a test hospital for the first one, each closed with the
 * suite's scope (in reverse order, also when a later step of `before` fails).
 */
export async function startWithHospital<const N extends readonly [InstitutionSpec, ...InstitutionSpec[]]>(
  scope: ReturnType<typeof suiteScope>,
  institutions: N,
  overrides: Parameters<typeof startTestPlatform>[0] = {},
): Promise<HospitalSuite<N>> {
  const t = scope.add(await startTestPlatform(overrides), (t) => t.close());
  const base = await t.listen();
  const insts: TestInstitution[] = [];
  for (const { orgId, ...opts } of institutions) insts.push(await addInstitution(t.platform, orgId, opts));
  const hospital = scope.add(new TestHospital(insts[0]!.appId, insts[0]!.secret), (h) => h.stop());
  await hospital.start();
  return { t, base, insts: insts as HospitalSuite<N>['insts'], hospital };
}

/** A card holder through ORG_EHC_004 (the built-in registry issues a card on first sight): the card's id. */
export async function issueCard(
  base: string,
  inst: TestInstitution,
  who: { idNo: string; userName: string; psnNo: string },
): Promise<string> {
  const r = await call(base, '/ehc/queryEcAuthResult', inst.appId, inst.secret, {
    orgId: inst.orgId,
    type: '01',
    psnNo: who.psnNo,
    idNo: who.idNo,
    idType: '01',
    userName: who.userName,
  });
  assert.equal(r.respCode, '000000', `ORG_EHC_004: ${r.respCode} ${r.respMsg}`);
  return String(r.payload!.ehealthCardId);
}
