/** Dictionaries of guide §5.1 and the code lists inside the interface tables. */

export const ID_TYPES = {
  '01': '居民身份证',
  '02': '居民户口簿',
  '03': '护照',
  '04': '军官证',
  '05': '驾驶证',
  '06': '港澳居民来往内地通行证',
  '07': '台湾居民来往内地通行证',
  '08': '出生医学证明',
  '10': '医保电子凭证',
  A1: '港澳居民居住证',
  A2: '台湾居民居住证',
  A3: '外国人永久居留证',
  '99': '其他法定有效证件',
} as const;

export const MED_TYPES = {
  '11': '普通门诊',
  '12': '门诊挂号',
  '13': '急诊',
  '14': '门诊慢特病',
  '21': '普通住院',
  '22': '外伤住院',
  '23': '转外诊治住院',
  '24': '急诊转住院',
  '41': '定点药店购药',
  '51': '生育门诊',
  '52': '生育住院',
  '53': '计划生育手术费',
  '91': '其他门诊',
  '92': '其他住院',
  '93': '其他购药',
  '99': '地方扩展医疗类别',
} as const;

export const BUSINESS_TYPES = {
  '01101': '挂号',
  '01102': '住院建档',
  '01103': '入院登记',
  '01104': '缴纳预缴金',
  '01201': '问诊',
  '01202': '预约检查',
  '01203': '检查',
  '01204': '治疗',
  '01301': '结算',
  '01302': '取药',
  '01303': '取报告',
  '01304': '打印票据和清单',
  '01305': '病历材料复印',
  '02121': '药店购药',
  '02122': '下载外购处方',
  '03131': '医疗类 APP 线上身份认证',
  '03132': '医疗类 APP 线上结算',
} as const;

export const RET_CODES = {
  '00': '成功',
  '01': '请求失败（非业务状态）',
  '02': '校验失败（非业务状态）',
  '03': '服务限流（可重试调用）',
  '99': '未知错误（状态未知）',
} as const;

export const USER_TYPES = { '01': '自费', '02': '医保', '03': '保健' } as const;
export const FEE_TYPES = { '01': '门诊', '02': '住院' } as const;
/** Item state: 0 unpaid, 1 paid, 2 revoked (§4.3.5.3). */
export const ITEM_STATES = { '0': '欠费', '1': '已缴清', '2': '撤销' } as const;
/** ORG_MDL_003 states (§4.3.3.2): 1 paid, 2 revoked. No `0`: 转实名 is done as docs/decisions.md "Real name" says. */
export const UPDATE_STATES = { '1': '已缴清', '2': '撤销' } as const;
export const NOTIFY_TYPES = { REPORT: '上报回调', UPDATE: '更新回调' } as const;
export const EHC_QUERY_TYPES = { '01': '医保电子凭证', '02': '医保卡' } as const;
export const AUTH_STATUSES = { ing: '正在授权', succ: '授权成功', fail: '授权失败', cancel: '用户取消授权' } as const;
export const SEXES = { '0': '未知', '1': '男', '2': '女' } as const;

export type ItemState = keyof typeof ITEM_STATES;
