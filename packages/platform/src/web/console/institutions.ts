import type { FastifyReply } from 'fastify';
import { h, type Html } from '../html.js';
import type { Actor } from '../../domain/console/auth.js';
import { institutionToForm, parseInstitutionForm, type FieldErrors, type InstitutionForm } from '../../domain/console/institutions.js';
import {
  createApp,
  findApp,
  institutionName,
  rotateApp,
  setAppStatus,
  updateInstitution,
  upsertInstitution,
  type ChangedBy,
} from '../../domain/credentials.js';
import { DeploymentError } from '../../domain/deployment.js';
import { actorOf, type ConsoleContext, ConsoleHttpError, html, need, notFound, readerOf } from './context.js';
import { consolePage, csrfField, field, REGIONS, regionName, str, tag, time } from './layout.js';
import { redirectToOnce } from './show-once.js';
import { cells, scrollTable } from './components.js';
import type { ConsoleReader } from '../../domain/console/reader.js';
import { institutionFactorForm } from './second-factor.js';
import { channelList } from '../channels.js';
import { parseChannels } from '../../domain/citizen/records.js';
import { AppParams, Fields, FormBody, OrgParams } from '../route-schemas.js';

type InstitutionRow = Awaited<ReturnType<ConsoleReader['institutions']>>[number];

const INSTITUTION_HEADINGS = ['机构编码', '名称', '地区', '接口地址', '有效凭证', '更新时间'];

function institutionRow(r: InstitutionRow): Html {
  const link = h`<a href="/console/institutions/${encodeURIComponent(r.org_id)}">${r.org_id}</a>`;
  return h`<tr>${cells(link, r.org_name, regionName(r.region), { wrap: r.endpoint_url ?? '' }, Number(r.active_apps ?? 0), time(r.updated_at))}</tr>`;
}

const EMPTY: InstitutionForm = { orgId: '', orgName: '', region: '', endpointUrl: '', notifyHosts: '', paymentChannels: '', ports: '' };

function formOf(body: FormBody): InstitutionForm {
  const b = body ?? {};
  return {
    orgId: str(b.orgId),
    orgName: str(b.orgName),
    region: str(b.region),
    endpointUrl: str(b.endpointUrl),
    notifyHosts: str(b.notifyHosts),
    paymentChannels: str(b.paymentChannels),
    ports: str(b.ports),
  };
}

function institutionForm(actor: Actor, f: InstitutionForm, errors: FieldErrors, isNew: boolean): Html {
  const action = isNew ? '/console/institutions' : `/console/institutions/${encodeURIComponent(f.orgId)}`;
  return h`<form method="post" action="${action}" class="card" id="institution-form" novalidate>${csrfField(actor)}
${isNew ? field({ label: '机构编码（orgId）', name: 'orgId', value: f.orgId, error: errors.orgId, required: true }) : h`<input type="hidden" name="orgId" value="${f.orgId}">`}
${field({ label: '机构名称', name: 'orgName', value: f.orgName, error: errors.orgName, required: true })}
${field({ label: '所属地区', name: 'region', value: f.region, error: errors.region, options: [['', '（未登记）'], ...REGIONS.map(([c, n]): [string, string] => [c, `${n}（${c}）`])] })}
${field({ label: '机构接口地址（ORG_001 等）', name: 'endpointUrl', value: f.endpointUrl, error: errors.endpointUrl, hint: '例如 https://his.example.org，平台调用 {地址}/qmdl/getOverdueResult' })}
${field({ label: '允许的回调主机', name: 'notifyHosts', value: f.notifyHosts, error: errors.notifyHosts, textarea: true, hint: '每行一个主机名；生产凭证的 notifyUrl 只能指向这些主机' })}
${field({ label: '允许平台调用的端口', name: 'ports', value: f.ports, error: errors.ports, hint: '用逗号分隔，如 443, 8443；留空为 443 和 80。平台只向这些端口发起 ORG_001 调用和回调' })}
${field({ label: '向患者展示的缴费渠道', name: 'paymentChannels', value: f.paymentChannels, error: errors.paymentChannels, textarea: true, hint: '每行一个：类型|名称|内容，类型为 phone（电话）/ online（网址）/ address（地点）/ other' })}
<p><button type="submit">${isNew ? '创建机构' : '保存修改'}</button></p></form>`;
}

/** 更换密钥 and 停用 ask first: either cuts the institution off until it installs the new secret. */
function appActions(actor: Actor, appId: string, active: boolean): Html {
  const rotate = `更换 ${appId} 的密钥？旧密钥立即失效，机构在换上新密钥之前的所有调用都会被拒绝。`;
  const disable = `停用凭证 ${appId}？停用后该凭证的所有接口调用都会被拒绝。`;
  return h`<form class="inline" method="post" action="/console/apps/${appId}/rotate" data-confirm="${rotate}" data-confirm-ok="更换密钥">${csrfField(actor)}
<button class="small secondary" type="submit">更换密钥</button></form>
<form class="inline" method="post" action="/console/apps/${appId}/status"${active ? h` data-confirm="${disable}" data-confirm-ok="停用"` : ''}>${csrfField(actor)}
<input type="hidden" name="status" value="${active ? 'disabled' : 'active'}">
<button class="small ${active ? 'danger' : ''}" type="submit">${active ? '停用' : '启用'}</button></form>`;
}

export async function institutionRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db, vault } = platform;

  app.get('/institutions', async (req, reply) => {
    const actor = actorOf(req);
    const rows = await readerOf(platform, req).institutions();
    const body = h`${actor.role === 'operator' ? h`<p><a class="button" href="/console/institutions/new" id="new-institution">新增机构</a></p>` : ''}
${scrollTable('institutions', INSTITUTION_HEADINGS, rows.map(institutionRow))}`;
    return html(reply, consolePage(actor, { title: '机构与凭证', active: '/console/institutions', body }));
  });

  app.get('/institutions/new', async (req, reply) => {
    const actor = need(req, 'operator');
    return html(
      reply,
      consolePage(actor, { title: '新增机构', active: '/console/institutions', body: institutionForm(actor, EMPTY, {}, true) }),
    );
  });

  const saveInstitution = async (actor: Actor, f: InstitutionForm, isNew: boolean, reply: FastifyReply) => {
    const { input, errors } = parseInstitutionForm(f, isNew);
    if (input && isNew) {
      if ((await institutionName(db, input.orgId)) !== undefined) errors.orgId = '该机构编码已存在';
    }
    if (!input || Object.keys(errors).length) {
      return html(
        reply,
        consolePage(actor, {
          title: isNew ? '新增机构' : `机构 ${f.orgId}`,
          active: '/console/institutions',
          body: h`<div class="card bad" role="alert">请修改标红的项目。</div>${institutionForm(actor, f, errors, isNew)}`,
        }),
        400,
      );
    }
    // The domain audits the change (institution.create / institution.update).
    if (isNew) await upsertInstitution(db, input, byOperator(actor));
    else await updateInstitution(db, input, new Date(platform.now()), byOperator(actor));
    return reply.redirect(`/console/institutions/${encodeURIComponent(input.orgId)}?saved=1`, 303);
  };

  app.post('/institutions', { schema: { body: FormBody } }, async (req, reply) =>
    saveInstitution(need(req, 'operator'), formOf(req.body), true, reply),
  );

  app.post('/institutions/:orgId', { schema: { params: OrgParams, body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const found = await readerOf(platform, req).institution(req.params.orgId);
    if (!found) notFound('机构');
    return saveInstitution(actor, { ...formOf(req.body), orgId: found.inst.org_id }, false, reply);
  });

  app.get('/institutions/:orgId', { schema: { params: OrgParams, querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const found = await readerOf(platform, req).institution(req.params.orgId);
    if (!found) notFound('机构');
    const { inst, apps } = found;
    const f = institutionToForm(inst);
    const canEdit = actor.role === 'operator';
    const q = req.query;
    const details = h`<div class="card"><dl class="kv"><dt>机构编码</dt><dd>${inst.org_id}</dd><dt>名称</dt><dd>${inst.org_name}</dd>
<dt>地区</dt><dd>${regionName(inst.region)}</dd><dt>接口地址</dt><dd>${inst.endpoint_url ?? '（未登记）'}</dd>
<dt>回调主机</dt><dd>${f.notifyHosts.replace(/\n/g, '，') || '（无）'}</dd><dt>调用端口</dt><dd>${f.ports || '443、80（默认）'}</dd><dt>缴费渠道</dt><dd>${channelList(parseChannels(inst.payment_channels))}</dd></dl></div>`;
    const appRows = apps.map(
      (a) => h`<tr><td><code>${a.app_id}</code></td><td>${a.env === 'prod' ? '生产' : '测试'}</td><td>${a.label ?? ''}</td>
<td>${a.status === 'active' ? tag('有效', 'ok') : tag('已停用', 'bad')}</td><td>${time(a.created_at)}</td><td>${time(a.updated_at)}</td>
<td>${canEdit ? appActions(actor, a.app_id, a.status === 'active') : ''}</td></tr>`,
    );
    // Production is the default; a test credential (PLAIN allowed) can be made on a sandbox only.
    const sandbox = platform.config.deployment === 'sandbox';
    const newApp = canEdit
      ? h`<form method="post" action="/console/institutions/${encodeURIComponent(inst.org_id)}/apps" class="filters" id="new-app">${csrfField(actor)}
<label>环境 <select name="env"><option value="prod" selected>生产</option>${sandbox ? h`<option value="test">测试</option>` : ''}</select></label>
<label>备注 <input name="label" maxlength="60"></label><button type="submit">签发新凭证</button></form>`
      : '';
    const body = h`${q.saved ? h`<div class="card ok" role="status">已保存。</div>` : ''}
${canEdit ? institutionForm(actor, f, {}, false) : details}
${institutionFactorForm(actor, inst.org_id, inst.require_totp)}
<h3>接口凭证</h3>${newApp}
<div class="tablewrap" tabindex="0" role="region" aria-label="表格，可左右滚动"><table class="data" id="apps"><thead><tr><th>appId</th><th>环境</th><th>备注</th><th>状态</th><th>签发时间</th><th>更新时间</th><th></th></tr></thead>
<tbody>${appRows}</tbody></table></div>
<p><a href="/console/batches?orgId=${encodeURIComponent(inst.org_id)}">查看该机构的批次</a> · <a href="/console/items?orgId=${encodeURIComponent(inst.org_id)}">欠费记录</a></p>`;
    return html(reply, consolePage(actor, { title: `${inst.org_name}（${inst.org_id}）`, active: '/console/institutions', body }));
  });

  app.post('/institutions/:orgId/apps', { schema: { params: OrgParams, body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const found = await readerOf(platform, req).institution(req.params.orgId);
    if (!found) notFound('机构');
    const b = req.body ?? {};
    const env = str(b.env) === 'test' ? 'test' : 'prod';
    if (env === 'test' && platform.config.deployment !== 'sandbox')
      throw new ConsoleHttpError(400, '正式环境（生产部署）不能签发测试凭证：测试凭证只存在于测试环境');
    const label = str(b.label).trim().slice(0, 60) || undefined;
    const r = await createApp(db, vault, { kind: 'institution', orgId: found.inst.org_id, env, label }, byOperator(actor));
    const view = { kind: 'app' as const, orgId: found.inst.org_id, appId: r.appId, secret: r.secret, rotated: false };
    return redirectToOnce(platform, reply, actor, view);
  });

  const appOf = (appId: string) => findApp(db, appId);

  app.post('/apps/:appId/rotate', { schema: { params: AppParams, body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const a = await appOf(req.params.appId);
    if (!a) notFound('凭证');
    const secret = (await rotateApp(db, vault, a.app_id, byOperator(actor)))!;
    platform.credentials.forget(a.app_id);
    return redirectToOnce(platform, reply, actor, { kind: 'app', orgId: a.org_id ?? '', appId: a.app_id, secret, rotated: true });
  });

  app.post('/apps/:appId/status', { schema: { params: AppParams, body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const a = await appOf(req.params.appId);
    if (!a) notFound('凭证');
    const status = str((req.body ?? {}).status) === 'active' ? 'active' : 'disabled';
    await setAppStatus(db, a.app_id, status, byOperator(actor)).catch((e: unknown) => {
      if (e instanceof DeploymentError) throw new ConsoleHttpError(400, e.message);
      throw e;
    });
    platform.credentials.forget(a.app_id);
    return reply.redirect(`/console/institutions/${encodeURIComponent(a.org_id ?? '')}?saved=1`, 303);
  });
}

function byOperator(actor: Actor): ChangedBy {
  return { actorType: 'operator', actorId: actor.username };
}
