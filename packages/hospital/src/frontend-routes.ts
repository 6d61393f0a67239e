/**
 * The 前置机's local API in one table: the router in frontend.ts dispatches on it and
 * `frontendOpenApi()` documents it, so the two cannot drift apart.
 */
import { INTERFACES, optStr, reportItem, unsettledPerson, updateItem, updateOverdueDataRequest, type ObjectSchema } from '@mdl/protocol';
import { PROTOCOL_VERSION, SchemaComponents, payloadName, type JsonSchema, type OpenApiDocument } from '@mdl/protocol/openapi';
import type { PlatformInterface } from './client.js';
import { REPORT_COLUMNS, REPORT_OPTIONAL } from './csv.js';

export type LocalHandler = 'report' | 'update' | 'outbox' | 'health' | 'forward';

export interface LocalRoute {
  handler: LocalHandler;
  method: 'GET' | 'POST';
  path: string;
  summary: string;
  description: string;
  /** The platform interface a `forward` route calls. */
  forwards?: PlatformInterface;
  query?: { name: string; description: string; enum?: readonly string[] }[];
  body?: (c: SchemaComponents) => JsonSchema;
  reply: { status: number; description: string; schema: (c: SchemaComponents) => JsonSchema };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** One flat row per item, with the CSV file's columns (for HIS that export rows rather than persons). */
const reportRow: ObjectSchema = Object.fromEntries(
  REPORT_COLUMNS.map((c) => {
    const f = (unsettledPerson as ObjectSchema)[c] ?? (reportItem as ObjectSchema)[c]!;
    return [c, REPORT_OPTIONAL.has(c) ? { ...f, required: false } : f];
  }),
);

/** An update without orgId/notifyUrl/orgRequestId (the 前置机 adds them); traceId may be left out for items it reported. */
const personUpdate = {
  idNo: updateOverdueDataRequest.idNo,
  idType: updateOverdueDataRequest.idType,
  userName: updateOverdueDataRequest.userName,
  ehealthCardId: updateOverdueDataRequest.ehealthCardId,
  itemList: {
    ...updateOverdueDataRequest.itemList,
    of: { ...updateItem, traceId: optStr('平台跟踪号', 40, { note: '经本前置机上报的费用可省略，由前置机从上报结果中补上' }) },
  },
} as const satisfies ObjectSchema;

const accepted = (c: SchemaComponents) => {
  c.schemas.Accepted ??= {
    type: 'object',
    title: '已写入发件箱',
    description: '数据已持久化在前置机发件箱中，由前置机发送给平台（失败自动重试）；批次号由内容生成，重复提交不会重复上报。',
    properties: {
      accepted: { type: 'boolean', const: true },
      batches: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            orgRequestId: { type: 'string', title: '请求批次号' },
            status: { $ref: '#/components/schemas/OutboxStatus' },
            created: { type: 'boolean', description: 'false 表示同样内容的批次已在发件箱中' },
          },
          required: ['orgRequestId', 'status', 'created'],
        },
      },
    },
    required: ['accepted', 'batches'],
  };
  return ref('Accepted');
};

/** Query routes: the interface's own payloads; orgId may be left out (the 前置机's own is used). */
function forwardRoute(path: string, code: PlatformInterface): LocalRoute {
  const def = INTERFACES[code];
  return {
    handler: 'forward',
    method: 'POST',
    path,
    forwards: code,
    summary: `${def.name}（${code}）`,
    description: `前置机签名、加密后调用平台 ${code}，返回解密后的业务数据。${def.description}`,
    body: (c) => {
      const schema: ObjectSchema =
        'orgId' in def.request ? { ...def.request, orgId: { ...def.request.orgId, required: false } } : def.request;
      return c.add(payloadName(code, 'Request'), schema, {
        title: `${def.name}请求参数`,
        description: '可省略 orgId，默认为本前置机的机构编码',
      });
    },
    reply: {
      status: 200,
      description: '平台的业务应答（已验签、解密）',
      schema: (c) => c.add(payloadName(code, 'Response'), def.response, { title: `${def.name}响应参数` }),
    },
  };
}

export const LOCAL_ROUTES: readonly LocalRoute[] = [
  {
    handler: 'report',
    method: 'POST',
    path: '/local/report',
    summary: '上报医疗欠费数据（经发件箱发送 ORG_MDL_001）',
    description:
      '按患者分组（unsettleList）或每条费用一行（rows，列同 CSV 文件）。前置机按患者合并、每批不超过 100 条，全部校验通过才写入发件箱；任何一条有误则整体不发送，并指出出错的条目。',
    body: (c) => ({
      oneOf: [
        {
          type: 'object',
          title: '按患者分组',
          properties: { unsettleList: { type: 'array', minItems: 1, items: c.ref(unsettledPerson) } },
          required: ['unsettleList'],
        },
        {
          type: 'object',
          title: '每条费用一行',
          properties: { rows: { type: 'array', minItems: 1, items: c.add('ReportRow', reportRow, { title: '费用行' }) } },
          required: ['rows'],
        },
      ],
    }),
    reply: { status: 202, description: '已接收', schema: accepted },
  },
  {
    handler: 'update',
    method: 'POST',
    path: '/local/update',
    summary: '更新医疗欠费数据（经发件箱发送 ORG_MDL_003）',
    description: '已缴清（state 1）或撤销（state 2）。请求体为 { updates: [...] }、数组，或单个患者的更新。',
    body: (c) => {
      const one = c.add('PersonUpdate', personUpdate, { title: '一位患者的更新' });
      return {
        oneOf: [
          { type: 'object', title: '多位患者', properties: { updates: { type: 'array', minItems: 1, items: one } }, required: ['updates'] },
          { type: 'array', title: '多位患者（数组）', minItems: 1, items: one },
          { ...one, title: '一位患者' },
        ],
      };
    },
    reply: { status: 202, description: '已接收', schema: accepted },
  },
  forwardRoute('/local/query', 'ORG_MDL_002'),
  forwardRoute('/local/mdl-url', 'ORG_MDL_004'),
  forwardRoute('/local/report-result', 'ORG_MDL_005'),
  forwardRoute('/local/ehc/gen-auth-url', 'ORG_EHC_001'),
  forwardRoute('/local/ehc/auth-result', 'ORG_EHC_002'),
  forwardRoute('/local/ehc/verify-qr-code', 'ORG_EHC_003'),
  forwardRoute('/local/ehc/ec-auth-result', 'ORG_EHC_004'),
  {
    handler: 'outbox',
    method: 'GET',
    path: '/local/outbox',
    summary: '发件箱',
    description: '前置机发件箱中的批次及其状态（只有摘要，不重复患者个人信息）。',
    query: [{ name: 'status', description: '只列出此状态的批次', enum: ['pending', 'sent', 'done', 'failed'] }],
    reply: {
      status: 200,
      description: '批次列表',
      schema: () => ({
        type: 'object',
        properties: {
          entries: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'string', title: '请求批次号（orgRequestId）' },
                kind: { type: 'string', enum: ['report', 'update'] },
                status: ref('OutboxStatus'),
                items: { type: 'integer', title: '费用条数' },
                attempts: { type: 'integer', title: '发送次数' },
                enqueuedAt: { type: 'string', format: 'date-time' },
                sentAt: { type: 'string', format: 'date-time' },
                doneAt: { type: 'string', format: 'date-time' },
                lastError: { type: 'string' },
                results: {
                  type: 'array',
                  title: '平台处理结果',
                  items: {
                    type: 'object',
                    properties: { orgTraceId: { type: 'string' }, traceId: { type: 'string' }, state: { type: 'string' } },
                  },
                },
              },
              required: ['id', 'kind', 'status', 'items', 'attempts', 'enqueuedAt'],
            },
          },
        },
        required: ['entries'],
      }),
    },
  },
  {
    handler: 'health',
    method: 'GET',
    path: '/local/health',
    summary: '健康检查',
    description: '前置机在运行；pending 为尚未送达平台的批次数。',
    reply: {
      status: 200,
      description: '运行中',
      schema: () => ({
        type: 'object',
        properties: { ok: { type: 'boolean', const: true }, pending: { type: 'integer' } },
        required: ['ok', 'pending'],
      }),
    },
  },
];

const ERRORS: Record<string, string> = {
  '400': '请求有误（不是 JSON、字段不合规）；respCode 为 000105 时 error 指明字段，problems 逐条列出出错的行',
  '401': '没有带正确的 Authorization: Bearer 令牌（首次启动时生成于数据目录的 local-token 文件，或 --local-token）',
  '403': '请求带有外来的 Origin（浏览器页面），且该来源不在 --local-allowed-origin 中',
  '404': '没有这个接口',
  '415': '请求体的 Content-Type 不是 application/json',
  '421': 'Host 不在允许列表中（本机名称、监听地址与 --local-allowed-host）',
  '500': '前置机内部错误',
  '502': '平台拒绝或无法连通；respCode 为平台的响应码',
};

const OUTBOX_STATUS = {
  type: 'string',
  enum: ['pending', 'sent', 'done', 'failed'],
  'x-enumDescriptions': { pending: '待发送', sent: '平台已接收，等待处理结果', done: '已收到处理结果', failed: '平台拒收，不再重试' },
};

const ERROR_SCHEMA = {
  type: 'object',
  title: '错误',
  properties: {
    error: { type: 'string', title: '中文说明' },
    respCode: { type: 'string', title: '响应码' },
    problems: {
      type: 'array',
      title: '出错的条目',
      items: {
        type: 'object',
        properties: { row: { type: 'integer', title: '第几条' }, column: { type: 'string' }, message: { type: 'string' } },
        required: ['row', 'message'],
      },
    },
  },
  required: ['error'],
};

/** The document of the local API, from LOCAL_ROUTES. */
export function frontendOpenApi(opts: { serverUrl?: string } = {}): OpenApiDocument {
  const c = new SchemaComponents();
  c.schemas.OutboxStatus = OUTBOX_STATUS;
  c.schemas.Error = ERROR_SCHEMA;
  const paths: OpenApiDocument['paths'] = {};
  for (const r of LOCAL_ROUTES) {
    const errors = Object.fromEntries(
      Object.entries(ERRORS)
        .filter(([status]) => r.handler === 'forward' || status !== '502')
        .map(([status, description]) => [status, { description, content: { 'application/json': { schema: ref('Error') } } }]),
    );
    paths[r.path] = {
      [r.method.toLowerCase()]: {
        operationId: r.path.replace(/^\/local\//, '').replace(/[/-](\w)/g, (_m, ch: string) => ch.toUpperCase()),
        summary: r.summary,
        description: r.description,
        tags: [r.handler === 'forward' ? '查询（转发平台接口）' : r.method === 'GET' ? '运行状态' : '上报与更新'],
        ...(r.query
          ? {
              parameters: r.query.map((q) => ({
                name: q.name,
                in: 'query',
                required: false,
                description: q.description,
                schema: { type: 'string', ...(q.enum ? { enum: q.enum } : {}) },
              })),
            }
          : {}),
        ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: r.body(c) } } } } : {}),
        responses: {
          [String(r.reply.status)]: { description: r.reply.description, content: { 'application/json': { schema: r.reply.schema(c) } } },
          ...errors,
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: '前置机本地接口（mdl-hospital serve）',
      version: PROTOCOL_VERSION,
      description:
        '医院内网中的前置机为不便自行实现 SM3/SM4 的 HIS 代为签名、加密并调用平台。本地接口为明文 JSON，只应开放给 HIS 所在网络；' +
        '每个 /local/ 请求须带 Authorization: Bearer 令牌（首次启动时生成并只显示一次，保存在数据目录的 local-token 文件中，可用 mdl-hospital token rotate 更换），' +
        '请求体须为 Content-Type: application/json，Host 须为允许的地址，浏览器页面（外来 Origin）的请求一律拒绝；每个请求须在 30 秒内完整送达。' +
        '上报与更新先写入前置机的发件箱（落盘）再应答，由前置机负责送达平台。',
    },
    servers: opts.serverUrl
      ? [{ url: opts.serverUrl, description: '本前置机' }]
      : [
          {
            url: '{frontendUrl}',
            description: '前置机本地接口地址',
            variables: { frontendUrl: { default: 'http://127.0.0.1:8300', description: '--local-host/--local-port' } },
          },
        ],
    paths,
    components: {
      schemas: c.schemas,
      securitySchemes: {
        localToken: { type: 'http', scheme: 'bearer', description: '前置机本地接口令牌：数据目录中的 local-token 文件，或 --local-token' },
      },
    },
    security: [{ localToken: [] }],
  };
}
