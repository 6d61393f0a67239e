import { residentId } from '@mdl/protocol';

/**
 * The sandbox's demo people, shared by the platform's demo data (demo.ts) and the city e-health-card simulator
 * (ehc-simulator/), which knows them as insured persons: a platform on `MDL_EHC_REGISTRY=upstream` gets their
 * cards from it. Kept apart from demo.ts so the simulator loads none of the platform.
 */
export const DEMO_PERSONS = [
  { idNo: residentId('350102', '19900307', 123), userName: '林晓梅', mobilePhone: '13800000001' },
  { idNo: residentId('350203', '19851112', 456), userName: '陈建国', mobilePhone: '13800000002' },
  { idNo: residentId('350503', '20010520', 789), userName: '黄丽华', mobilePhone: '13800000003' },
  { idNo: residentId('350102', '19770101', 222), userName: '张伟', mobilePhone: '13800000004' },
];

/** How the city e-health-card simulator knows them as insured persons (ORG_EHC_004's psnNo, cardNo, insuplcAdmdvs). */
export const DEMO_INSURED = DEMO_PERSONS.map((d, i) => ({
  ...d,
  psnNo: `3500000000000000000000000${i + 1}`,
  insuplcAdmdvs: d.idNo.slice(0, 6),
  insuranceCardNo: `M35000000${i + 1}`,
}));

/** An insured person from outside Fujian (异地参保) with no e-health card yet: ORG_EHC_004 must send insuplcAdmdvs. */
export const DEMO_REMOTE_INSURED = {
  idNo: residentId('510302', '19920815', 331),
  userName: '刘洋',
  mobilePhone: '13800000005',
  psnNo: '51000000000000000000000101',
  insuplcAdmdvs: '510300',
  insuranceCardNo: 'M51030000001',
};
