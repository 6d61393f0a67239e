import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { main } from './cli.js';
import { decodeCsvBytes } from './csv-encoding.js';
import { planReport } from './batching.js';
import { CsvError, REPORT_COLUMNS, parseCsv, parseReportCsv, parseUpdateCsv } from './csv.js';
import { reportCsv } from './testing/fixtures.js';

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CsvError, String(e));
    return e;
  }
  assert.fail('expected a CsvError');
}

describe('CSV', () => {
  it('parses RFC 4180 quoting, CRLF, a BOM and blank lines', () => {
    const text = '\ufeffa,b,c\r\n"x, y","say ""hi""","two\nlines"\r\n\r\n1,,3';
    assert.deepEqual(parseCsv(text), [
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', 'two\nlines'] },
      { line: 5, fields: ['1', '', '3'] },
    ]);
  });

  it('reads a report file into persons and batches', () => {
    const persons = parseReportCsv(reportCsv(250));
    assert.equal(persons.length, 250);
    const plan = planReport(persons, { orgId: 'H35010200001', orgName: '医院', notifyUrl: 'http://127.0.0.1/umdl/callback' });
    assert.equal(plan.length, 3);
  });

  it('names the bad row and column and refuses the whole file', () => {
    const lines = reportCsv(5).split('\n');
    lines[3] = lines[3]!.replace('25.00', '25.001');
    lines[5] = lines[5]!.replace('2026-11-24 09:15:00', '2026/11/24');
    const e = problemsOf(() => parseReportCsv(lines.join('\n')));
    assert.deepEqual(
      e.problems.map((p) => [p.row, p.column]),
      [
        [4, 'amount'],
        [6, 'actualTime'],
      ],
    );
    assert.match(e.message, /第 4 行 amount 列/);
    assert.match(e.message, /第 6 行 actualTime 列/);
  });

  it('reports a wrong field count, a duplicate orgTraceId, a bad id number and a missing column', () => {
    const lines = reportCsv(4).split('\n');
    lines[2] = lines[2] + ',extra';
    lines[4] = lines[3]!;
    const e = problemsOf(() => parseReportCsv(lines.join('\n')));
    assert.deepEqual(
      e.problems.map((p) => p.row),
      [3, 5],
    );
    assert.match(e.problems[1]!.message, /与第 4 行重复/);

    const badId = reportCsv(1).replace('11010519491231002X', '110105194912310021');
    assert.match(problemsOf(() => parseReportCsv(badId)).message, /第 2 行.*校验码/);

    const noAmount = REPORT_COLUMNS.filter((c) => c !== 'amount').join(',') + '\n';
    assert.match(problemsOf(() => parseReportCsv(noAmount)).message, /缺少列: amount/);
    assert.match(problemsOf(() => parseCsv('a,"b\n1,2')).message, /引号未闭合/);
  });

  it('reads an update file', () => {
    const text = 'idNo,idType,userName,ehealthCardId,orgTraceId,traceId,state\n11010519491231002X,01,张三,EHC1,T1,P1,1\n,,,,T2,P2,2\n';
    const updates = parseUpdateCsv(text);
    assert.equal(updates.length, 2);
    assert.deepEqual(updates[1], { itemList: [{ orgTraceId: 'T2', traceId: 'P2', state: '2' }] });
    const bad = problemsOf(() => parseUpdateCsv(text.replace('P2,2', 'P2,7')));
    assert.deepEqual(
      bad.problems.map((p) => [p.row, p.column]),
      [[3, 'state']],
    );
  });
});

/** What Excel on Chinese Windows writes for "CSV (逗号分隔)": code page 936 (GBK, a subset of GB18030), CRLF, no BOM. */
const excelCsv = (text: string) => iconv.encode(text.replace(/\n/g, '\r\n'), 'gbk');

const ROWS = [
  REPORT_COLUMNS.join(','),
  '11010519491231002X,01,张三丰,EHC-1,,02,E-1,11,01,"诊查费, 普通",25.00,2026-11-24 09:15:00',
  ',,,,,01,E-2,13,01,急诊留观费,130.50,2026-11-24 10:00:00',
  '11010519491231002X,01,张三丰,EHC-1,,02,E-3,21,02,住院床位费（双人间）,88.00,2026-11-24 11:00:00',
];
const TEXT = ROWS.join('\n') + '\n';

describe('CSV encodings', () => {
  it('reads a GB18030/GBK file as Excel on Chinese Windows saves it, detected and when asked', () => {
    const bytes = excelCsv(TEXT);
    assert.deepEqual(decodeCsvBytes(bytes), { text: TEXT.replace(/\n/g, '\r\n'), encoding: 'gb18030' });
    for (const encoding of ['auto', 'gb18030'] as const) {
      const persons = parseReportCsv(bytes, { encoding });
      assert.deepEqual(
        persons.map((p) => p.userName ?? ''),
        ['张三丰', '', '张三丰'],
      );
      assert.equal(persons[2]!.itemList[0]!.itemName, '住院床位费（双人间）');
      assert.equal(persons[0]!.itemList[0]!.itemName, '诊查费, 普通');
    }
  });

  it('reads characters outside GBK that only GB18030 has (four-byte sequences)', () => {
    const bytes = iconv.encode(TEXT.replace('张三丰', '陈䶮'), 'gb18030');
    assert.equal(parseReportCsv(bytes)[0]!.userName, '陈䶮');
  });

  it('reads UTF-8 with and without a BOM, and a GB18030 BOM', () => {
    const utf8 = Buffer.from(TEXT, 'utf8');
    assert.equal(parseReportCsv(utf8)[0]!.userName, '张三丰');
    assert.equal(parseReportCsv(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8]))[0]!.userName, '张三丰');
    // A BOM is unambiguous: even when GB18030 is asked for, a UTF-8 BOM means UTF-8.
    assert.equal(parseReportCsv(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8]), { encoding: 'gb18030' })[0]!.userName, '张三丰');
    assert.equal(parseReportCsv(Buffer.concat([Buffer.from([0x84, 0x31, 0x95, 0x33]), excelCsv(TEXT)]))[0]!.userName, '张三丰');
  });

  it('refuses a GB18030 file read as UTF-8, naming every line that is not UTF-8', () => {
    const e = problemsOf(() => parseReportCsv(excelCsv(TEXT), { encoding: 'utf8' }));
    assert.deepEqual(
      e.problems.map((p) => p.row),
      [2, 3, 4],
    );
    assert.match(e.message, /第 2 行: 不是有效的 UTF-8 编码；Excel 另存的 CSV 通常是 GB18030\/GBK 编码/);
  });

  it('refuses a malformed GB18030 file with the broken lines named, and sends nothing of it', () => {
    const bytes = Buffer.from(excelCsv(TEXT));
    // Line 3: a lead byte followed by a line end (a character cut in half); line 4: 0xFF, never valid.
    const lines = bytes.toString('latin1').split('\r\n');
    lines[2] = lines[2]!.slice(0, -1) + '\x81';
    lines[3] = lines[3]!.replace('E-3', 'E-\xff3');
    const broken = Buffer.from(lines.join('\r\n'), 'latin1');
    for (const encoding of ['auto', 'gb18030'] as const) {
      const e = problemsOf(() => parseReportCsv(broken, { encoding }));
      assert.deepEqual(
        e.problems.map((p) => p.row),
        [3, 4],
      );
    }
    assert.match(problemsOf(() => parseReportCsv(broken)).message, /第 3 行: 不是有效的 GB18030 编码（既不是 UTF-8 也不是 GB18030 编码）/);
  });

  it('names the line of a bad value in a GB18030 file, and refuses text already garbled to U+FFFD', () => {
    const bad = excelCsv(TEXT.replace('130.50', '130.505'));
    const e = problemsOf(() => parseReportCsv(bad));
    assert.deepEqual(e.problems, [{ row: 3, column: 'amount', message: '金额(amount): 金额应为元，最多两位小数，例如 25.00' }]);
    const garbled = Buffer.from(TEXT.replace('张三丰', '\ufffd\ufffd\ufffd'), 'utf8');
    assert.deepEqual(
      problemsOf(() => parseReportCsv(garbled)).problems.map((p) => p.row),
      [2],
    );
  });

  it('reads update files the same way', () => {
    const text = 'idNo,idType,userName,ehealthCardId,orgTraceId,traceId,state\n11010519491231002X,01,张三丰,EHC-1,E-1,T-1,1\n';
    assert.equal(parseUpdateCsv(excelCsv(text))[0]!.userName, '张三丰');
  });
});

describe('mdl-hospital --encoding', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'mdl-csv-enc-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  async function run(argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { out: (t) => void (stdout += `${t}\n`), err: (t) => void (stderr += `${t}\n`) }, {});
    return { code, stdout, stderr };
  }

  it('report --csv reads an Excel GB18030 file, and --encoding utf8 refuses it with the lines named', async () => {
    const file = join(dir, 'excel.csv');
    await writeFile(file, excelCsv(TEXT));
    const ok = await run(['report', '--csv', file, '--dry-run', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { ok: true, persons: 3, items: 3 });
    const refused = await run(['report', '--csv', file, '--dry-run', '--encoding', 'utf8']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /CSV 文件有 3 处错误, 未发送任何数据:\n第 2 行: 不是有效的 UTF-8 编码/);
    const usage = await run(['report', '--csv', file, '--dry-run', '--encoding', 'big5']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /不支持的 CSV 编码 "big5"/);
  });
});
