import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '@mdl/platform/testing';
import { suiteScope } from './support/scope.js';

/**
 * Page routes check their query, form and params against TypeBox schemas (web/route-schemas.ts, issue #10
 * item 4). A request of the wrong shape gets the styled Chinese 400 page, never the interfaces' JSON and never
 * a schema message; a form of the right shape with wrong values still reaches the page's own checks.
 */
describe('page routes: schemas refuse the wrong shape with a page', () => {
  let t: TestPlatform;
  const scope = suiteScope();
  before(async () => {
    t = scope.add(await startTestPlatform({}, { queue: false }), (t) => t.close());
    await t.listen();
  });

  const post = (path: string, body: string, type: string) =>
    fetch(t.url + path, { method: 'POST', body, headers: { 'content-type': type, accept: 'text/html' }, redirect: 'manual' });

  const assertStyledRefusal = async (res: Response, what: string) => {
    assert.equal(res.status, 400, what);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/, `${what}: a page, not JSON`);
    const text = await res.text();
    assert.match(text, /请求的内容不完整或格式不正确/, what);
    assert.doesNotMatch(text, /must be|body\/|querystring|FST_ERR/, `${what}: no schema text reaches the reader`);
  };

  it('a JSON body posted to a citizen, card or console form gets the styled 400 page', async () => {
    await assertStyledRefusal(await post('/card/login', '{"idNo":"x"}', 'application/json'), '/card/login');
    await assertStyledRefusal(await post('/mdr/items/1/appeal', 'reason=1', 'text/plain'), '/mdr appeal');
    await assertStyledRefusal(await post('/console/login', '{"username":"a"}', 'application/json'), '/console/login');
  });

  it('a form of the right shape still gets the page’s own answer', async () => {
    // The login form's CSRF check speaks, in Chinese, as before (no cookie: the double-submit token is missing).
    const login = await post('/console/login', 'username=a&password=b&_csrf=x', 'application/x-www-form-urlencoded');
    assert.equal(login.status, 403);
    assert.match(await login.text(), /登录表单已失效/);
    // A repeated query field (an array) is a valid shape: the page reads its first value.
    const again = await fetch(t.url + '/console/login?expired=1&expired=1');
    assert.equal(again.status, 200);
    assert.match(await again.text(), /会话已结束/);
    // A malformed record id is the page's own 「记录不存在」, not a schema refusal.
    const cookie = 'mdr_sid=none';
    const appeal = await fetch(t.url + '/mdr/items/abc/appeal', { headers: { cookie } });
    assert.equal(appeal.status, 401, 'no session: the entry page, before the id is looked at');
    const asset = await fetch(t.url + '/console/assets/nope.css');
    assert.equal(asset.status, 404);
    assert.equal(await asset.text(), '文件不存在');
  });

  it('the interfaces still answer a malformed request with their JSON envelope', async () => {
    const res = await fetch(t.url + '/umdl/reportOverdueData', {
      method: 'POST',
      body: 'not json',
      headers: { 'content-type': 'application/json' },
    });
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  });
});
