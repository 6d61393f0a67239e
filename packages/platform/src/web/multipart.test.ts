import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundaryOf, parseMultipart } from './multipart.js';

describe('multipart/form-data', () => {
  const b = 'XyZ123';
  const body = (parts: string[]) => Buffer.from(parts.map((p) => `--${b}\r\n${p}\r\n`).join('') + `--${b}--\r\n`, 'latin1');

  it('reads text fields and a file part, bytes intact', () => {
    const png = '\x89PNG\r\n\x1a\n\x00\x01\xff';
    const f = parseMultipart(
      body([
        'Content-Disposition: form-data; name="csrf"\r\n\r\nabc',
        'Content-Disposition: form-data; name="receipt"; filename="r.png"\r\nContent-Type: image/png\r\n\r\n' + png,
      ]),
      b,
    );
    assert.equal(f?.csrf, 'abc');
    assert.deepEqual(f?.receipt, { filename: 'r.png', data: Buffer.from(png, 'latin1') });
  });

  it('refuses malformed bodies and too many parts', () => {
    assert.equal(parseMultipart(Buffer.from('nothing here'), b), undefined);
    assert.equal(parseMultipart(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end`), b), undefined);
    const many = Array.from({ length: 11 }, (_, i) => `Content-Disposition: form-data; name="f${i}"\r\n\r\nx`);
    assert.equal(parseMultipart(body(many), b), undefined);
    assert.equal(parseMultipart(body(['Content-Disposition: form-data; name="__proto__"\r\n\r\nx']), b), undefined);
  });

  it('finds the boundary in the content type', () => {
    assert.equal(boundaryOf('multipart/form-data; boundary=----WebKitFormBoundaryA1'), '----WebKitFormBoundaryA1');
    assert.equal(boundaryOf('multipart/form-data; boundary="quoted"'), 'quoted');
    assert.equal(boundaryOf('application/x-www-form-urlencoded'), undefined);
  });
});
