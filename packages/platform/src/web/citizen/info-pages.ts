import { HOW_TO_ENTER, infoPage } from './views.js';

/**
 * The citizen app's answers when there is nothing to show: what happened and what to do next, in the words the
 * routes of plugin.ts and card-phone.ts share.
 */
export function noSessionPage(ttlMin: number): string {
  const why = `为保护您的个人信息，欠费记录只能从闽政通或医院的线上门户进入查看；停留超过 ${ttlMin} 分钟也需要重新进入。`;
  return infoPage('请从入口进入', why, HOW_TO_ENTER);
}

/** Why an entry link did not open a session, with its HTTP status. */
export function entryRefusedPage(why: string | undefined, ttlMin: number): { status: number; html: string } {
  if (why === 'expired') {
    return { status: 410, html: infoPage('链接已过期', `这个入口链接的有效期已过（${ttlMin} 分钟内有效）。`, HOW_TO_ENTER) };
  }
  if (why === 'used') {
    const next = `${HOW_TO_ENTER}如非本人操作，请留意个人信息安全。`;
    return { status: 410, html: infoPage('链接已被使用', '这个入口链接只能打开一次，已在其他地方打开过。', next) };
  }
  return { status: 404, html: infoPage('链接无效', '这个入口链接不完整或不正确。', HOW_TO_ENTER) };
}

export const RECORD_NOT_FOUND = infoPage('记录不存在', '没有找到这条记录。', '请返回“我的记录”重新选择。');

/** A form without this session's CSRF token. */
export const STALE_FORM = infoPage('页面已失效', '页面已过期，请返回后重试。', '返回“我的记录”重新操作。');

export const LOGGED_OUT = infoPage('已退出', '您已安全退出。', HOW_TO_ENTER);

export const CANNOT_GIVE_PHONE = infoPage(
  '无法绑定',
  '只有从“闽政通”进入、且电子健康卡尚未登记手机号时，才能在这里绑定手机号。',
  '已登记的手机号不能在这里更改。',
);
