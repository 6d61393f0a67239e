import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readableDetail } from './readable.js';

describe('callback details in Chinese', () => {
  it('turns the stored technical strings into sentences, never showing them raw', () => {
    const cases: [string, RegExp][] = [
      ['TypeError: fetch failed: Error: connect ECONNREFUSED 127.0.0.1:9 (12 ms)', /无法连接医院的回调地址/],
      ['HTTP 502 (30 ms)', /医院接口返回错误（HTTP 502）/],
      ['timeout', /规定时间内应答/],
      ['hospital answered state=fail 重复通知', /医院未接受该回调：重复通知/],
      ['respCode 000105 参数校验不合法', /医院应答错误：参数校验不合法/],
      ['gave up after 6 attempts', /已尝试 6 次/],
      ['success', /医院已确认收到/],
      ['something odd', /回调失败（详细原因见系统日志）/],
    ];
    for (const [stored, shown] of cases) {
      const text = readableDetail(stored);
      assert.match(text, shown, stored);
      assert.doesNotMatch(text, /ECONNREFUSED|respCode|state=|ms\)/, stored);
    }
  });
});
