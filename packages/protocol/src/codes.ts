/**
 * Response codes of guide §4.2. The message texts are the guide's own; replies use them unless a
 * more precise Chinese message helps the caller (e.g. which field failed validation).
 */
export const RespCode = {
  SUCCESS: '000000',
  UNKNOWN: '000001',
  SYSTEM_ERROR: '000002',
  MAINTENANCE: '000003',
  EXTERNAL: '000100',
  DECRYPT_FAILED: '000101',
  BAD_SIGNATURE: '000102',
  INVALID_PARAM: '000105',
  REPLAY: '010010',
  APP_UNKNOWN_ERROR: '-1',
  APP_BAD_REQUEST: '-2',
  APP_TIMEOUT: '-3',
  FORBIDDEN: '-4',
  BAD_PATH: '-5',
  RATE_LIMITED: '-6',
  AUTH_SUBSYSTEM: '-7',
  APP_NOT_FOUND: '-8',
  FATAL: '444444',
  NOT_OPEN: '404404',
} as const;

export type RespCode = (typeof RespCode)[keyof typeof RespCode];

export const RESP_MESSAGES: Record<RespCode, string> = {
  '000000': '成功',
  '000001': '未知错误',
  '000002': '系统错误',
  '000003': '系统维护中, 或灰度发布中, 请等待恢复',
  '000100': '外部接口存在问题, 请联系管理员排查',
  '000101': '系统接口加密失败',
  '000102': '核验签名参数失败, 签名无效',
  '000105': '参数校验不合法',
  '010010': '重放攻击拦截器, 请勿重复操作, 谢谢您的配合!',
  '-1': '业务子系统内未知错误',
  '-2': '请求参数异常',
  '-3': '服务端子系统内超时',
  '-4': '权限校验异常',
  '-5': '无效的请求地址',
  '-6': '业务子系统限流, 并发数过大, 触发限流',
  '-7': '鉴权子系统出现错误或用户子系统内部错误',
  '-8': '应用信息不存在',
  '444444': '程序存在致命性错误, 请先停止使用, 并联系系统管理员!',
  '404404': '该功能未开放',
};

/**
 * Codes after which sending the same call again can succeed (guide §4.2 and §5.1.1 "可重试"). `000002`
 * is a passing fault of the platform (docs/error-codes.md): ORG_MDL_001/003 are idempotent by
 * orgRequestId, so sending the same call again is safe.
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  RespCode.SYSTEM_ERROR,
  RespCode.APP_TIMEOUT,
  RespCode.RATE_LIMITED,
  RespCode.MAINTENANCE,
]);

/** The one error type of the system: every failure that reaches a caller carries a guide code. */
export class MdlError extends Error {
  readonly code: RespCode;
  /** Extra detail for logs and audit; never sent to the caller. */
  readonly detail: string | undefined;
  constructor(code: RespCode, message?: string, detail?: string) {
    super(message ?? RESP_MESSAGES[code]);
    this.name = 'MdlError';
    this.code = code;
    this.detail = detail;
  }
}

export function isMdlError(e: unknown): e is MdlError {
  return e instanceof MdlError;
}
