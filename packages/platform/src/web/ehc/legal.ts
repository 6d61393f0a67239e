import type { FastifyInstance } from 'fastify';
import { h, type Html } from '../html.js';
import { sendPage } from './common.js';

/**
 * 用户协议 and 隐私政策 of the e-health-card pages, linked from the consent box at 领卡. Plain statements of
 * what the service stores and why; an operator replaces the wording with the provider's approved text.
 */
const TERMS: Html = h`<div class="card"><p class="big">电子健康卡用户协议</p>
<ol>
<li>电子健康卡由福建省卫生健康主管部门统一管理，用于就医时识别身份、查询和登记“先诊后付”相关记录。</li>
<li>请使用本人真实身份领卡。冒用他人身份领卡或授权，将承担相应法律责任。</li>
<li>医疗机构只有在您同意授权后，才能获得您的电子健康卡信息；您可以拒绝授权。</li>
<li>电子健康码每分钟更新，请勿截图转发给他人。</li>
</ol><p><a href="/card">返回</a></p></div>`;

const PRIVACY: Html = h`<div class="card"><p class="big">隐私政策</p>
<p>我们收集的信息：姓名、证件类型及号码、手机号，以及由此生成的电子健康卡号、性别和出生日期。</p>
<p>用途：识别您的身份、在您授权时向医疗机构提供卡信息、查询和登记您的医疗欠费记录。不用于其他用途。</p>
<p>保存方式：个人信息加密保存，只有经授权的工作人员在履行职责时可以查看，每次查看都有审计记录。</p>
<p>您的权利：您可以查询自己的记录，对有误的记录提出申诉。</p>
<p><a href="/card">返回</a></p></div>`;

export function legalRoutes(app: FastifyInstance): void {
  app.get('/card/terms', async (_req, reply) => sendPage(reply, '用户协议', TERMS));
  app.get('/card/privacy', async (_req, reply) => sendPage(reply, '隐私政策', PRIVACY));
}
