/**
 * CSV files for reports (ORG_MDL_001) and updates (ORG_MDL_003): one row per item, a header row
 * with the guide's field names, RFC 4180 quoting, UTF-8 (a BOM is allowed) or GB18030 as Excel on
 * Chinese Windows saves it (csv-encoding.ts). A file with any bad row is refused as a whole, with
 * every bad row named, so nothing of it is sent.
 */
import { identityProblem, unsettledPerson, updateItem, validate } from '@mdl/protocol';
import type { UnsettledPerson, UpdateItem } from '@mdl/protocol';
import type { PersonUpdate } from './batching.js';
import { type CsvEncoding, type CsvProblem, decodeCsvBytes } from './csv-encoding.js';

/** Columns of a report file; the first four may be empty for a non-real-name patient. */
export const REPORT_COLUMNS = [
  'idNo',
  'idType',
  'userName',
  'ehealthCardId',
  'mobilePhone',
  'userType',
  'orgTraceId',
  'medType',
  'feeType',
  'itemName',
  'amount',
  'actualTime',
] as const;
export const REPORT_OPTIONAL = new Set(['idNo', 'idType', 'userName', 'ehealthCardId', 'mobilePhone']);

/** Columns of an update file. */
export const UPDATE_COLUMNS = ['idNo', 'idType', 'userName', 'ehealthCardId', 'orgTraceId', 'traceId', 'state'] as const;
export const UPDATE_OPTIONAL = new Set(['idNo', 'idType', 'userName', 'ehealthCardId']);

// Declared beside the decoder, which reports problems too (csv-encoding.ts must not import this file: no cycle).
export type { CsvProblem } from './csv-encoding.js';

export class CsvError extends Error {
  readonly problems: CsvProblem[];
  constructor(problems: CsvProblem[]) {
    const shown = problems.slice(0, 20).map((p) => `第 ${p.row} 行${p.column ? ` ${p.column} 列` : ''}: ${p.message}`);
    const more = problems.length > shown.length ? `\n…另有 ${problems.length - shown.length} 处错误` : '';
    super(`CSV 文件有 ${problems.length} 处错误, 未发送任何数据:\n${shown.join('\n')}${more}`);
    this.name = 'CsvError';
    this.problems = problems;
  }
}

export interface CsvRecord {
  line: number;
  fields: string[];
}

/** RFC 4180: quoted fields may hold commas, newlines and doubled quotes; CRLF or LF line ends. */
export function parseCsv(text: string): CsvRecord[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let fieldStarted = false;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted)) records.push({ line: start, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      fieldStarted = true;
    } else if (c === '"') {
      throw new CsvError([{ row: line, message: '引号只能出现在字段开头 (字段内的引号请写成两个 "")' }]);
    } else if (c === ',') {
      fields.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw new CsvError([{ row: start, message: '引号未闭合' }]);
  if (field !== '' || fields.length > 0 || fieldStarted) endRecord();
  return records;
}

interface Table {
  rows: { line: number; values: Record<string, string> }[];
  problems: CsvProblem[];
}

/** A file's bytes (decoded strictly, see csv-encoding.ts) or text already decoded. */
export type CsvInput = string | Uint8Array;

export interface CsvOptions {
  /** For bytes: `auto` (default) reads UTF-8, or GB18030 when the file is not valid UTF-8. */
  encoding?: CsvEncoding;
}

function csvText(input: CsvInput, opts: CsvOptions): string {
  if (typeof input === 'string') return input;
  const decoded = decodeCsvBytes(input, opts.encoding);
  if ('problems' in decoded) throw new CsvError(decoded.problems);
  return decoded.text;
}

function readTable(input: CsvInput, opts: CsvOptions, columns: readonly string[], optional: ReadonlySet<string>): Table {
  const records = parseCsv(csvText(input, opts));
  const header = records.shift();
  if (!header) throw new CsvError([{ row: 1, message: '文件为空, 缺少表头' }]);
  const names = header.fields.map((f) => f.trim());
  const missing = columns.filter((c) => !names.includes(c) && !optional.has(c));
  if (missing.length > 0) throw new CsvError([{ row: header.line, message: `表头缺少列: ${missing.join(', ')}` }]);
  const problems: CsvProblem[] = [];
  const rows = records.map((r) => {
    if (r.fields.length !== names.length) {
      problems.push({ row: r.line, message: `应有 ${names.length} 个字段, 实有 ${r.fields.length} 个` });
    }
    const values: Record<string, string> = {};
    names.forEach((n, i) => {
      if (columns.includes(n)) values[n] = (r.fields[i] ?? '').trim();
    });
    return { line: r.line, values };
  });
  if (rows.length === 0) problems.push({ row: header.line + 1, message: '没有数据行' });
  return { rows, problems };
}

/** The last segment of a schema path is the column: `itemList[0].amount` → `amount`. */
const columnOf = (path: string) =>
  path
    .split('.')
    .pop()!
    .replace(/\[\d+\]$/, '');

function checkDuplicates(rows: Table['rows'], problems: CsvProblem[]): void {
  const firstLine = new Map<string, number>();
  for (const r of rows) {
    const id = r.values.orgTraceId;
    if (!id) continue;
    const prev = firstLine.get(id);
    if (prev !== undefined) problems.push({ row: r.line, column: 'orgTraceId', message: `机构跟踪号 ${id} 与第 ${prev} 行重复` });
    else firstLine.set(id, r.line);
  }
}

/** Reads a report file into persons (one per row; the client merges rows of the same real-name patient). */
export function parseReportCsv(input: CsvInput, opts: CsvOptions = {}): UnsettledPerson[] {
  const { rows, problems } = readTable(input, opts, REPORT_COLUMNS, REPORT_OPTIONAL);
  return personsFromRows(rows, problems);
}

/** Rows from a database query (column names as in a report file) into persons; row N is the N-th record. */
export function reportRowsToPersons(records: readonly Record<string, string | null | undefined>[]): UnsettledPerson[] {
  const rows = records.map((r, i) => ({
    line: i + 1,
    values: Object.fromEntries(REPORT_COLUMNS.map((c) => [c, String(r[c] ?? '').trim()])),
  }));
  return personsFromRows(rows, []);
}

function personsFromRows(rows: Table['rows'], problems: CsvProblem[]): UnsettledPerson[] {
  const persons: UnsettledPerson[] = [];
  const userTypeOf = new Map<string, { userType: string; line: number }>();
  for (const { line, values: v } of rows) {
    const person = {
      idNo: v.idNo,
      idType: v.idType,
      userName: v.userName,
      ehealthCardId: v.ehealthCardId,
      mobilePhone: v.mobilePhone,
      userType: v.userType ?? '',
      itemList: [
        {
          orgTraceId: v.orgTraceId ?? '',
          medType: v.medType ?? '',
          feeType: v.feeType ?? '',
          itemName: v.itemName ?? '',
          amount: v.amount ?? '',
          actualTime: v.actualTime ?? '',
        },
      ],
    };
    const issue = validate(unsettledPerson, person);
    if (issue) {
      problems.push({ row: line, column: columnOf(issue.path), message: issue.message });
      continue;
    }
    const idIssue = identityProblem(person);
    if (idIssue) {
      problems.push({ row: line, message: idIssue });
      continue;
    }
    if (person.idNo) {
      const key = `${person.idType}|${person.idNo}`;
      const seen = userTypeOf.get(key);
      if (seen && seen.userType !== person.userType) {
        problems.push({ row: line, column: 'userType', message: `同一患者的用户类别与第 ${seen.line} 行不一致` });
      } else userTypeOf.set(key, { userType: person.userType, line });
    }
    persons.push(dropEmpty(person) as UnsettledPerson);
  }
  checkDuplicates(rows, problems);
  if (problems.length > 0) throw new CsvError(problems.sort((a, b) => a.row - b.row));
  return persons;
}

/** Reads an update file into per-person updates (state 1 paid, 2 revoked). */
export function parseUpdateCsv(input: CsvInput, opts: CsvOptions = {}): PersonUpdate[] {
  const { rows, problems } = readTable(input, opts, UPDATE_COLUMNS, UPDATE_OPTIONAL);
  const updates: PersonUpdate[] = [];
  for (const { line, values: v } of rows) {
    const item: UpdateItem = { orgTraceId: v.orgTraceId ?? '', traceId: v.traceId ?? '', state: v.state ?? '' };
    const issue = validate(updateItem, item);
    if (issue) {
      problems.push({ row: line, column: columnOf(issue.path), message: issue.message });
      continue;
    }
    const who = { idNo: v.idNo, idType: v.idType, userName: v.userName, ehealthCardId: v.ehealthCardId };
    const idIssue = identityProblem(who);
    if (idIssue) {
      problems.push({ row: line, message: idIssue });
      continue;
    }
    updates.push({ ...(dropEmpty(who) as Omit<PersonUpdate, 'itemList'>), itemList: [item] });
  }
  checkDuplicates(rows, problems);
  if (problems.length > 0) throw new CsvError(problems.sort((a, b) => a.row - b.row));
  return updates;
}

function dropEmpty<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}

/** Quotes a field when RFC 4180 requires it. */
export function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
