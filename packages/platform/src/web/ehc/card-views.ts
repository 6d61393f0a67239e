import { chinaClock } from '@mdl/protocol';
import { hiddenInput, notice, postButton } from '../components.js';
import { h, type Html } from '../html.js';
import { csrfInput } from './card-csrf.js';
import { identityFields, otherModeLink } from './sign-in-views.js';

/**
 * What the citizen's card pages (./citizen.ts) show: a hospital's request for authorization and its outcome,
 * the card itself and the dynamic health code.
 */
export const AUTH_TITLE = '电子健康卡授权';

export const INVALID_AUTH_LINK = notice('bad', '授权链接无效，请回到医院页面重新发起授权。');

/** A card as shown: name and ID number already masked. */
export interface CardShown {
  name: string;
  idDoc: string;
  cardNo: string;
}

export function cardSummary(c: CardShown): Html {
  return h`<dl class="kv"><dt>姓名</dt><dd>${c.name}</dd>
<dt>证件</dt><dd>${c.idDoc}</dd>
<dt>卡号</dt><dd>${c.cardNo}</dd></dl>`;
}

export function logoutButton(csrf: string): Html {
  return postButton({ action: '/card/logout', fields: csrfInput(csrf), label: '退出', secondary: true });
}

/** A decided or expired request: what happened, and the way to the card. */
export function authOutcome(status: 'succ' | 'cancel' | 'fail', orgName: string): Html {
  const text = {
    succ: notice('ok', h`<p class="big">授权成功</p><p>已将您的电子健康卡信息授权给 ${orgName}，请返回医院页面或自助机继续办理。</p>`),
    cancel: notice('', `您已拒绝向 ${orgName} 授权，医院不会获得您的电子健康卡信息。如需办理，请在医院重新发起。`),
    fail: notice('bad', '授权已过期，请回到医院页面或自助机重新发起授权。'),
  }[status];
  return h`${text}<p class="center"><a href="/card">查看我的电子健康卡</a></p>`;
}

const REQUESTED_DATA = ['姓名', '证件类型及号码', '电子健康卡号', '性别、出生日期', '手机号'];

/**
 * What is asked, as a list one can read, and how long is left rather than only a clock time (the pages run no
 * script: the minutes are as of opening the page, the clock time says when exactly).
 */
export function authRequest(orgName: string, minutesLeft: number, expiresAtMs: number): Html {
  const left = h`授权请求还剩 <strong>约 ${minutesLeft} 分钟</strong>，请在 ${chinaClock(expiresAtMs)} 前完成`;
  return h`<div class="card"><p class="big">${orgName}</p>
<p>申请获取您的电子健康卡信息（以下各项），用于先诊后付就医时查询和登记医疗欠费记录：</p>
<ul id="requested-data">${REQUESTED_DATA.map((x) => h`<li>${x}</li>`)}</ul>
<p id="auth-countdown">${left}；过期后需回到医院重新发起。</p></div>`;
}

/** The request to someone not signed in: sign in here (or 领卡) first; `here` is where they come back to. */
export function authSignIn(request: Html, here: string, csrf: string): Html {
  return h`${request}${identityFields('login', here, csrf, {}, {})}
${otherModeLink('login', here)}`;
}

/** The request to the signed-in citizen: whose card would be given, 切换账号, and 同意 or 拒绝. */
export function authDecision(request: Html, card: CardShown, here: string, csrf: string): Html {
  const decide = (decision: 'allow' | 'deny', label: string) =>
    postButton({ action: here, fields: h`${csrfInput(csrf)}${hiddenInput('decision', decision)}`, label, secondary: decision === 'deny' });
  const switchAccount = postButton({
    action: '/card/logout',
    fields: h`${csrfInput(csrf)}${hiddenInput('next', here)}`,
    label: '不是本人？切换账号',
    secondary: true,
    style: 'margin-top:.5rem',
  });
  return h`${request}<div class="card"><p>当前电子健康卡</p>${cardSummary(card)}
${switchAccount}</div>
<div class="actions">${decide('allow', '同意授权')}${decide('deny', '拒绝授权')}</div>`;
}

/** My card and the health code to show at the hospital (被扫), with when it stops being valid. */
export function healthCodePage(card: CardShown, qr: Html, code: string, expiresAtMs: number): Html {
  return h`<div class="card">${cardSummary(card)}</div>
<div class="card center"><p class="big">电子健康码</p>
<div class="qr" id="health-qr">${qr}</div>
<p class="code-text" id="health-code">${code}</p>
<p class="muted">就医时请向医院自助机或窗口出示此码。每分钟自动刷新，本码 ${chinaClock(expiresAtMs)} 前有效。</p>
<p><a class="button secondary" href="/card">立即刷新</a></p></div>`;
}
