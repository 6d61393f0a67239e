import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MdlError, RespCode, residentIdCheckChar } from '@mdl/protocol';
import { startTestPlatform, type TestPlatform } from '../testing.js';
import { queryArrears } from './arrears.js';
import type { Caller } from './credentials.js';
import { DEFAULT_POLICY } from './eligibility.js';
import { getOrRegisterPerson } from './persons.js';

/**
 * ORG_MDL_002 makes the 强校验 on the card and name its read model carries, with the blind index it looked the
 * row up by: another person's card or another name must still be refused.
 */
describe('ORG_MDL_002 强校验 on the read model', () => {
  let t: TestPlatform;
  const orgId = 'H35020300031';
  const caller: Caller = { appId: `app-${orgId}`, kind: 'institution', orgId, env: 'prod', secret: '' };
  const people: { idType: string; idNo: string; userName: string; ehealthCardId: string }[] = [];

  before(async () => {
    t = await startTestPlatform({}, { queue: false });
    for (const [n, userName] of [
      [31, '郑一'],
      [32, '郑二'],
    ] as const) {
      const first17 = `350203198001010${n}`;
      const who = { idType: '01', idNo: first17 + residentIdCheckChar(first17), userName };
      const { person } = await getOrRegisterPerson(t.platform.db, t.platform.vault, who);
      people.push({ ...who, ehealthCardId: person.ehealth_card_id });
    }
  });
  after(() => t?.close());

  const ask = (who: { idType: string; idNo: string; userName: string; ehealthCardId: string }) =>
    queryArrears(
      t.platform.db,
      t.platform.vault,
      t.platform.readModel,
      caller,
      { businessType: '01101', ...who },
      DEFAULT_POLICY,
      Date.now(),
    );

  it('answers the person with their own card and name', async () => {
    const r = await ask(people[0]!);
    assert.equal(r.decision.unpaidCount, 0);
    assert.equal(r.subject, t.platform.vault.personKey('01', people[0]!.idNo));
  });

  it("refuses another person's card, and another name, with -2", async () => {
    const [a, b] = people as [(typeof people)[0], (typeof people)[0]];
    const refused = async (who: typeof a, reason: RegExp) =>
      assert.rejects(ask(who), (e: unknown) => e instanceof MdlError && e.code === RespCode.APP_BAD_REQUEST && reason.test(e.message));
    await refused({ ...a, ehealthCardId: b.ehealthCardId }, /电子健康卡主索引与证件信息不一致/);
    await refused({ ...a, userName: b.userName }, /姓名与证件信息不一致/);
    await refused({ ...a, ehealthCardId: 'F'.repeat(32) }, /电子健康卡主索引与证件信息不一致/);
  });
});
