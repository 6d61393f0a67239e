/**
 * Technical strings stored for the logs (a callback attempt's detail, an error's message) turned into the
 * Chinese an operator reads. The stored text stays as it is; only what is shown changes.
 */
const RULES: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^(success|ok)$/, () => '医院已确认收到'],
  [/ECONNREFUSED/, () => '无法连接医院的回调地址（连接被拒绝）'],
  [/ENOTFOUND|EAI_AGAIN/, () => '回调地址的主机名无法解析'],
  [/ECONNRESET|socket hang up/i, () => '连接被医院一方中断'],
  [/^timeout$|TimeoutError|ETIMEDOUT/, () => '医院未在规定时间内应答'],
  [/refused by address policy|not allowed|blocked/i, () => '回调地址不在允许范围内，未发送'],
  [/^HTTP (\d{3})/, (m) => `医院接口返回错误（HTTP ${m[1]}）`],
  [/^hospital answered state=(\S*) ?(.*)$/, (m) => `医院未接受该回调${m[2] ? `：${m[2]}` : ''}`],
  [/^respCode \d{6} (.*)$/, (m) => `医院应答错误：${m[1]}`],
  [/^gave up after (\d+) attempts/, (m) => `已尝试 ${m[1]} 次，停止自动重试`],
  [/^\d{6} (.+)$/, (m) => m[1]!],
];

/** A callback attempt's stored detail in plain Chinese; unknown text becomes a generic sentence, never raw. */
export function readableDetail(detail: string | null | undefined): string {
  if (!detail) return '';
  const text = detail.replace(/ \(\d+ ms\)$/, '');
  for (const [re, say] of RULES) {
    const m = re.exec(text);
    if (m) return say(m);
  }
  return /[\u4e00-\u9fff]/.test(text) ? text : '回调失败（详细原因见系统日志）';
}
