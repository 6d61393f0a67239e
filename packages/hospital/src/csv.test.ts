import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
