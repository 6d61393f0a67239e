import { MdlError, RespCode, type Envelope } from '@mdl/protocol';

/** Fields that never enter the `k=v&…` sign string (PROTOCOL.md "Signature"). */
const UNSIGNED_FIELDS = new Set(['sign', 'encryptData', 'extendParams', 'data', 'param']);
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
const GUIDE_FIELDS = new Set(['appId', 'version', 'timestamp', 'encryptType', 'signType', 'respCode', 'respMsg']);
// `&` and `=` would let one field's value pose as a field boundary of the unescaped sign string, and control
// characters have no business in an envelope field.
// eslint-disable-next-line no-control-regex
const SHIFTING = /[&=\u0000-\u001f\u007f]/;

/**
 * Refuses (000105) an envelope whose signed fields could re-cut the sign string: a name or value that holds
 * `&`, `=` or a control character, or a value that is not text (objects would be signed as their JSON).
 * Runs before anything else reads the envelope, so such a request is refused before any key is looked up.
 */
export function assertSignStringSafe(env: Envelope): void {
  for (const [name, value] of Object.entries(env)) {
    if (UNSIGNED_FIELDS.has(name)) continue;
    if (!FIELD_NAME.test(name)) throw new MdlError(RespCode.INVALID_PARAM, '报文字段名不合法');
    if (value === null || value === undefined) continue;
    // The reply names the field only when it is one of the guide's: nothing the sender made up is echoed.
    const which = GUIDE_FIELDS.has(name) ? `报文字段 ${name}` : '报文中的扩展字段';
    if (typeof value !== 'string') throw new MdlError(RespCode.INVALID_PARAM, `${which} 应为字符串`);
    if (SHIFTING.test(value)) throw new MdlError(RespCode.INVALID_PARAM, `${which} 含有不允许的字符 (&、= 或控制字符)`);
  }
}
