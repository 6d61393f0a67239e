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
import { consolePage, csrfField, field, notice, REGIONS, regionName, str, tag, time, type FieldOpts } from './layout.js';
import { redirectToOnce } from './show-once.js';
import { alertCard, card, cells, definitionList, postForm, scrollTable } from './components.js';
import type { ConsoleReader } from '../../domain/console/reader.js';
import { institutionFactorForm } from './second-factor.js';
import { channelList } from '../channels.js';
import { parseChannels } from '../../domain/citizen/records.js';
import { AppParams, Fields, FormBody, OrgParams } from '../route-schemas.js';

type InstitutionRow = Awaited<ReturnType<ConsoleReader['institutions']>>[number];
type InstitutionFound = NonNullable<Awaited<ReturnType<ConsoleReader['institution']>>>;
type Institution = InstitutionFound['inst'];
type AppRow = InstitutionFound['apps'][number];

const INSTITUTION_HEADINGS = ['机构编码', '名称', '地区', '接口地址', '有效凭证', '更新时间'];

function institutionRow(r: InstitutionRow): Html {
  const link = h`<a href="/console/institutions/${encodeURIComponent(r.org_id)}">${r.org_id}</a>`;
  const endpoint = { wrap: r.endpoint_url ?? '' };
  return h`<tr>${cells(link, r.org_name, regionName(r.region), endpoint, Number(r.active_apps ?? 0), time(r.updated_at))}</tr>`;
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

const REGION_OPTIONS: [string, string][] = [['', '（未登记）'], ...REGIONS.map(([c, n]): [string, string] => [c, `${n}（${c}）`])];

const HINTS = {
  endpointUrl: '例如 https://his.example.org，平台调用 {地址}/qmdl/getOverdueResult',
  notifyHosts: '每行一个主机名；生产凭证的 notifyUrl 只能指向这些主机',
  ports: '用逗号分隔，如 443, 8443；留空为 443 和 80。平台只向这些端口发起 ORG_001 调用和回调',
  paymentChannels: '每行一个：类型|名称|内容，类型为 phone（电话）/ online（网址）/ address（地点）/ other',
};

function institutionForm(actor: Actor, f: InstitutionForm, errors: FieldErrors, isNew: boolean): Html {
  const action = isNew ? '/console/institutions' : `/console/institutions/${encodeURIComponent(f.orgId)}`;
  const input = (name: keyof InstitutionForm, label: string, more: Partial<FieldOpts> = {}) =>
    field({ label, name, value: f[name], error: errors[name], ...more });
  const orgId = isNew ? input('orgId', '机构编码（orgId）', { required: true }) : h`<input type="hidden" name="orgId" value="${f.orgId}">`;
  return postForm(
    { action, csrf: csrfField(actor), className: 'card', id: 'institution-form', novalidate: true },
    h`
${orgId}
${input('orgName', '机构名称', { required: true })}
${input('region', '所属地区', { options: REGION_OPTIONS })}
${input('endpointUrl', '机构接口地址（ORG_001 等）', { hint: HINTS.endpointUrl })}
${input('notifyHosts', '允许的回调主机', { textarea: true, hint: HINTS.notifyHosts })}
${input('ports', '允许平台调用的端口', { hint: HINTS.ports })}
${input('paymentChannels', '向患者展示的缴费渠道', { textarea: true, hint: HINTS.paymentChannels })}
<p><button type="submit">${isNew ? '创建机构' : '保存修改'}</button></p>`,
  );
}

/** 更换密钥 and 停用 ask first: either cuts the institution off until it installs the new secret. */
function appActions(actor: Actor, appId: string, active: boolean): Html {
  const rotate = { text: `更换 ${appId} 的密钥？旧密钥立即失效，机构在换上新密钥之前的所有调用都会被拒绝。`, ok: '更换密钥' };
  const disable = { text: `停用凭证 ${appId}？停用后该凭证的所有接口调用都会被拒绝。`, ok: '停用' };
  const csrf = csrfField(actor);
  const rotateForm = postForm(
    { action: `/console/apps/${appId}/rotate`, csrf, className: 'inline', confirm: rotate },
    h`
<button class="small secondary" type="submit">更换密钥</button>`,
  );
  const statusForm = postForm(
    { action: `/console/apps/${appId}/status`, csrf, className: 'inline', confirm: active ? disable : undefined },
    h`
<input type="hidden" name="status" value="${active ? 'disabled' : 'active'}">
<button class="small ${active ? 'danger' : ''}" type="submit">${active ? '停用' : '启用'}</button>`,
  );
  return h`${rotateForm}
${statusForm}`;
}

/** The institution as a reader sees it (auditors and staff; operators get the form instead). */
function institutionFacts(inst: Institution, f: InstitutionForm): Html {
  const facts = definitionList([
    ['机构编码', inst.org_id],
    ['名称', inst.org_name],
    ['地区', regionName(inst.region)],
    ['接口地址', inst.endpoint_url ?? '（未登记）'],
    ['回调主机', f.notifyHosts.replace(/\n/g, '，') || '（无）'],
    ['调用端口', f.ports || '443、80（默认）'],
    ['缴费渠道', channelList(parseChannels(inst.payment_channels))],
  ]);
  return card('', facts);
}

const APP_HEADINGS = ['appId', '环境', '备注', '状态', '签发时间', '更新时间', ''];

function appRow(a: AppRow, actions: Html | ''): Html {
  const status = a.status === 'active' ? tag('有效', 'ok') : tag('已停用', 'bad');
  return h`<tr>${cells(h`<code>${a.app_id}</code>`, a.env === 'prod' ? '生产' : '测试', a.label ?? '')}
${cells(status, time(a.created_at), time(a.updated_at), actions)}</tr>`;
}

/** Production is the default; a test credential (PLAIN allowed) can be made on a sandbox only. */
function newAppForm(actor: Actor, orgId: string, sandbox: boolean): Html {
  const envs = h`<option value="prod" selected>生产</option>${sandbox ? h`<option value="test">测试</option>` : ''}`;
  const action = `/console/institutions/${encodeURIComponent(orgId)}/apps`;
  return postForm(
    { action, csrf: csrfField(actor), className: 'filters', id: 'new-app' },
    h`
<label>环境 <select name="env">${envs}</select></label>
<label>备注 <input name="label" maxlength="60"></label><button type="submit">签发新凭证</button>`,
  );
}

function institutionBody(actor: Actor, found: InstitutionFound, o: { saved: boolean; sandbox: boolean }): Html {
  const { inst, apps } = found;
  const f = institutionToForm(inst);
  const canEdit = actor.role === 'operator';
  const rows = apps.map((a) => appRow(a, canEdit ? appActions(actor, a.app_id, a.status === 'active') : ''));
  const org = encodeURIComponent(inst.org_id);
  return h`${o.saved ? notice('已保存。') : ''}
${canEdit ? institutionForm(actor, f, {}, false) : institutionFacts(inst, f)}
${institutionFactorForm(actor, inst.org_id, inst.require_totp)}
<h3>接口凭证</h3>${canEdit ? newAppForm(actor, inst.org_id, o.sandbox) : ''}
${scrollTable('apps', APP_HEADINGS, rows)}
<p><a href="/console/batches?orgId=${org}">查看该机构的批次</a> · <a href="/console/items?orgId=${org}">欠费记录</a></p>`;
}

export async function institutionRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db, vault } = platform;

  app.get('/institutions', async (req, reply) => {
    const actor = actorOf(req);
    const rows = await readerOf(platform, req).institutions();
    const add = h`<p><a class="button" href="/console/institutions/new" id="new-institution">新增机构</a></p>`;
    const body = h`${actor.role === 'operator' ? add : ''}
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
          body: h`${alertCard('请修改标红的项目。')}${institutionForm(actor, f, errors, isNew)}`,
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
    const body = institutionBody(actor, found, { saved: Boolean(req.query.saved), sandbox: platform.config.deployment === 'sandbox' });
    const title = `${found.inst.org_name}（${found.inst.org_id}）`;
    return html(reply, consolePage(actor, { title, active: '/console/institutions', body }));
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
