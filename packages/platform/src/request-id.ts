/**
 * The form of a request id the platform accepts from a caller (nginx's `$request_id`, a hospital's own
 * `X-Request-Id`) and sends on with its outbound calls: short, and nothing that could break a header or a log line.
 */
export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && /^[\w.-]{1,64}$/.test(value);
}
