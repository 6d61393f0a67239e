import { field } from './form.js';
import { h, type Html } from './html.js';

/**
 * Small pieces the citizen app (/mdr) and the e-health-card pages (/card) share, so that a page's template reads as
 * what it shows: a hidden field, a one-button form, a notice, the SMS code field.
 */

export function hiddenInput(name: string, value: string): Html {
  return h`<input type="hidden" name="${name}" value="${value}">`;
}

export interface PostButtonOptions {
  action: string;
  /** The hidden fields it posts, CSRF token first. */
  fields: Html;
  label: string;
  secondary?: boolean;
  style?: string;
}

/** A form that is one button: posts its hidden fields (a decision, a sign-out, 重新发起). */
export function postButton(o: PostButtonOptions): Html {
  const cls = o.secondary ? h` class="secondary"` : '';
  const style = o.style ? h` style="${o.style}"` : '';
  return h`<form method="post" action="${o.action}">${o.fields}<button${cls} type="submit"${style}>${o.label}</button></form>`;
}

/** A coloured box with a sentence: plain (amber), `ok` (green) or `bad` (red). */
export function notice(kind: '' | 'ok' | 'bad', text: Html | string): Html {
  return h`<div class="${kind ? `notice ${kind}` : 'notice'}">${text}</div>`;
}

/** The 6-digit code a text message brought, focused: the one field of every code step. */
export function smsCodeField(extraAttrs = ''): Html {
  const attrs = `inputmode="numeric" autocomplete="one-time-code"${extraAttrs ? ` ${extraAttrs}` : ''}`;
  return field({ label: '验证码', name: 'code', id: 'code', value: '', focus: true, hint: '6 位数字', attrs });
}
