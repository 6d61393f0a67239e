import { hiddenInput, smsCodeField } from '../components.js';
import { field, formAlert } from '../form.js';
import { h } from '../html.js';
import { MDR_PATH } from '../../domain/citizen/tokens.js';
import { csrfField } from './parts.js';
import { APP_TITLE, shell } from './views.js';

/** The pages of /mdr/card-phone (./card-phone.ts): the phone, the SMS code, done. */

export const CARD_PHONE_PATH = `${MDR_PATH}/card-phone`;
const TITLE = '绑定电子健康卡手机号';
const TEL = 'inputmode="tel" autocomplete="tel"';

export function phoneFormPage(csrf: string, phone: string, error?: string): string {
  const input = field({ label: '手机号', name: 'mobilePhone', id: 'mobilePhone', value: phone, error, focus: true, attrs: TEL });
  const body = h`<form class="card" method="post" action="${CARD_PHONE_PATH}" novalidate><h2>绑定手机号</h2>
<p>您的电子健康卡还没有登记手机号。登记后，可以用手机号和短信验证码登录电子健康卡。</p>
${csrfField(csrf)}
${input}
<div class="actions"><button type="submit">获取验证码</button></div></form>`;
  return shell(TITLE, body, { signedIn: true, csrf });
}

export function codeFormPage(csrf: string, challenge: string, error?: string): string {
  const body = h`<form class="card" method="post" action="${CARD_PHONE_PATH}/verify" novalidate><h2>输入短信验证码</h2>
${formAlert(error)}
${csrfField(csrf)}${hiddenInput('challenge', challenge)}
${smsCodeField()}
<div class="actions"><button type="submit">确认绑定</button></div></form>`;
  return shell(TITLE, body, { signedIn: true, csrf });
}

export function phoneGivenPage(csrf: string): string {
  const signIn = h`<a href="/card/login">登录电子健康卡</a>`;
  const body = h`<section class="card"><h2>绑定成功</h2><p>电子健康卡已登记该手机号。现在可以用姓名、证件号、手机号和短信验证码${signIn}。</p></section>`;
  return shell(APP_TITLE, body, { signedIn: true, csrf });
}
