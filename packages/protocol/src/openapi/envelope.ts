/**
 * The envelope (guide §4.1) and the response codes (§4.2) as OpenAPI components. Every interface is
 * a POST of the same envelope; what differs is the business payload inside it, which the operation
 * types as the clear `data`/`param` object (what `encryptData` holds once decrypted).
 */
import { RESP_MESSAGES, RETRYABLE_CODES } from '../codes.js';
import { DEFAULT_VERSION, SIGN_VERSION, SIGN_VERSION_HEADER } from '../envelope.js';
import type { JsonSchema } from './json-schema.js';

/** Paragraphs of the envelope's description, joined by blank lines (the docs page makes each a paragraph). */
export const ENVELOPE_DESCRIPTION = [
  '所有接口均为 POST，请求与应答都是同一种 JSON 报文（信封），业务数据加密后放在 encryptData 中。',
  '**签名（SM3）**：取报文中除 sign、encryptData、extendParams 及明文 data/param 以外、值不为空的全部字段，' +
    '加上 param=业务数据 JSON（即被加密的那串明文，原样参与，不重新序列化），按键名 ASCII 升序排序，以 k=v 用 & 连接，末尾拼接 &key=密钥，对 UTF-8 字节做 SM3，' +
    '结果用 url 安全 base64（带 = 填充）编码，即 sign。',
  '**加密（SM4）**：SM4-ECB、PKCS#7 填充，密钥取接入密钥的前 16 个字符（UTF-8 字节），密文用 url 安全 base64（带 = 填充）编码，即 encryptData。',
  '**应答**：HTTP 状态码总是 200，以 respCode 为准；非 000000 的应答不携带业务数据。签名核验通过之前的应答（appId 不存在、报文不是 JSON、' +
    '报文字段含 & 或 = 或控制字符、时间戳超出范围、解密失败、签名无效）不签名，也不回显请求内容；其余应答用调用方密钥签名，调用方须验签。',
  '**时间与重放**：timestamp 为 Unix 毫秒时间戳字符串，须在平台时钟 ±300 秒以内；同一签名的请求只处理一次，重复提交返回 010010。',
  '**测试环境**：只有测试环境（沙箱部署）的测试凭证可用 PLAIN（明文 data/param、不签名）联调；正式环境（生产部署）一律 SM3 签名、SM4 加密，' +
    'PLAIN 应答 000101/000102。',
].join('\n\n');

const cipherType = (label: string, algo: string) => ({
  type: 'string',
  title: label,
  enum: [algo, 'PLAIN'],
  description: `${algo}；PLAIN 仅测试环境的测试凭证可用（大小写不敏感）`,
});

const common = {
  appId: { type: 'string', title: '应用 ID', minLength: 1, description: '对接时分配的专用应用 ID，与其密钥成对使用' },
  version: { type: 'string', title: '接口版本', minLength: 1, description: '用于接口兼容', examples: [DEFAULT_VERSION] },
  timestamp: {
    type: 'string',
    title: '时间戳',
    pattern: '^\\d{10,16}$',
    description: 'Unix 毫秒时间戳的字符串形式，例如 1630639075173；须在平台时钟 ±300 秒以内',
  },
  sign: { type: 'string', title: '签名数据', description: 'SM3 签名，url 安全 base64（带 = 填充）；PLAIN 签名时省略' },
  encryptData: { type: 'string', title: '加密数据', description: 'SM4 加密的业务数据 JSON，url 安全 base64（带 = 填充）' },
  extendParams: { title: '扩展参数', description: '不参与签名' },
} as const;

export const ENVELOPE_COMPONENTS: Record<string, JsonSchema> = {
  RequestEnvelope: {
    type: 'object',
    title: '请求报文',
    description: 'encryptType 为 SM4 时 encryptData 必填；signType 为 SM3 时 sign 必填。',
    properties: {
      ...common,
      encryptType: cipherType('加密类型', 'SM4'),
      signType: cipherType('签名方式', 'SM3'),
    },
    required: ['appId', 'version', 'timestamp', 'encryptType', 'signType'],
  },
  ResponseEnvelope: {
    type: 'object',
    title: '应答报文',
    description:
      '业务数据只随 000000 返回。签名核验通过之前的错误应答不签名：appId 为本平台凭证时填写，否则为空串；version 为 1.0.0；encryptType、signType 为 PLAIN。',
    properties: {
      ...common,
      encryptType: { type: 'string', title: '加密类型', description: '与请求相同的写法' },
      signType: { type: 'string', title: '签名方式', description: '与请求相同的写法' },
      respCode: { $ref: '#/components/schemas/RespCode' },
      respMsg: { type: 'string', title: '响应说明', description: '协议码的附带说明；参数错误时指明字段' },
    },
    required: ['respCode', 'respMsg'],
  },
  RespCode: {
    type: 'string',
    title: '响应协议码',
    description: '先判别协议码是否成功（000000），再判别业务状态。',
    oneOf: Object.entries(RESP_MESSAGES).map(([code, message]) => ({
      const: code,
      title: message,
      ...(RETRYABLE_CODES.has(code) ? { description: '可重试' } : {}),
    })),
  },
};

export const SIGN_VERSION_PARAMETER = {
  name: SIGN_VERSION_HEADER,
  in: 'header',
  required: false,
  description: '签名版本，缺省时按 2.0.0 处理',
  schema: { type: 'string', const: SIGN_VERSION },
};

/** The request body and 200 reply of one enveloped interface whose payloads are the named components. */
export function envelopedOperation(o: {
  operationId: string;
  summary: string;
  description: string;
  tag: string;
  code: string;
  request: string;
  response: string;
}): JsonSchema {
  const payload = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  return {
    operationId: o.operationId,
    summary: o.summary,
    description: o.description,
    tags: [o.tag],
    'x-interface-code': o.code,
    parameters: [{ $ref: '#/components/parameters/SignVersion' }],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: {
            allOf: [
              { $ref: '#/components/schemas/RequestEnvelope' },
              {
                type: 'object',
                description: `业务数据（${o.request}）加密后放在 encryptData 中；测试环境可用明文 data 或 param。`,
                properties: { data: payload(o.request), param: payload(o.request) },
              },
            ],
          },
        },
      },
    },
    responses: {
      '200': {
        description: `应答报文；respCode 为 000000 时 encryptData 解密后为 ${o.response}`,
        content: {
          'application/json': {
            schema: {
              allOf: [{ $ref: '#/components/schemas/ResponseEnvelope' }, { type: 'object', properties: { param: payload(o.response) } }],
            },
          },
        },
      },
    },
  };
}
