import { ID_TYPES } from '@mdl/protocol';
import type { CitizenIdentity } from '../../domain/ehc/registry.js';
import { hiddenInput, notice, smsCodeField } from '../components.js';
import { errorSummary, field, firstError, formAlert } from '../form.js';
import { h, raw, type Html } from '../html.js';
import { csrfInput } from './card-csrf.js';

/*
 * The forms of signing in and 领卡 (./sign-in.ts): the identity details, the consent box and the SMS code step.
 */

/** The answer to a form without this browser's CSRF token (shared by every /card form). */
export const STALE_FORM = h`${notice('bad', '表单已失效或来源不明，请返回重新打开页面后再试。')}
<p class="center"><a href="/card/login">重新登录</a></p>`;

/** 185****0018: what the citizen typed, so they see where the code went without the page saying whether it matched. */
function maskPhone(phone: string): string {
  return /^\d{11}$/.test(phone) ? `${phone.slice(0, 3)}****${phone.slice(7)}` : '';
}

export interface CodeFormState {
  challenge: string;
  next: string;
  csrf: string;
  /** What the citizen typed: the page shows it masked and carries it to the next try. */
  phone: string;
  error?: string;
}

/** The code step: where the code went (without saying whether the details matched), the code, and a way back. */
export function codeFormBody(o: CodeFormState): Html {
  const to = maskPhone(o.phone);
  const again = h`<a href="/card/login?next=${encodeURIComponent(o.next)}">重新填写</a>`;
  return h`<form class="card" method="post" action="/card/verify" novalidate>
<p class="big">输入短信验证码</p>
${formAlert(o.error)}
<p>如果您填写的信息与电子健康卡登记的一致，验证码已发送至${to ? h` ${to}` : '登记的手机号'}，几分钟内有效。</p>
${csrfInput(o.csrf)}${hiddenInput('next', o.next)}${hiddenInput('challenge', o.challenge)}
${hiddenInput('phone', o.phone)}
${smsCodeField('pattern="[0-9]*"')}
<div class="actions"><button type="submit">登录</button></div>
<p class="muted">收不到验证码？请核对姓名、证件号和手机号后${again}。电子健康卡没有登记手机号的，请从闽政通进入“医疗欠费名单”绑定手机号。</p>
</form>`;
}

/** Under the form: 领卡 for who has no card yet, 登录 for who has one. */
export function otherModeLink(mode: 'login' | 'register', next: string): Html {
  const q = encodeURIComponent(next);
  return mode === 'login'
    ? h`<p class="center">还没有电子健康卡？<a href="/card/register?next=${q}">立即领卡</a></p>`
    : h`<p class="center">已有电子健康卡？<a href="/card/login?next=${q}">直接登录</a></p>`;
}

/** 居民身份证 first, 其他 last: the dictionary's own order puts numeric-looking codes (10 医保电子凭证, 99 其他) first. */
const ID_TYPE_OPTIONS: [string, string][] = Object.entries(ID_TYPES)
  .map(([code, label]): [string, string] => [code, label])
  .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
function rank(code: string): number {
  return code === '01' ? 0 : code === '99' ? 2 : 1;
}

export type IdentityErrors = Partial<Record<keyof CitizenIdentity | 'agree', string>>;
const IDENTITY_ORDER = ['userName', 'idType', 'idNo', 'mobilePhone', 'agree'] as const;

export function identityFields(
  mode: 'login' | 'register',
  next: string,
  csrfToken: string,
  v: Partial<CitizenIdentity>,
  errors: IdentityErrors,
  formError?: string,
): Html {
  const first = firstError(errors, IDENTITY_ORDER);
  const f = (name: keyof CitizenIdentity, label: string, attrs: string, hint?: string) =>
    field({ label, name, id: name, value: v[name] ?? '', error: errors[name], focus: first === name, attrs, ...(hint ? { hint } : {}) });
  const idTypeState = { error: errors.idType, focus: first === 'idType' };
  return h`<form class="card" method="post" action="/card/${mode}" novalidate>
<p class="big">${mode === 'login' ? '登录电子健康卡' : '领取电子健康卡'}</p>
${errorSummary(errors, formError)}
${csrfInput(csrfToken)}${hiddenInput('next', next)}
${f('userName', '姓名', 'autocomplete="name"')}
${field({ label: '证件类型', name: 'idType', id: 'idType', value: v.idType ?? '01', ...idTypeState, options: ID_TYPE_OPTIONS })}
${f('idNo', '证件号码', 'autocomplete="off" autocapitalize="characters" spellcheck="false"', '可直接粘贴，空格会自动去掉')}
${f('mobilePhone', '手机号', 'inputmode="tel" autocomplete="tel"', '验证码将发送到领卡时登记的手机号')}
${mode === 'register' ? consentBox(errors.agree, first === 'agree') : ''}
<div class="actions"><button type="submit">${mode === 'login' ? '获取验证码' : '领卡并获取验证码'}</button></div>
</form>`;
}

/** 领卡 stores identity data: the citizen agrees to the terms and the privacy notice first (unticked by default). */
function consentBox(error: string | undefined, focus: boolean): Html {
  const aria = raw((error ? ' aria-invalid="true" aria-describedby="agree-error"' : '') + (focus ? ' autofocus' : ''));
  return h`<div class="consent"><input type="checkbox" id="agree" name="agree" value="1"${aria}>
<label for="agree">我已阅读并同意<a href="/card/terms" target="_blank">《用户协议》</a>和<a href="/card/privacy" target="_blank">《隐私政策》</a></label>
${error ? h`<div class="field-error" id="agree-error">${error}</div>` : ''}</div>`;
}
