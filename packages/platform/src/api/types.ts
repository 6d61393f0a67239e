import type { InterfaceCode, RequestOf, ResponseOf } from '@mdl/protocol';
import type { Caller } from '../domain/credentials.js';
import type { Platform } from '../platform.js';

export interface CallContext {
  platform: Platform;
  caller: Caller;
  requestId: string;
  /** The business JSON exactly as received. */
  plaintext: string;
}

/**
 * One interface of the guide: the gateway has validated the payload against its schema before `handle`. The
 * payload and answer types are those of the interface's schemas in protocol's `INTERFACES`.
 */
export interface ApiHandler<C extends InterfaceCode = InterfaceCode> {
  code: C;
  /** Channel credentials (闽政通) may call only the interfaces that say so. */
  channelAllowed: boolean;
  /**
   * `orgId` in the payload narrows what is read (ORG_MDL_002: 空时查全部机构的待缴费数据) rather than naming
   * the institution the caller acts for, so it may name another institution.
   */
  orgIdIsFilter?: boolean;
  handle(ctx: CallContext, payload: RequestOf<C>): Promise<ResponseOf<C>>;
}

/** An interface handler, typed by its code: `defineApi('ORG_MDL_002', { … })`. */
export function defineApi<C extends InterfaceCode>(code: C, h: Omit<ApiHandler<C>, 'code'>): ApiHandler<C> {
  return { code, ...h };
}
