import assert from 'node:assert/strict';
import { upsertInstitution, addInstitution, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { call } from './client.js';
import { TestHospital } from './hospital.js';
import { chinaTime } from './people.js';
import { reportItem, reportOverdue } from './report.js';
import { issueCard } from './suite.js';

/** An institution with its own test hospital on loopback (ORG_002 and ORG_001), registered as its endpoint. */
export interface Site {
  inst: TestInstitution;
  hospital: TestHospital;
}

export async function addSite(t: TestPlatform, orgId: string, orgName: string, paymentChannels: unknown[] = []): Promise<Site> {
  const inst = await addInstitution(t.platform, orgId, { orgName, paymentChannels });
  const hospital = new TestHospital(inst.appId, inst.secret);
  await hospital.start();
  try {
    await upsertInstitution(t.platform.db, { orgId, orgName, endpointUrl: hospital.url });
  } catch (e) {
    await hospital.stop();
    throw e;
  }
  return { inst, hospital };
}

export interface Patient {
  idNo: string;
  userName: string;
  ehealthCardId: string;
}

/** A real-name patient with an e-health card, through ORG_EHC_004. */
export async function registerPatient(base: string, site: Site, idNo: string, userName: string, psnNo: string): Promise<Patient> {
  return { idNo, userName, ehealthCardId: await issueCard(base, site.inst, { idNo, userName, psnNo }) };
}

export interface ItemSpec {
  orgTraceId: string;
  itemName: string;
  amount: string;
  daysAgo: number;
}

/** Reports items through ORG_MDL_001 and waits for the REPORT callback, i.e. until they are in the ledger. */
export async function report(
  base: string,
  site: Site,
  orgRequestId: string,
  people: { patient: Patient; items: ItemSpec[] }[],
): Promise<void> {
  const before = site.hospital.callbacks.length;
  const r = await reportOverdue(
    base,
    site.inst,
    orgRequestId,
    `${site.hospital.url}/umdl/callback`,
    people.map(({ patient, items }) => ({
      idNo: patient.idNo,
      idType: '01',
      userName: patient.userName,
      ehealthCardId: patient.ehealthCardId,
      userType: '02',
      itemList: items.map((i) => reportItem(i.orgTraceId, { amount: i.amount, itemName: i.itemName, actualTime: chinaTime(i.daysAgo) })),
    })),
  );
  assert.equal(r.respCode, '000000', r.respMsg);
  // This batch's callback: platform notices (ORG_002 UPDATE of a refresh) may arrive in between.
  for (let n = before + 1; !(await site.hospital.waitForCallbacks(n)).some((c) => c.extData?.orgRequestId === orgRequestId); n++);
}

export async function itemId(t: TestPlatform, orgId: string, orgTraceId: string): Promise<number> {
  const row = await t.platform.db
    .selectFrom('arrears_item')
    .select('id')
    .where('org_id', '=', orgId)
    .where('org_trace_id', '=', orgTraceId)
    .executeTakeFirstOrThrow();
  return row.id;
}

/** ORG_MDL_004 as a hospital portal calls it. */
export async function mdrUrlFor(base: string, site: Site, p: Patient): Promise<string> {
  const r = await call(base, '/qmdl/getIntoMdlUrl', site.inst.appId, site.inst.secret, {
    orgId: site.inst.orgId,
    idNo: p.idNo,
    idType: '01',
    userName: p.userName,
    ehealthCardId: p.ehealthCardId,
  });
  assert.equal(r.respCode, '000000', r.respMsg);
  return String(r.payload!.mdrUrl);
}
