import type { InterfaceCode } from '@mdl/protocol';
import type { Caller } from '../domain/credentials.js';
import type { Platform } from '../platform.js';

export interface CallContext {
  platform: Platform;
  caller: Caller;
  requestId: string;
  /** The business JSON exactly as received. */
  plaintext: string;
}

/** One interface of the guide: the gateway has validated the payload against its schema before `handle`. */
export interface ApiHandler<Req = never, Res = unknown> {
  code: InterfaceCode;
  /** Channel credentials (闽政通) may call only the interfaces that say so. */
  channelAllowed: boolean;
  /**
   * `orgId` in the payload narrows what is read (ORG_MDL_002: 空时查全部机构的待缴费数据) rather than naming
   * the institution the caller acts for, so it may name another institution.
   */
  orgIdIsFilter?: boolean;
  handle(ctx: CallContext, payload: Req): Promise<Res>;
}

export function defineApi<Req, Res>(h: ApiHandler<Req, Res>): ApiHandler<Req, Res> {
  return h;
}
