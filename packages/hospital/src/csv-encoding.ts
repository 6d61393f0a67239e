/**
 * The bytes of a CSV file to text. Excel on Chinese Windows saves "CSV" in GBK/GB18030 and
 * "CSV UTF-8" with a BOM; HIS exports are usually UTF-8 without one. Decoding is strict: a byte
 * sequence that is not valid in the encoding stops the file with the lines named, because a name
 * read as `����` and reported would put a wrong record on a real person.
 */

export type CsvEncoding = 'auto' | 'utf8' | 'gb18030';
export const CSV_ENCODINGS: readonly CsvEncoding[] = ['auto', 'utf8', 'gb18030'];

const UTF8_BOM = [0xef, 0xbb, 0xbf];
const GB18030_BOM = [0x84, 0x31, 0x95, 0x33];

const startsWith = (bytes: Uint8Array, prefix: number[]) => prefix.every((b, i) => bytes[i] === b);

const LABEL: Record<'utf8' | 'gb18030', string> = { utf8: 'UTF-8', gb18030: 'GB18030' };
const HINT: Record<CsvEncoding, string> = {
  utf8: '；Excel 另存的 CSV 通常是 GB18030/GBK 编码，可改用 --encoding gb18030 或 auto',
  gb18030: '',
  auto: '（既不是 UTF-8 也不是 GB18030 编码）',
};

export function csvEncoding(value: string | undefined): CsvEncoding {
  const v = (value ?? 'auto').toLowerCase().replace(/^utf-8$/, 'utf8');
  if ((CSV_ENCODINGS as readonly string[]).includes(v)) return v as CsvEncoding;
  throw new RangeError(`不支持的 CSV 编码 "${value}"，可选 ${CSV_ENCODINGS.join('、')}`);
}

/** One thing wrong with a CSV file, where it is. */
export interface CsvProblem {
  /** Line of the file where the record starts; the header is line 1. */
  row: number;
  column?: string;
  message: string;
}

export type DecodedCsv = { text: string; encoding: 'utf8' | 'gb18030' } | { problems: CsvProblem[] };

/**
 * A BOM decides (it cannot occur at the start of a CSV file in the other encoding); otherwise `auto`
 * takes UTF-8 when the whole file is valid UTF-8 and GB18030 when it is not.
 */
export function decodeCsvBytes(bytes: Uint8Array, encoding: CsvEncoding = 'auto'): DecodedCsv {
  if (startsWith(bytes, UTF8_BOM)) return decodeAs(bytes.subarray(3), 'utf8', encoding);
  if (startsWith(bytes, GB18030_BOM)) return decodeAs(bytes.subarray(4), 'gb18030', encoding);
  if (encoding !== 'auto') return decodeAs(bytes, encoding, encoding);
  const utf8 = tryDecode(bytes, 'utf8');
  return utf8 !== undefined ? checked(utf8, 'utf8') : decodeAs(bytes, 'gb18030', 'auto');
}

function tryDecode(bytes: Uint8Array, encoding: 'utf8' | 'gb18030'): string | undefined {
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function decodeAs(bytes: Uint8Array, encoding: 'utf8' | 'gb18030', asked: CsvEncoding): DecodedCsv {
  const text = tryDecode(bytes, encoding);
  if (text !== undefined) return checked(text, encoding);
  // Line feeds are single bytes in both encodings (never inside a multi-byte character): decode per line to name them.
  const problems: CsvProblem[] = [];
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x0a) continue;
    if (tryDecode(bytes.subarray(start, i), encoding) === undefined) {
      problems.push({ row: line, message: `不是有效的 ${LABEL[encoding]} 编码${HINT[asked]}` });
    }
    line++;
    start = i + 1;
  }
  return { problems };
}

/** U+FFFD in a file that decoded cleanly was put there by an earlier bad conversion: the names are already lost. */
function checked(text: string, encoding: 'utf8' | 'gb18030'): DecodedCsv {
  const problems: CsvProblem[] = [];
  text.split('\n').forEach((l, i) => {
    if (l.includes('\ufffd')) problems.push({ row: i + 1, message: '含有乱码字符 “�”，文件在此前的转换中已损坏，请从 HIS 重新导出' });
  });
  return problems.length ? { problems } : { text, encoding };
}
