import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Vault } from '../vault.js';
import { strongCheck, type IndexEntry } from './persons.js';

const vault = new Vault('00112233445566778899aabbccddeeff');
const who = { idType: '01', idNo: '350102199003071234', userName: '林晓梅' };
const card = 'CARD-1';
const idKey = vault.personKey(who.idType, who.idNo);
// The name index is keyed per person (issue #12): the same name under another ID number is another key.
const entry: IndexEntry = { idKey, cardId: card, nameKey: vault.nameKey(idKey, who.userName) };

describe('the 强校验 (strongCheck)', () => {
  it('passes the card, identity and name of one person', () => {
    assert.equal(strongCheck(vault, entry, { ...who, ehealthCardId: card }), undefined);
    assert.equal(strongCheck(vault, entry, who), undefined, 'no card given: the name is still checked, and matches');
    assert.equal(strongCheck(vault, undefined, who), undefined, 'nobody on the index and no card: nothing to check against');
  });

  it('refuses a card that is not on the index, or is another identity’s', () => {
    assert.equal(strongCheck(vault, undefined, { ...who, ehealthCardId: card }), '电子健康卡主索引不存在');
    assert.equal(strongCheck(vault, entry, { ...who, ehealthCardId: 'CARD-2' }), '电子健康卡主索引与证件信息不一致');
    // The card of one person presented with another person's ID number (found by card, as report items are).
    assert.equal(
      strongCheck(vault, entry, { ...who, idNo: '350102199003075678', ehealthCardId: card }),
      '电子健康卡主索引与证件信息不一致',
    );
    // The same number under another document type is another identity.
    assert.equal(strongCheck(vault, entry, { ...who, idType: '03', ehealthCardId: card }), '电子健康卡主索引与证件信息不一致');
  });

  it('refuses another name for a person on the index, with or without a card', () => {
    assert.equal(strongCheck(vault, entry, { ...who, userName: '林小梅', ehealthCardId: card }), '姓名与证件信息不一致');
    assert.equal(strongCheck(vault, entry, { ...who, userName: '林小梅' }), '姓名与证件信息不一致');
  });

  it('refuses a name index taken from another person of the same name', () => {
    const other = vault.nameKey(vault.personKey('01', '350102199003075678'), who.userName);
    assert.equal(strongCheck(vault, { ...entry, nameKey: other }, who), '姓名与证件信息不一致');
  });
});
