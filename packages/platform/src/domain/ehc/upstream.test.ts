import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { residentIdCheckChar } from '@mdl/protocol';
import { startTestPlatform, type TestPlatform } from '../../testing.js';
import { getOrRegisterPerson } from '../persons.js';
import type { CitizenIdentity } from './registry.js';
import { UpstreamRegistry, type CityCard, type CityCardSystem } from './upstream.js';

const id = (first17: string) => first17 + residentIdCheckChar(first17);

/** A city's card system as an adapter would see it: cards it issued, by ID number. */
class CitySystem implements CityCardSystem {
  readonly cards = new Map<string, CityCard & { userName: string }>();
  calls = 0;
  async findCard(who: CitizenIdentity) {
    this.calls++;
    const c = this.cards.get(who.idNo);
    if (c && c.userName !== who.userName) return { problem: '地市系统：姓名不符' };
    return c;
  }
  async issueCard(who: CitizenIdentity) {
    this.calls++;
    const c = this.cards.get(who.idNo) ?? {
      ehealthCardId: `XM-${who.idNo}`,
      cardNo: `59${who.idNo.slice(-10)}`,
      cardType: '01',
      userName: who.userName,
    };
    this.cards.set(who.idNo, c);
    return c;
  }
  async insuredCard() {
    this.calls++;
    return { problem: '未参保' };
  }
}

describe('upstream card registry (MDL_EHC_REGISTRY=upstream)', () => {
  let t: TestPlatform;
  const city = new CitySystem();
  before(async () => {
    // A city reached some other way than HTTP: its adapter is handed to createPlatform (the composition root).
    t = await startTestPlatform({ ehcRegistry: 'upstream' }, { queue: false, city });
  });
  after(async () => t.close());

  it('mirrors the city’s card into the master index on 领卡, and signs in to the same row', async () => {
    const reg = t.platform.ehc.registry;
    assert.ok(reg instanceof UpstreamRegistry);
    const who = { userName: '黄丽', idType: '01', idNo: id('35020319880808012'), mobilePhone: '13500000005' };
    const r = await reg.register(who);
    assert.ok('person' in r && r.created);
    assert.equal(r.person.ehealth_card_id, `XM-${who.idNo}`);
    assert.equal(t.platform.vault.decrypt(r.person.id_no_enc), who.idNo);
    const again = await reg.signIn(who);
    assert.ok('person' in again && !again.created);
    assert.equal(again.person.id, r.person.id);
  });

  it('passes the city’s reasons on, asks nothing of the city for an invalid ID, and never re-points a card', async () => {
    const reg = t.platform.ehc.registry;
    const unknown = await reg.signIn({ userName: '周杰', idType: '01', idNo: id('35020319900101033'), mobilePhone: '13500000006' });
    assert.deepEqual(unknown, { problem: '未找到该证件的电子健康卡，请先领卡' });
    const wrongName = await reg.signIn({ userName: '黄莉', idType: '01', idNo: id('35020319880808012'), mobilePhone: '13500000005' });
    assert.deepEqual(wrongName, { problem: '地市系统：姓名不符' });

    const calls = city.calls;
    const bad = await reg.register({ userName: '周杰', idType: '01', idNo: '350203199001010330', mobilePhone: '13500000006' });
    assert.ok('problem' in bad);
    assert.equal(city.calls, calls);

    // Someone the platform already carded itself (e.g. through ORG_EHC_004) keeps that card.
    const who = { userName: '吴刚', idType: '01', idNo: id('35012119700505045'), mobilePhone: '13500000007' };
    await getOrRegisterPerson(t.platform.db, t.platform.vault, who);
    const clash = await reg.register(who);
    assert.deepEqual(clash, { problem: '主索引中该证件已绑定其他电子健康卡，请联系平台管理员' });
  });
});
