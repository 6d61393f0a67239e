import { h, page, type Html } from './html.js';

/**
 * The front door: one entry for each kind of visitor (患者, 医疗机构, 运营), then a footer. The interfaces are
 * described in /docs; the landing page is for people, not a status listing.
 */
const CSS = `
.entries{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem;margin:1rem 0}
.entry h2{font-size:1.1rem;margin:0 0 .3rem}.entry p{margin:.3rem 0}
.entry .button{margin-top:.5rem}
.entry ul{margin:.3rem 0;padding-left:1.1rem}
.intro{margin:0 0 .5rem}
footer.site{border-top:1px solid #e5e7eb;margin-top:2rem;padding:1rem;text-align:center;color:#4b5563;font-size:.85rem}
footer.site a{color:#0f5fa8}
`;

function entry(id: string, title: string, text: string, links: Html): Html {
  return h`<section class="card entry" id="${id}"><h2>${title}</h2><p class="muted">${text}</p>${links}</section>`;
}

export function siteFooter(): Html {
  return h`<footer class="site" id="site-footer"><p>主办单位：福建省卫生健康委员会 · 服务热线：12320</p>
<p><a href="/card/terms">用户协议</a> · <a href="/card/privacy">隐私政策</a> · <a href="/docs">接口文档</a></p>
<p>福建省诊疗失信人员信息管理系统</p></footer>`;
}

/** `kiosk`: the kiosk demo exists only in a sandbox, so only a sandbox links to it. */
export function landingPage(o: { kiosk: boolean }): string {
  const body = h`<p class="intro">先诊后付：就医时先看病、后付费。本系统登记未按时结清的医疗费用，帮助患者了解和结清欠费，
帮助医疗机构判断能否先诊后付。</p>
<div class="entries">
${entry(
  'entry-patient',
  '我是患者',
  '领取电子健康卡、出示电子健康码、查看和缴纳医疗欠费。',
  h`<ul><li>查看欠费记录：请在“闽政通”或就诊医院的公众号中进入“医疗欠费名单”</li></ul>
<a class="button" href="/card">我的电子健康卡</a>`,
)}
${entry(
  'entry-hospital',
  '我是医疗机构',
  '机构工作人员登录后查看本机构上报的记录、答复患者申诉；信息科按接口文档对接。',
  h`<a class="button" href="/console/login">机构工作人员登录</a> <a class="button secondary" href="/docs">接口文档</a>
${o.kiosk ? h`<p><a href="/card/kiosk">自助机演示（测试环境）</a></p>` : ''}`,
)}
${entry(
  'entry-operator',
  '我是运营人员',
  '管理机构与凭证、处理申诉、查看回调与审计记录。需要动态口令。',
  h`<a class="button" href="/console/login">运营管理后台</a>`,
)}
</div>`;
  return page({ title: '福建省诊疗失信人员信息管理系统', body: h`${body}${siteFooter()}`, css: CSS });
}
