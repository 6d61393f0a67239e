import {
  AUTH_STATUSES,
  BUSINESS_TYPES,
  EHC_QUERY_TYPES,
  FEE_TYPES,
  ID_TYPES,
  ITEM_STATES,
  MED_TYPES,
  NOTIFY_TYPES,
  SEXES,
  UPDATE_STATES,
  USER_TYPES,
} from './dictionaries.js';
import { residentIdProblem } from './idcard.js';
import { DATETIME_FORMAT, YUAN_FORMAT } from './money.js';
import { type Infer, type ObjectSchema, json, list, optList, optStr, str } from './schema.js';

/** Longest batch a single ORG_MDL_001 / ORG_MDL_003 call may carry (guide §4.3.1.1, §4.3.3.1). */
export const MAX_ITEMS_PER_CALL = 100;

function urlProblem(v: string): string | undefined {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : '只支持 http(s) 地址';
  } catch {
    return '不是有效的 URL';
  }
}

const notifyUrl = (note: string) => str('回调通知地址', 100, { check: urlProblem, format: 'uri', note });
const orgRequestId = () => str('请求批次号', 40, { note: '标识一次请求，用于后续查询（ORG_MDL_005），唯一值' });
const REAL_NAME_NOTE =
  '实名患者 idNo、idType、userName、ehealthCardId 四项均须填写且平台强校验；非实名患者四项均留空；只填部分的患者被拒绝';

const orgId = () => str('机构 id, 国家编码', 12);
const extData = () => json('扩展参数');

// ---- ORG_MDL_001 上报医疗欠费数据 -------------------------------------------------------------
export const reportItem = {
  orgTraceId: str('机构跟踪号,项目流水号', 40),
  medType: str('医疗类别', 6, { dict: MED_TYPES }),
  feeType: str('费用类别', 2, { dict: FEE_TYPES }),
  itemName: str('项目名称', 40),
  amount: str('金额', 10, YUAN_FORMAT),
  actualTime: str('产生时间', 20, { ...DATETIME_FORMAT, note: '记录实际产生时间，建议取实际就诊的时间；' + DATETIME_FORMAT.note }),
} as const satisfies ObjectSchema;

/** idNo/idType/userName/ehealthCardId may be empty for a non-real-name patient; checked by `identityProblem`. */
export const unsettledPerson = {
  idNo: optStr('身份证号', 18, { note: REAL_NAME_NOTE }),
  idType: optStr('证件类型', 2, { dict: ID_TYPES }),
  userName: optStr('用户姓名', 20),
  ehealthCardId: optStr('电子健康卡主索引 id', 64),
  mobilePhone: optStr('手机号码', 11, { check: (v) => (/^\d{11}$/.test(v) ? undefined : '应为 11 位数字'), pattern: '^\\d{11}$' }),
  userType: str('用户类别', 2, { dict: USER_TYPES }),
  itemList: list('待缴费列表', reportItem),
  extData: extData(),
} as const satisfies ObjectSchema;

export const reportOverdueDataRequest = {
  orgId: orgId(),
  orgName: str('机构名称', 40),
  notifyUrl: notifyUrl('机构上报数据后，平台异步回调此地址告知处理结果（ORG_002）'),
  orgRequestId: orgRequestId(),
  unsettleList: optList('待结算列表', unsettledPerson),
  extData: extData(),
} as const satisfies ObjectSchema;

export const acceptResponse = {
  state: str('状态', 10, { dict: { success: '成功', fail: '失败' } }),
  msg: optStr('描述', 100),
  extData: extData(),
} as const satisfies ObjectSchema;

// ---- ORG_MDL_002 查询医疗欠费状况 -------------------------------------------------------------
export const queryOverdueDataRequest = {
  orgId: optStr('机构 id, 国家编码', 12, { note: '为空时查询全部机构的待缴费数据' }),
  businessType: str('查询业务类型', 8, { dict: BUSINESS_TYPES }),
  idNo: str('身份证号', 18),
  idType: str('证件类型', 2, { dict: ID_TYPES }),
  userName: str('用户姓名', 20),
  /** Required for institutions, optional for the 闽政通 channel (guide §4.3.2.2): enforced by the handler. */
  ehealthCardId: optStr('电子健康卡主索引 id', 64, { note: '医疗机构（门户）渠道必填；闽政通渠道选填' }),
  extData: extData(),
} as const satisfies ObjectSchema;

export const overdueItem = {
  orgId: orgId(),
  orgName: str('机构名称', 40),
  itemName: str('项目名称', 40),
  amount: str('金额', 10),
  actualTime: str('产生时间', 20),
  state: str('状态', 2, { dict: ITEM_STATES }),
} as const satisfies ObjectSchema;

export const queryOverdueDataResponse = {
  next: str('是否享受先诊后付', 1, { dict: { '0': '否', '1': '是' } }),
  itemList: optList('待缴费列表', overdueItem),
  extData: extData(),
} as const satisfies ObjectSchema;

// ---- ORG_MDL_003 更新医疗欠费数据 -------------------------------------------------------------
export const updateItem = {
  orgTraceId: str('机构跟踪号,项目流水号', 40),
  traceId: str('平台跟踪号', 40),
  state: str('状态', 2, { dict: UPDATE_STATES, note: '1 已缴清，2 撤销；只允许 0→1、0→2（其余逐条拒绝）' }),
} as const satisfies ObjectSchema;

export const updateOverdueDataRequest = {
  orgId: orgId(),
  idNo: optStr('身份证号', 18, { note: REAL_NAME_NOTE }),
  idType: optStr('证件类型', 2, { dict: ID_TYPES }),
  userName: optStr('用户姓名', 20),
  ehealthCardId: optStr('电子健康卡主索引 id', 64),
  notifyUrl: notifyUrl('更新后，平台异步推送更新结果（ORG_002）'),
  orgRequestId: orgRequestId(),
  itemList: list('更新缴费列表', updateItem, MAX_ITEMS_PER_CALL),
  extData: extData(),
} as const satisfies ObjectSchema;

// ---- ORG_MDL_004 获取医疗欠费名单应用入口链接 -------------------------------------------------
export const getIntoMdlUrlRequest = {
  orgId: optStr('机构 id, 国家编码', 12),
  idNo: str('身份证号', 18),
  idType: str('证件类型', 2, { dict: ID_TYPES }),
  userName: str('用户姓名', 20),
  ehealthCardId: optStr('电子健康卡主索引 id', 64),
  extData: extData(),
} as const satisfies ObjectSchema;

export const getIntoMdlUrlResponse = {
  mdrUrl: str('应用入口链接', 200),
  extData: extData(),
} as const satisfies ObjectSchema;

// ---- ORG_MDL_005 查询上报/更新结果 ------------------------------------------------------------
export const queryReportResultRequest = {
  orgId: orgId(),
  orgRequestId: str('请求批次号', 40, { note: '上报/更新时传的值' }),
  extData: extData(),
} as const satisfies ObjectSchema;

/** Every item has both (§4.3.5.3): a refused item has a trace id of its own and state 2 (docs/decisions.md). */
export const resultItem = {
  orgTraceId: str('机构跟踪号,项目流水号', 40),
  traceId: str('平台跟踪号', 40),
  state: str('状态', 2, { dict: ITEM_STATES }),
} as const satisfies ObjectSchema;

export const resultPerson = {
  idNo: optStr('身份证号', 18),
  userName: optStr('用户姓名', 20),
  itemList: list('用户待缴费列表', resultItem),
  extData: extData(),
} as const satisfies ObjectSchema;

export const queryReportResultResponse = {
  orgId: orgId(),
  orgName: str('机构名称', 40),
  reportResultList: optList('上报结果', resultPerson),
  extData: extData(),
} as const satisfies ObjectSchema;

// ---- ORG_001 院内医疗欠费结算结果查询 (served by the hospital) ---------------------------------
export const getOverdueResultRequest = {
  orgId: orgId(),
  orgTraceId: str('机构跟踪号,项目流水号', 40),
  traceId: optStr('平台跟踪号', 40),
  extData: extData(),
} as const satisfies ObjectSchema;

export const getOverdueResultResponse = {
  state: str('状态', 2, { dict: ITEM_STATES }),
  extData: extData(),
} as const satisfies ObjectSchema;

// ---- ORG_002 结果回调通知 (served by the hospital) --------------------------------------------
export const callbackRequest = {
  orgId: orgId(),
  orgName: str('机构名称', 40),
  notifyType: str('通知类型', 10, { dict: NOTIFY_TYPES }),
  orgRequestId: optStr('请求批次号', 40),
  reportResultList: optList('上报结果', resultPerson),
  updateResultList: optList('更新结果', resultPerson),
  extData: extData(),
} as const satisfies ObjectSchema;

export const callbackResponse = acceptResponse;

// ---- ORG_EHC_001..004 电子健康卡 --------------------------------------------------------------
export const genAuthUrlRequest = {
  outAuthNo: str('外部授权流水号', 32),
  orgId: orgId(),
  extData: extData(),
} as const satisfies ObjectSchema;

export const genAuthUrlResponse = {
  authUrl: str('授权链接', 200),
  wxMiniAppId: optStr('小程序 appId', 40),
  wxMiniPath: optStr('小程序路径', 300),
  remark: optStr('备注说明', 200),
  extData: extData(),
} as const satisfies ObjectSchema;

export const queryAuthResultRequest = genAuthUrlRequest;

const cardIdentity = {
  ehealthCardId: str('电子健康卡主索引 id', 64),
  cardNo: str('卡号', 12),
  cardType: str('卡类型', 2),
  idNo: str('证件号', 18),
  idType: str('证件类型', 2, { dict: ID_TYPES }),
  userName: str('姓名', 20),
  userSex: optStr('性别', 1, { dict: SEXES }),
  birthday: optStr('出生日期', 8),
  mobilePhone: optStr('手机号', 11),
  extData: extData(),
} as const satisfies ObjectSchema;

export const queryAuthResultResponse = {
  ...cardIdentity,
  // Before success there is no identity to give: only the status is required then.
  ehealthCardId: optStr('电子健康卡主索引 id', 64),
  authStatus: str('授权状态', 10, { dict: AUTH_STATUSES }),
  cardNo: optStr('卡号', 12),
  cardType: optStr('卡类型', 2),
  idNo: optStr('证件号', 18),
  idType: optStr('证件类型', 2, { dict: ID_TYPES }),
  userName: optStr('姓名', 20),
} as const satisfies ObjectSchema;

export const verifyQrCodeRequest = {
  orgId: orgId(),
  ehealthCode: str('码值', 128),
  extData: extData(),
} as const satisfies ObjectSchema;

export const verifyQrCodeResponse = cardIdentity;

export const queryEcAuthResultRequest = {
  orgId: orgId(),
  // The guide's table gives length 1 but codes 01/02; we read the codes as right (docs/decisions.md).
  type: str('类型', 2, { dict: EHC_QUERY_TYPES }),
  psnNo: str('人员编号', 30),
  cardNo: optStr('卡号', 12),
  idNo: str('证件号', 18),
  idType: str('证件类型', 2, { dict: ID_TYPES }),
  userName: str('姓名', 20),
  insuplcAdmdvs: optStr('参保区划', 10),
  extData: extData(),
} as const satisfies ObjectSchema;

export const queryEcAuthResultResponse = cardIdentity;

export type ReportOverdueDataRequest = Infer<typeof reportOverdueDataRequest>;
export type UnsettledPerson = Infer<typeof unsettledPerson>;
export type ReportItem = Infer<typeof reportItem>;
export type AcceptResponse = Infer<typeof acceptResponse>;
export type QueryOverdueDataRequest = Infer<typeof queryOverdueDataRequest>;
export type QueryOverdueDataResponse = Infer<typeof queryOverdueDataResponse>;
export type OverdueItem = Infer<typeof overdueItem>;
export type UpdateOverdueDataRequest = Infer<typeof updateOverdueDataRequest>;
export type UpdateItem = Infer<typeof updateItem>;
export type GetIntoMdlUrlRequest = Infer<typeof getIntoMdlUrlRequest>;
export type GetIntoMdlUrlResponse = Infer<typeof getIntoMdlUrlResponse>;
export type QueryReportResultRequest = Infer<typeof queryReportResultRequest>;
export type QueryReportResultResponse = Infer<typeof queryReportResultResponse>;
export type ResultPerson = Infer<typeof resultPerson>;
export type ResultItem = Infer<typeof resultItem>;
export type GetOverdueResultRequest = Infer<typeof getOverdueResultRequest>;
export type GetOverdueResultResponse = Infer<typeof getOverdueResultResponse>;
export type CallbackRequest = Infer<typeof callbackRequest>;
export type CallbackResponse = Infer<typeof callbackResponse>;
export type GenAuthUrlRequest = Infer<typeof genAuthUrlRequest>;
export type GenAuthUrlResponse = Infer<typeof genAuthUrlResponse>;
export type QueryAuthResultRequest = Infer<typeof queryAuthResultRequest>;
export type QueryAuthResultResponse = Infer<typeof queryAuthResultResponse>;
export type VerifyQrCodeRequest = Infer<typeof verifyQrCodeRequest>;
export type VerifyQrCodeResponse = Infer<typeof verifyQrCodeResponse>;
export type QueryEcAuthResultRequest = Infer<typeof queryEcAuthResultRequest>;
export type QueryEcAuthResultResponse = Infer<typeof queryEcAuthResultResponse>;

/** Every interface of the guide: code, path suffix, who serves it, payload schemas. */
export const INTERFACES = {
  ORG_MDL_001: {
    path: '/umdl/reportOverdueData',
    name: '上报医疗欠费数据',
    description:
      '院内上报医疗欠费数据给平台端，院内上报数据的时间点最好错开，预防扎堆大量请求。接口响应代表平台接收数据的状态，具体处理数据状态在回调接口（ORG_002）告知。单次上传总项目数限制 100 条，超过的请分批次调用。',
    servedBy: 'platform',
    writes: true,
    request: reportOverdueDataRequest,
    response: acceptResponse,
  },
  ORG_MDL_002: {
    path: '/qmdl/queryOverdueData',
    name: '查询医疗欠费状况',
    description: '查询医疗欠费情况：next=1 表示可享受先诊后付。',
    servedBy: 'platform',
    writes: false,
    request: queryOverdueDataRequest,
    response: queryOverdueDataResponse,
  },
  ORG_MDL_003: {
    path: '/umdl/updateOverdueData',
    name: '更新医疗欠费数据',
    description:
      '更新医疗欠费数据（已缴清、撤销）。接口响应代表平台接收数据的状态，处理结果在回调接口（ORG_002）告知。单次更新总项目数限制 100 条，超过的请分批次调用。',
    servedBy: 'platform',
    writes: true,
    request: updateOverdueDataRequest,
    response: acceptResponse,
  },
  ORG_MDL_004: {
    path: '/qmdl/getIntoMdlUrl',
    name: '获取医疗欠费名单应用入口链接',
    description: '获取医疗欠费名单应用入口链接：患者在医院门户中打开此链接查看、缴清或申诉自己的欠费记录。',
    servedBy: 'platform',
    writes: false,
    request: getIntoMdlUrlRequest,
    response: getIntoMdlUrlResponse,
  },
  ORG_MDL_005: {
    path: '/qmdl/queryReportResult',
    name: '查询上报/更新结果',
    description: '查询上报/更新结果，没有收到回调通知的情况可发起主动查询。',
    servedBy: 'platform',
    writes: false,
    request: queryReportResultRequest,
    response: queryReportResultResponse,
  },
  ORG_EHC_001: {
    path: '/ehc/genAuthUrl',
    name: '生成电子健康卡授权链接',
    description: '院内请求生成电子健康卡授权链接。',
    servedBy: 'platform',
    writes: true,
    request: genAuthUrlRequest,
    response: genAuthUrlResponse,
  },
  ORG_EHC_002: {
    path: '/ehc/queryAuthResult',
    name: '查询电子健康卡授权结果',
    description: '院内请求电子健康卡授权后，请求查询授权结果。',
    servedBy: 'platform',
    writes: false,
    request: queryAuthResultRequest,
    response: queryAuthResultResponse,
  },
  ORG_EHC_003: {
    path: '/ehc/verifyQrCode',
    name: '电子健康卡验码',
    description: '院内请求验码结果（电子健康码）。',
    servedBy: 'platform',
    writes: false,
    request: verifyQrCodeRequest,
    response: verifyQrCodeResponse,
  },
  ORG_EHC_004: {
    path: '/ehc/queryEcAuthResult',
    name: '查询医保患者主索引',
    description: '院内医保患者请求查询患者电子健康卡主索引。',
    servedBy: 'platform',
    writes: false,
    request: queryEcAuthResultRequest,
    response: queryEcAuthResultResponse,
  },
  ORG_001: {
    path: '/qmdl/getOverdueResult',
    name: '院内医疗欠费结算结果查询',
    description: '院内提供接口，平台端对接。院内数据和平台数据不一致时的同步接口。',
    servedBy: 'hospital',
    writes: false,
    request: getOverdueResultRequest,
    response: getOverdueResultResponse,
  },
  ORG_002: {
    path: '/umdl/callback',
    name: '结果回调通知',
    description: '上报欠费数据/更新欠费数据后，平台端异步向机构回调通知结果。',
    servedBy: 'hospital',
    writes: false,
    request: callbackRequest,
    response: callbackResponse,
  },
} as const;

export type InterfaceCode = keyof typeof INTERFACES;
/**
 * An interface's request and response payloads, read off its schemas: the SDK and the gateway use these. Over a
 * union of codes they are the union of those payloads.
 */
export type RequestOf<C extends InterfaceCode> = C extends InterfaceCode ? Infer<(typeof INTERFACES)[C]['request']> : never;
export type ResponseOf<C extends InterfaceCode> = C extends InterfaceCode ? Infer<(typeof INTERFACES)[C]['response']> : never;

const IDENTITY_FIELDS = ['idNo', 'idType', 'userName', 'ehealthCardId'] as const;
type IdentityFields = { idNo?: string; idType?: string; userName?: string; ehealthCardId?: string };

/** Real-name (guide §4.3.1.2): all four identity fields given. None given is a non-real-name patient. */
export function isRealName(p: IdentityFields): boolean {
  return IDENTITY_FIELDS.every((k) => Boolean(p[k]));
}

/**
 * Identity rule (guide §4.3.1.2 and §1.2.2, docs/decisions.md "Real name"):
 * - a real-name patient has idNo, idType, userName and ehealthCardId, all four, and gets the 强校验;
 * - a non-real-name patient has no ehealthCardId: either no identity at all (each record stands alone), or
 *   idNo, idType and userName together, so that the reporting institution can find its patient again
 *   (非实名患者仅支持当前就诊医疗机构); the answer says so in the person's `extData.note`;
 * - anything in between is refused rather than guessed.
 * An 01 number must pass GB 11643. Returns a Chinese reason, or undefined.
 */
export function identityProblem(p: IdentityFields): string | undefined {
  const missing = IDENTITY_FIELDS.filter((k) => !p[k]);
  if (missing.length === IDENTITY_FIELDS.length) return undefined;
  if (p.ehealthCardId && missing.length > 0) {
    return `实名信息不完整，缺少 ${missing.join('、')}（实名患者 idNo、idType、userName、ehealthCardId 均须填写）`;
  }
  if (!p.ehealthCardId && missing.length > 1) {
    const lacking = missing.filter((k) => k !== 'ehealthCardId');
    return `身份信息不完整，缺少 ${lacking.join('、')}（非实名患者 idNo、idType、userName 三项同填或同空；实名患者另填 ehealthCardId）`;
  }
  return documentProblem(p.idType!, p.idNo!);
}

/** What the answer says of a patient kept as non-real-name although the identity was given (docs/decisions.md). */
export const LOCAL_RECORD_NOTE = '未提供电子健康卡主索引：按非实名记录保存，仅本机构可查询，不跨院共享';

export function documentProblem(idType: string, idNo: string): string | undefined {
  if (idType === '01') return residentIdProblem(idNo);
  return undefined;
}
