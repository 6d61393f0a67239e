import type { TestInstitution } from '@mdl/platform/testing';
import { call } from './client.js';
import { chinaTime } from './people.js';

/**
 * One unpaid item of an ORG_MDL_001 report (guide §4.3.1.2): an outpatient consultation fee of 20 yuan from yesterday,
 * unless `over` says otherwise. A suite names only what its test is about.
 */
export function reportItem(orgTraceId: string, over: { amount?: string; itemName?: string; actualTime?: string } = {}) {
  return {
    orgTraceId,
    medType: '11',
    feeType: '01',
    itemName: over.itemName ?? '诊查费',
    amount: over.amount ?? '20.00',
    actualTime: over.actualTime ?? chinaTime(1),
  };
}

/** Who reports: an institution's credential and names. */
type Reporter = Pick<TestInstitution, 'appId' | 'secret' | 'orgId' | 'orgName'>;

/** The body of an ORG_MDL_001 report from `inst`: its own orgId and orgName, the callback address and the patients. */
export function reportBody(inst: Reporter, orgRequestId: string, notifyUrl: string, unsettleList: object[]) {
  return { orgId: inst.orgId, orgName: inst.orgName, notifyUrl, orgRequestId, unsettleList };
}

/** ORG_MDL_001 from `inst` over real HTTP; the answer is only "accepted", processing follows in the jobs. */
export function reportOverdue(base: string, inst: Reporter, orgRequestId: string, notifyUrl: string, unsettleList: object[]) {
  return call(base, '/umdl/reportOverdueData', inst.appId, inst.secret, reportBody(inst, orgRequestId, notifyUrl, unsettleList));
}
