import { DAY_MS, epochMsToChinaTime } from '@mdl/protocol';
import type { ReportOverdueDataRequest } from '@mdl/protocol';
import { acceptBatch, findBatch } from './domain/batches.js';
import { createApp, upsertInstitution } from './domain/credentials.js';
import { DEMO_PERSONS } from './demo-people.js';
import { assertSandbox } from './domain/deployment.js';
import { getOrRegisterPerson } from './domain/persons.js';
import { processBatch } from './domain/processing.js';
import type { Config } from './config.js';
import type { Platform } from './platform.js';
import { demoCallbacks, seedDemoHistory } from './demo-history.js';

export const DEMO_APP_ID = 'APPDEMO350102000010000000000001';
export const DEMO_CHANNEL_APP_ID = 'APPDEMOMZT00000000000000000000001';

const INSTITUTIONS = [
  {
    orgId: 'H35010200001',
    orgName: '福州市第一医院',
    region: '350100',
    paymentChannels: [
      { kind: 'phone', label: '收费处电话', value: '0591-88880001' },
      { kind: 'address', label: '门诊楼一层收费处', value: '福州市台江区达道路 190 号' },
    ],
  },
  {
    orgId: 'H35020300002',
    orgName: '厦门大学附属第一医院',
    region: '350200',
    paymentChannels: [{ kind: 'online', label: '线上缴费', value: 'https://example.invalid/pay' }],
  },
  {
    orgId: 'H35050300003',
    orgName: '泉州市第一医院',
    region: '350500',
    paymentChannels: [{ kind: 'phone', label: '收费处电话', value: '0595-22270001' }],
  },
];

/** On the hour, `daysAgo` days before now, in the guide's format. */
function chinaTime(daysAgo: number): string {
  return `${epochMsToChinaTime(Date.now() - daysAgo * DAY_MS).slice(0, 13)}:00:00`;
}

export interface DemoSummary {
  appId: string;
  secret: string;
  orgId: string;
  orgName: string;
  channelAppId: string;
  channelSecret: string;
  persons: { idNo: string; idType: string; userName: string; ehealthCardId: string; mobilePhone: string }[];
  created: boolean;
}

/**
 * Demo institutions, a test-environment credential, persons with cards, and arrears in several states.
 * Idempotent: a second run finds what the first made and only reports it.
 */
export async function seedDemo(platform: Platform): Promise<DemoSummary> {
  assertSandbox(platform.config, 'demo data');
  const { db, vault } = platform;
  // Only what is missing: a restart re-seeds nothing, and writes no audit event for an unchanged institution.
  const present = new Set(
    (
      await db
        .selectFrom('institution')
        .select('org_id')
        .where(
          'org_id',
          'in',
          INSTITUTIONS.map((i) => i.orgId),
        )
        .execute()
    ).map((r) => r.org_id),
  );
  for (const i of INSTITUTIONS) if (!present.has(i.orgId)) await upsertInstitution(db, { ...i, notifyHosts: ['127.0.0.1', 'localhost'] });
  let created = false;
  const cred = async (appId: string, kind: 'institution' | 'channel', label: string) => {
    const row = await db.selectFrom('app_credential').select('secret_enc').where('app_id', '=', appId).executeTakeFirst();
    if (row) return vault.decrypt(row.secret_enc);
    created = true;
    return (
      await createApp(db, vault, { appId, kind, orgId: kind === 'institution' ? INSTITUTIONS[0]!.orgId : undefined, env: 'test', label })
    ).secret;
  };
  const secret = await cred(DEMO_APP_ID, 'institution', '演示凭证');
  const channelSecret = await cred(DEMO_CHANNEL_APP_ID, 'channel', '闽政通演示渠道');
  const persons: DemoSummary['persons'] = [];
  const registry = platform.ehc.registry;
  for (const p of DEMO_PERSONS) {
    const who = { idType: '01', idNo: p.idNo, userName: p.userName, mobilePhone: p.mobilePhone };
    // With a city card system the demo people's cards are the city's (its simulator is seeded with them).
    const r = registry.kind === 'upstream' ? await registry.register(who) : await getOrRegisterPerson(db, vault, who);
    if ('problem' in r) throw new Error(`demo person ${p.userName}: the city card system answered ${r.problem}`);
    const { person } = r;
    persons.push({ idNo: p.idNo, idType: '01', userName: p.userName, ehealthCardId: person.ehealth_card_id, mobilePhone: p.mobilePhone });
  }
  const plan: [number, number, string, string, number][] = [
    // [person, institution, item, amount, days ago]
    [0, 0, '诊查费', '25.00', 3],
    [0, 1, '住院费', '1280.50', 20],
    [1, 0, '诊查费', '18.00', 2],
    [2, 2, '诊查费', '30.00', 1],
    [2, 2, '检查费', '120.00', 1],
    [2, 0, '诊查费', '25.00', 5],
  ];
  for (let inst = 0; inst < INSTITUTIONS.length; inst++) {
    const org = INSTITUTIONS[inst]!;
    const rows = plan.map((r, k) => ({ r, k })).filter(({ r }) => r[1] === inst);
    if (rows.length === 0) continue;
    if (await findBatch(db, org.orgId, `DEMO-${org.orgId}`)) continue;
    const byPerson = new Map<number, typeof rows>();
    for (const x of rows) byPerson.set(x.r[0], [...(byPerson.get(x.r[0]) ?? []), x]);
    const payload: ReportOverdueDataRequest = {
      orgId: org.orgId,
      orgName: org.orgName,
      notifyUrl: 'http://127.0.0.1/demo',
      orgRequestId: `DEMO-${org.orgId}`,
      unsettleList: [...byPerson.entries()].map(([pi, xs]) => ({
        idNo: persons[pi]!.idNo,
        idType: '01',
        userName: persons[pi]!.userName,
        ehealthCardId: persons[pi]!.ehealthCardId,
        userType: '02',
        itemList: xs.map(({ r, k }) => ({
          orgTraceId: `DEMO-${k + 1}`,
          medType: r[2] === '住院费' ? '21' : '11',
          feeType: r[2] === '住院费' ? '02' : '01',
          itemName: r[2],
          amount: r[3],
          actualTime: chinaTime(r[4]),
        })),
      })),
    };
    // Through the same path as a hospital's report, minus the callback: no hospital listens for demo data.
    let batchId: number | undefined;
    const caller = { appId: DEMO_APP_ID, kind: 'institution' as const, orgId: org.orgId, env: 'test' as const, secret };
    const deps = { db, vault, enqueue: async (_trx: unknown, id: number) => void (batchId = id) };
    await acceptBatch(deps, caller, 'REPORT', payload, JSON.stringify(payload), rows.length, 'demo');
    if (batchId === undefined) continue;
    await processBatch({ ...platform.processDeps, enqueueCallback: async () => {} }, batchId);
    // Delivered with its attempt recorded, never 已送达 after 0 attempts.
    await demoCallbacks({ platform, appId: DEMO_APP_ID, secret }, batchId, new Date(platform.now()), () => 0);
  }
  await seedDemoHistory(platform, { appId: DEMO_APP_ID, secret, institutions: INSTITUTIONS });
  return {
    appId: DEMO_APP_ID,
    secret,
    orgId: INSTITUTIONS[0]!.orgId,
    orgName: INSTITUTIONS[0]!.orgName,
    channelAppId: DEMO_CHANNEL_APP_ID,
    channelSecret,
    persons,
    created,
  };
}

/** What `mdl demo` and a sandbox start print: the demo credentials and where to try them. */
export function describeDemo(demo: DemoSummary, config: Config): string {
  const p = demo.persons[0]!;
  return [
    `演示凭证 (test environment, SM4/SM3 or PLAIN):`,
    `  appId:   ${demo.appId}`,
    `  secret:  ${demo.secret}`,
    `  orgId:   ${demo.orgId} (${demo.orgName})`,
    `闽政通演示渠道凭证: appId ${demo.channelAppId}  secret ${demo.channelSecret}`,
    `演示患者: ${p.userName}  idType 01  idNo ${p.idNo}  手机号 ${p.mobilePhone}  ehealthCardId ${p.ehealthCardId}`,
    `电子健康卡: ${config.publicUrl}/card/login  (姓名、证件号、手机号如上；短信验证码见 ${config.publicUrl}/card/sandbox/sms)`,
    `Try: POST ${config.publicUrl}${config.apiPrefix}/qmdl/queryOverdueData (see README "Quick start")`,
    `Citizen app: POST ${config.publicUrl}${config.apiPrefix}/qmdl/getIntoMdlUrl with the 闽政通 credential, open the mdrUrl (README)`,
    `管理控制台: ${config.publicUrl}/console  (first account: npx mdl users create --username admin --role operator)`,
  ].join('\n');
}
