/**
 * Just enough of multipart/form-data (RFC 7578) for one form with a file: the citizen's appeal with a
 * receipt photo. The body arrives whole and size-limited (the route's bodyLimit); at most MAX_PARTS parts,
 * text fields as UTF-8, a file part as its bytes. Anything malformed is `undefined` (the page answers 400).
 */
export interface FilePart {
  filename: string;
  data: Buffer;
}
export type MultipartFields = Record<string, string | FilePart>;

const MAX_PARTS = 10;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

export function boundaryOf(contentType: string | undefined): string | undefined {
  const m = /^multipart\/form-data\s*;.*?\bboundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? '');
  return m ? (m[1] ?? m[2]) : undefined;
}

export function parseMultipart(body: Buffer, boundary: string): MultipartFields | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const fields: MultipartFields = Object.create(null) as MultipartFields;
  let pos = body.indexOf(delimiter);
  if (pos < 0) return undefined;
  for (let parts = 0; ; parts++) {
    pos += delimiter.length;
    // "--" after a delimiter ends the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return fields;
    if (parts >= MAX_PARTS || !body.subarray(pos, pos + 2).equals(CRLF)) return undefined;
    const headersEnd = body.indexOf(HEADER_END, pos + 2);
    if (headersEnd < 0) return undefined;
    const headers = body.subarray(pos + 2, headersEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([CRLF, delimiter]), headersEnd + 4);
    if (next < 0) return undefined;
    const content = body.subarray(headersEnd + 4, next);
    const disposition = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined || name === '' || name === '__proto__') return undefined;
    fields[name] = filename === undefined ? content.toString('utf8') : { filename, data: Buffer.from(content) };
    pos = next + CRLF.length;
  }
}
