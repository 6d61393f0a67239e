import { maskIdNo, maskName } from '@mdl/protocol';
import { hiddenInput, notice, postButton } from '../components.js';
import { errorSummary, field } from '../form.js';
import { h, type Html } from '../html.js';

/**
 * What the demo kiosk (./kiosk.ts) shows: its first page, the QR of 主扫 and its outcome, the scan form of 被扫
 * and its outcome. `token` is the /card CSRF field every kiosk form carries.
 */
export const KIOSK_TITLE = '自助机演示';

const HOME = h`<p class="center"><a href="/card/kiosk">返回自助机首页</a></p>`;

/** Something went wrong: the sentence, and the way back to the first page. */
export function kioskFailure(message: string): Html {
  return h`${notice('bad', message)}${HOME}`;
}

/** The first page: the hospital's test credential, then 主扫 or 被扫. */
export function homeForm(token: Html, appId = '', error?: string): Html {
  const attrs = 'autocomplete="off" spellcheck="false"';
  const input = field({ label: '医院应用 ID（测试环境）', name: 'appId', id: 'appId', value: appId, error, focus: Boolean(error), attrs });
  const scan = h`<button class="secondary" type="submit" formaction="/card/kiosk/scan" name="mode" value="scan">被扫：扫描患者健康码</button>`;
  return h`<div class="card"><p class="big">医院自助机（演示）</p>
<p class="muted">使用医院的测试环境凭证，演示自费患者获取电子健康卡主索引的两种自助机方式。</p>
<form method="post" action="/card/kiosk/qr" novalidate>${token}${errorSummary({ appId: error })}
${input}
<div class="actions"><button type="submit" name="mode" value="qr">主扫：展示授权二维码</button>
${scan}</div></form></div>`;
}

/** The fields of ORG_EHC_002/003's answer the kiosk shows, masked. */
export interface KioskPatient {
  userName: string;
  idNo: string;
  cardNo: string;
}

function patientLine(p: KioskPatient): Html {
  return h`<p>患者 ${maskName(p.userName)}，证件 ${maskIdNo(p.idNo)}，电子健康卡号 ${p.cardNo}</p>`;
}

/** 主扫 waiting: the authUrl as a QR for the phone, polled by kiosk.js (and a link for no script). */
export function qrWaiting(authUrl: string, qr: Html, appId: string, outAuthNo: string): Html {
  const refresh = `/card/kiosk/qr?appId=${encodeURIComponent(appId)}&no=${outAuthNo}`;
  return h`<div class="card center"><p class="big">请用手机扫码授权电子健康卡</p>
<div class="qr" id="auth-qr" data-auth-url="${authUrl}">${qr}</div>
<p class="muted" id="kiosk-status" data-status="ing">等待患者授权……（授权流水号 <span id="out-auth-no">${outAuthNo}</span>）</p>
<p><a class="button secondary" href="${refresh}">刷新状态</a></p></div>${HOME}`;
}

/** 主扫 decided or expired: the patient's card on success, else why; and 重新发起授权. */
export function qrOutcome(status: string, token: Html, appId: string, p: KioskPatient | undefined): Html {
  const again = postButton({ action: '/card/kiosk/qr', fields: h`${token}${hiddenInput('appId', appId)}`, label: '重新发起授权' });
  if (status === 'succ' && p) {
    return h`<div class="notice ok" id="kiosk-status" data-status="succ"><p class="big">授权成功</p>
${patientLine(p)}
<p class="muted">患者的电子健康卡信息已返回医院系统，请继续挂号。</p></div>${again}${HOME}`;
  }
  const text = status === 'cancel' ? '患者已拒绝授权。' : '授权已超时或失败。';
  return h`<div class="notice bad" id="kiosk-status" data-status="${status}">${text}</div>${again}${HOME}`;
}

/** 被扫: the field the scanner types the health code into, under the outcome of the last scan if any. */
export function scanForm(token: Html, appId: string, outcome: Html | '' = ''): Html {
  return h`${outcome}<form class="card" method="post" action="/card/kiosk/scan/verify">${token}<p class="big">请患者出示电子健康码</p>
<p class="muted">扫码枪会把码值输入下框；也可手工粘贴。</p>
${hiddenInput('appId', appId)}<label for="ehealthCode">健康码</label>
<input id="ehealthCode" name="ehealthCode" autocomplete="off" autofocus value="">
<div class="actions"><button type="submit">核验</button></div></form>${HOME}`;
}

/** The response code stays in an attribute for support staff; the person at the kiosk reads Chinese only. */
export function scanRefused(respCode: string, respMsg: string): Html {
  const attrs = h`id="kiosk-status" data-status="refused" data-resp-code="${respCode}" role="alert"`;
  return h`<div class="notice bad" ${attrs}>核验未通过：${respMsg}</div>`;
}

export function scanSucceeded(p: KioskPatient): Html {
  return h`<div class="notice ok" id="kiosk-status" data-status="succ"><p class="big">核验成功</p>
${patientLine(p)}</div>`;
}
