import type { ServerOptions } from 'node:http';

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Time limits for every server of the kit (the 前置机's two listeners, createHospitalServer): the whole request (headers and body) within `requestTimeoutMs`,
 * idle keep-alive connections closed after 5 s, and the check run often enough that the limit is kept to
 * within a second rather than Node's default 30 s sweep.
 */
export function serverLimits(requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): ServerOptions {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: requestTimeoutMs,
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(requestTimeoutMs / 4))),
  };
}
