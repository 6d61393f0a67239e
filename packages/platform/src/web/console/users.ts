import { h, type Html } from '../html.js';
import {
  changePassword,
  createUser,
  ROLE_TEXT,
  UserInputError,
  newUserProblems,
  type Actor,
  type Role,
} from '../../domain/console/auth.js';
import { actorOf, html, need, SESSION_COOKIE, type ConsoleContext } from './context.js';
import { consolePage, csrfField, field, notice, type FieldOpts, num, str, tag, time } from './layout.js';
import { cells, postForm, scrollTable } from './components.js';
import { errorSummary, firstError } from '../form.js';
import { consoleReader } from '../../domain/console/reader.js';
import { setUserStatus } from '../../domain/console/users.js';
import { listInstitutions } from '../../domain/console/institutions.js';
import { redirectToOnce } from './show-once.js';
import { tokenHash } from '../../domain/bearer-token.js';
import { FormBody, IdParams } from '../route-schemas.js';

/** 停用 asks first (it ends the person's sessions at once); 解锁 and 启用 do not take anything away. */
function statusForm(actor: Actor, id: number, username: string, active: boolean, locked: boolean): Html {
  const disabling = active && !locked;
  const text = active ? (locked ? '解锁' : '停用') : '启用';
  const confirm = { text: `停用账户 ${username}？该账户将立即退出登录，且不能再登录，直到重新启用。`, ok: '停用' };
  const form = {
    action: `/console/users/${id}/status`,
    csrf: csrfField(actor),
    className: 'inline',
    confirm: disabling ? confirm : undefined,
  };
  return postForm(
    form,
    h`<input type="hidden" name="status" value="${disabling ? 'disabled' : 'active'}">
<button class="small ${disabling ? 'danger' : 'secondary'}" type="submit">${text}</button>`,
  );
}

const USER_HEADINGS = ['用户名', '角色', '机构', '状态', '最近登录', '创建时间', '操作'];

type UserRow = Awaited<ReturnType<ReturnType<typeof consoleReader>['users']>>[number];

/** One account; every account but the viewer's own can be disabled, unlocked or enabled. */
function userRow(actor: Actor, u: UserRow, names: Map<string, string>, now: number): Html {
  const locked = Boolean(u.locked_until && u.locked_until.getTime() > now);
  const status = u.status === 'active' ? (locked ? tag('已锁定', 'warn') : tag('正常', 'ok')) : tag('已停用', 'bad');
  const action = u.id !== actor.userId ? statusForm(actor, u.id, u.username, u.status === 'active', locked) : '';
  const org = u.org_id ? (names.get(u.org_id) ?? u.org_id) : '';
  return h`<tr>${cells(u.username, ROLE_TEXT[u.role], org)}
${cells(status, time(u.last_login_at), time(u.created_at), action)}</tr>`;
}

const PASSWORD_HINT = '至少 10 位，含大小写字母、数字、符号中的三类';

const USER_FIELDS = ['username', 'role', 'orgId', 'password'] as const;

function userForm(
  actor: Actor,
  values: Record<string, string>,
  errors: Record<string, string>,
  institutions: { org_id: string; org_name: string }[],
): Html {
  const first = firstError(errors, USER_FIELDS);
  const orgs: [string, string][] = [
    ['', '（运营、审计人员不选）'],
    ...institutions.map((i): [string, string] => [i.org_id, `${i.org_name}（${i.org_id}）`]),
  ];
  const input = (name: (typeof USER_FIELDS)[number], label: string, more: Partial<FieldOpts> = {}) =>
    field({ label, name, value: values[name], error: errors[name], focus: first === name, ...more });
  const roles = Object.entries(ROLE_TEXT) as [string, string][];
  const password = { type: 'password', hint: PASSWORD_HINT, attrs: 'autocomplete="new-password"' };
  const form = { action: '/console/users', csrf: csrfField(actor), className: 'card', id: 'user-form', novalidate: true };
  return postForm(
    form,
    h`<h3>新建账户</h3>
${errorSummary(errors, errors.form)}<div class="row">
${input('username', '用户名')}
${input('role', '角色', { options: roles })}
${input('orgId', '所属机构（医疗机构人员必选）', { options: orgs })}
${input('password', '初始密码', password)}
</div><p><button type="submit">创建</button></p>`,
  );
}

function passwordForm(actor: Actor, errors: Record<string, string>): Html {
  const password = (label: string, name: string, autocomplete: string, hint?: string) =>
    field({ label, name, type: 'password', error: errors[name], hint, attrs: `autocomplete="${autocomplete}"` });
  const form = { action: '/console/password', csrf: csrfField(actor), className: 'card', id: 'password-form', novalidate: true };
  return postForm(
    form,
    h`
${password('当前密码', 'current', 'current-password')}
${password('新密码', 'next', 'new-password', PASSWORD_HINT)}
${password('再次输入新密码', 'confirm', 'new-password')}
<p><button type="submit">修改密码</button></p>`,
  );
}

/** Accounts (operators only): create auditors, institution staff and other operators; unlock; disable. */
export async function userRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db } = platform;
  const render = async (actor: Actor, values: Record<string, string> = {}, errors: Record<string, string> = {}) => {
    const users = await consoleReader(platform, actor).users();
    const now = platform.now();
    const institutions = await listInstitutions(db, undefined);
    const names = new Map(institutions.map((i) => [i.org_id, i.org_name]));
    const body = h`
${scrollTable(
  'users',
  USER_HEADINGS,
  users.map((u) => userRow(actor, u, names, now)),
)}
${userForm(actor, values, errors, institutions)}`;
    return consolePage(actor, { title: '账户', active: '/console/users', body });
  };

  app.get('/users', async (req, reply) => html(reply, await render(need(req, 'operator'))));

  app.post('/users', { schema: { body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const b = req.body ?? {};
    const values = { username: str(b.username).trim(), role: str(b.role), orgId: str(b.orgId).trim() };
    const input = { username: values.username, role: values.role as Role, orgId: values.orgId || null, password: str(b.password) };
    const problems = newUserProblems(input);
    if (Object.keys(problems).length) return html(reply, await render(actor, values, problems), 400);
    try {
      const r = await createUser(
        platform,
        { username: values.username, role: values.role as Role, orgId: values.orgId || null, password: str(b.password) },
        actor.username,
      );
      const view = { kind: 'user' as const, username: r.user.username, role: r.user.role, totpSecret: r.totpSecret, otpauth: r.otpauth };
      return redirectToOnce(platform, reply, actor, view);
    } catch (e) {
      if (!(e instanceof UserInputError)) throw e;
      return html(reply, await render(actor, values, { [e.field ?? 'form']: e.message }), 400);
    }
  });

  app.post('/users/:id/status', { schema: { params: IdParams, body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const id = num(req.params.id);
    const status = str((req.body ?? {}).status) === 'active' ? 'active' : 'disabled';
    if (id === undefined || id === actor.userId) return reply.redirect('/console/users', 303);
    await setUserStatus(platform, actor, id, status);
    return reply.redirect('/console/users', 303);
  });

  const passwordPage = (actor: Actor, errors: Record<string, string> = {}, done = false) => {
    const body = h`${done ? notice('密码已修改，其他设备上的登录已退出。') : ''}
${passwordForm(actor, errors)}`;
    return consolePage(actor, { title: '修改密码', active: '', body });
  };

  app.get('/password', async (req, reply) => html(reply, passwordPage(actorOf(req))));

  app.post('/password', { schema: { body: FormBody } }, async (req, reply) => {
    const actor = actorOf(req);
    const b = req.body ?? {};
    const errors = await changePassword(platform, actor, {
      current: str(b.current),
      next: str(b.next),
      confirm: str(b.confirm),
      keepTokenHash: tokenHash(req.cookies[SESSION_COOKIE] ?? ''),
    });
    const ok = Object.keys(errors).length === 0;
    return html(reply, passwordPage(actor, errors, ok), ok ? 200 : 400);
  });
}
