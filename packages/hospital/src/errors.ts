import { RESP_MESSAGES, RETRYABLE_CODES, RespCode } from '@mdl/protocol';

/**
 * Every failure of a platform call. `respCode` is the guide's code (§4.2) when the platform sent one;
 * failures that never got a trustworthy reply use `000100` (外部接口存在问题).
 */
export class PlatformError extends Error {
  readonly respCode: string;
  readonly respMsg: string;
  readonly httpStatus: number | undefined;
  /** Interface code (ORG_MDL_001, ...) of the call that failed, when known. */
  interfaceCode: string | undefined;
  constructor(respCode: string, message?: string, extra: { httpStatus?: number; cause?: unknown } = {}) {
    const respMsg = RESP_MESSAGES[respCode as RespCode] ?? '';
    super(message ?? (respMsg || `平台返回 ${respCode}`), extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'PlatformError';
    this.respCode = respCode;
    this.respMsg = respMsg;
    this.httpStatus = extra.httpStatus;
    this.interfaceCode = undefined;
  }

  /** Whether sending the same call again may succeed (guide §4.2, §5.1.1 "可重试"). */
  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.respCode);
  }
}

/** The reply's signature did not verify, or the platform says ours did not (000102). */
export class SignatureError extends PlatformError {
  constructor(message?: string) {
    super(RespCode.BAD_SIGNATURE, message);
    this.name = 'SignatureError';
  }
}

/** The reply could not be decrypted, or the platform could not decrypt ours (000101). */
export class DecryptError extends PlatformError {
  constructor(message?: string) {
    super(RespCode.DECRYPT_FAILED, message);
    this.name = 'DecryptError';
  }
}

/** A field is missing, too long or outside its dictionary: found locally before sending, or by the platform (000105). */
export class InvalidRequestError extends PlatformError {
  /** Path of the offending field, e.g. `unsettleList[0].itemList[2].amount`, when known. */
  readonly field: string | undefined;
  constructor(message?: string, field?: string) {
    super(RespCode.INVALID_PARAM, message);
    this.name = 'InvalidRequestError';
    this.field = field;
  }
}

export class PermissionError extends PlatformError {
  constructor(message?: string) {
    super(RespCode.FORBIDDEN, message);
    this.name = 'PermissionError';
  }
}

export class RateLimitError extends PlatformError {
  constructor(message?: string) {
    super(RespCode.RATE_LIMITED, message);
    this.name = 'RateLimitError';
  }
}

/** No usable HTTP answer: refused, reset, DNS failure, timeout, or an HTTP error status. */
export class ConnectionError extends PlatformError {
  constructor(message: string, extra: { httpStatus?: number; cause?: unknown } = {}) {
    super(RespCode.EXTERNAL, message, extra);
    this.name = 'ConnectionError';
  }

  /** Connection failures and 5xx are worth another try; a 4xx means the request itself is wrong. */
  override get retryable(): boolean {
    return this.httpStatus === undefined || this.httpStatus >= 500;
  }
}

/** Maps a reply code (or a protocol-package error code) to the most specific error class. */
export function errorForCode(code: string, message?: string): PlatformError {
  switch (code) {
    case RespCode.BAD_SIGNATURE:
      return new SignatureError(message);
    case RespCode.DECRYPT_FAILED:
      return new DecryptError(message);
    case RespCode.INVALID_PARAM:
      return new InvalidRequestError(message);
    case RespCode.FORBIDDEN:
      return new PermissionError(message);
    case RespCode.RATE_LIMITED:
      return new RateLimitError(message);
    default:
      return new PlatformError(code, message);
  }
}

export function isRetryable(e: unknown): boolean {
  return e instanceof PlatformError && e.retryable;
}
