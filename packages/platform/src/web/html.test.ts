import assert from 'node:assert/strict';
import { it } from 'node:test';
import { h, page, raw } from './html.js';

it('escapes user text and keeps trusted markup', () => {
  const evil = '<script>alert(1)</script>"\'&';
  const out = h`<p>${evil}</p>${raw('<b>ok</b>')}${[h`<i>${'<x>'}</i>`]}`.value;
  assert.equal(out, '<p>&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;</p><b>ok</b><i>&lt;x&gt;</i>');
  assert.match(page({ title: '<t>', body: h`${evil}` }), /<title>&lt;t&gt;<\/title>/);
  assert.doesNotMatch(page({ title: 't', body: h`${evil}` }), /<script>alert/);
});
