import { epochMsToChinaTime } from '@mdl/protocol';

/**
 * The one dictionary of audit words shown to people: action codes, actor kinds and outcomes in Chinese, for
 * the audit page and its CSV alike. A code missing here is shown as 其他操作 with the code beside it, so a new
 * action is still readable (and the test that walks every action found in the data notices it).
 */
export const ACTION_TEXT: Record<string, string> = {
  'appeal.answer': '机构答复申诉',
  'appeal.file': '患者提交申诉',
  'appeal.reject': '驳回申诉',
  'appeal.uphold': '申诉成立（撤销记录）',
  'arrears.query': '查询先诊后付资格',
  'audit.export': '导出审计记录',
  'audit.read': '查询审计记录',
  'batch.report.accept': '接收上报批次',
  'batch.update.accept': '接收更新批次',
  'callback.deliver': '回调医院',
  'callback.failed': '回调最终失败',
  'callback.resend': '重新回调',
  'console.app.create': '签发凭证',
  'console.app.disable': '停用凭证',
  'console.app.enable': '启用凭证',
  'console.app.rotate': '更换凭证密钥',
  'console.appeal.view': '查看申诉',
  'console.batch.view': '查看批次',
  'console.callback.resend.bulk': '批量重发回调',
  'console.card_review.decide': '处理自助领卡复核',
  'console.card_review.list': '查看自助领卡复核',
  'console.csrf': '拒绝来源不明的表单',
  'console.institution.create': '新增机构',
  'console.institution.update': '修改机构',
  'console.items.view': '查看欠费记录',
  'console.login': '登录控制台',
  'console.logout': '退出控制台',
  'console.password.change': '修改密码',
  'console.session.expire': '会话超时结束',
  'console.user.create': '新建账户',
  'console.user.disable': '停用账户',
  'console.user.enable': '启用账户',
  'coverage.update': '调整费用覆盖范围',
  'credential.create': '签发凭证',
  'credential.disable': '停用凭证',
  'credential.enable': '启用凭证',
  'credential.rotate': '更换凭证密钥',
  'ehc.auth.allow': '患者同意授权',
  'ehc.auth.cancel': '患者拒绝授权',
  'ehc.auth.open': '发起电子健康卡授权',
  'ehc.auth.reveal': '机构获取授权结果',
  'ehc.card.csrf': '拒绝来源不明的电子健康卡表单',
  'ehc.card.phone': '经闽政通绑定电子健康卡手机号',
  'ehc.card.register': '领取电子健康卡',
  'ehc.card.review.open': '核验身份覆盖自助领卡（待复核）',
  'ehc.card.signin': '登录电子健康卡',
  'ehc.code.verify': '核验电子健康码',
  'ehc.lookup': '查询电子健康卡',
  'ehc.register': '登记主索引',
  'institution.create': '新增机构',
  'institution.update': '修改机构',
  'interface.refused': '拒绝接口调用',
  'item.refresh': '向医院核对记录状态',
  'item.report': '登记欠费记录',
  'item.update': '更新欠费记录',
  'mdr.link': '生成欠费名单入口',
  'mdr.open': '患者打开欠费名单',
  'notice.update': '向医院推送状态变更',
  'org001.call': '调用医院状态接口',
  'org001.invalid': '医院状态接口应答无效',
  'policy.update': '调整判定规则',
  'reminder.create': '生成缴费提醒',
  'reminder.push': '推送缴费提醒',
};

export const ACTOR_TEXT: Record<string, string> = {
  operator: '控制台用户',
  app: '接口调用方',
  institution: '医疗机构',
  channel: '渠道',
  citizen: '患者',
  system: '系统',
};

export const OUTCOME_TEXT: Record<string, string> = { ok: '成功', refused: '拒绝', error: '出错', failed: '失败' };

export function actionText(code: string): string {
  return ACTION_TEXT[code] ?? `其他操作（${code}）`;
}

export function actorText(kind: string, id: string): string {
  return `${ACTOR_TEXT[kind] ?? kind} ${id}`;
}

export function outcomeText(outcome: string): string {
  return OUTCOME_TEXT[outcome] ?? outcome;
}

const KEY_TEXT: Record<string, string> = {
  rows: '条数',
  action: '操作',
  person: '对象',
  filter: '条件',
  env: '环境',
  requested: '请求数',
  queued: '已排队',
  orgId: '机构',
  actor: '操作人',
  from: '开始',
  to: '结束',
};

/** Details are stored as JSON for machines; people read `键：值` pairs. */
export function detailText(detail: string | null): string {
  if (!detail) return '';
  try {
    const v = JSON.parse(detail) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${KEY_TEXT[k] ?? k}：${typeof x === 'object' ? JSON.stringify(x) : String(x)}`)
        .join('；');
    }
    return String(v);
  } catch {
    return detail;
  }
}

/** China time, as the page shows it. */
export function chinaTime(d: Date | string): string {
  return epochMsToChinaTime(new Date(d).getTime());
}
