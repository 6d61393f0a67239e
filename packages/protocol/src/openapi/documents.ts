/**
 * The OpenAPI 3.1 documents of the guide's interfaces, generated from INTERFACES and its schemas:
 * what the platform serves (ORG_MDL_*, ORG_EHC_*) and what a hospital must serve (ORG_001, ORG_002).
 * docs/openapi/ holds their checked-in copies; a test keeps them equal to this output.
 */
import { createRequire } from 'node:module';
import {
  INTERFACES,
  overdueItem,
  reportItem,
  resultItem,
  resultPerson,
  unsettledPerson,
  updateItem,
  type InterfaceCode,
} from '../interfaces.js';
import type { ObjectSchema } from '../schema.js';
import { ENVELOPE_COMPONENTS, ENVELOPE_DESCRIPTION, SIGN_VERSION_PARAMETER, envelopedOperation } from './envelope.js';
import { objectJsonSchema, type JsonSchema, type SchemaRef } from './json-schema.js';

export type OpenApiDocument = JsonSchema & {
  openapi: string;
  info: { title: string; version: string; description?: string };
  servers: { url: string; description?: string; variables?: Record<string, { default: string; description?: string }> }[];
  paths: Record<string, Record<string, JsonSchema>>;
  components: { schemas: Record<string, JsonSchema>; [k: string]: unknown };
};

/** The version of @mdl/protocol: the documents change with it. */
export const PROTOCOL_VERSION: string = (createRequire(import.meta.url)('@mdl/protocol/package.json') as { version: string }).version;

/** Lists inside payloads that get a component of their own (their TypeScript names in interfaces.ts). */
const NESTED = new Map<ObjectSchema, string>([
  [unsettledPerson, 'UnsettledPerson'],
  [reportItem, 'ReportItem'],
  [overdueItem, 'OverdueItem'],
  [updateItem, 'UpdateItem'],
  [resultPerson, 'ResultPerson'],
  [resultItem, 'ResultItem'],
]);

/** `/umdl/reportOverdueData` → `reportOverdueData`. */
export function operationName(code: InterfaceCode): string {
  return INTERFACES[code].path.split('/').pop()!;
}

export function payloadName(code: InterfaceCode, direction: 'Request' | 'Response'): string {
  const op = operationName(code);
  return op[0]!.toUpperCase() + op.slice(1) + direction;
}

/** Collects component schemas as they are referenced, so a document holds only what it uses. */
export class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};
  readonly ref: SchemaRef = (schema) => {
    const name = NESTED.get(schema);
    if (!name) return undefined;
    if (!this.schemas[name]) {
      this.schemas[name] = {};
      this.schemas[name] = objectJsonSchema(schema, this.ref, { title: name });
    }
    return { $ref: `#/components/schemas/${name}` };
  };
  add(name: string, schema: ObjectSchema, meta: { title?: string; description?: string }): JsonSchema {
    this.schemas[name] = objectJsonSchema(schema, this.ref, meta);
    return { $ref: `#/components/schemas/${name}` };
  }
}

function tagOf(code: InterfaceCode): string {
  return code.startsWith('ORG_EHC') ? '电子健康卡' : code.startsWith('ORG_MDL') ? '医疗欠费' : '医疗机构提供';
}

export interface DocumentOptions {
  /** The server to show; by default a variable the reader fills in. */
  serverUrl?: string;
}

function envelopeDocument(o: {
  title: string;
  intro: string;
  codes: InterfaceCode[];
  server: { variable: string; example: string; description: string };
  serverUrl?: string;
}): OpenApiDocument {
  const components = new SchemaComponents();
  const paths: OpenApiDocument['paths'] = {};
  for (const code of o.codes) {
    const def = INTERFACES[code];
    const request = payloadName(code, 'Request');
    const response = payloadName(code, 'Response');
    components.add(request, def.request, { title: `${def.name}（${code}）请求参数` });
    components.add(response, def.response, { title: `${def.name}（${code}）响应参数` });
    paths[def.path] = {
      post: envelopedOperation({
        operationId: operationName(code),
        summary: `${def.name}（${code}）`,
        description: def.description,
        tag: tagOf(code),
        code,
        request,
        response,
      }),
    };
  }
  const servers = o.serverUrl
    ? [{ url: o.serverUrl, description: o.server.description }]
    : [
        {
          url: `{${o.server.variable}}`,
          description: o.server.description,
          variables: { [o.server.variable]: { default: o.server.example, description: o.server.description } },
        },
      ];
  return {
    openapi: '3.1.0',
    info: { title: o.title, version: PROTOCOL_VERSION, description: `${o.intro}\n\n${ENVELOPE_DESCRIPTION}` },
    servers,
    tags: [...new Set(o.codes.map(tagOf))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { ...ENVELOPE_COMPONENTS, ...components.schemas },
      parameters: { SignVersion: SIGN_VERSION_PARAMETER },
    },
  };
}

const codesServedBy = (who: 'platform' | 'hospital') =>
  (Object.keys(INTERFACES) as InterfaceCode[]).filter((code) => INTERFACES[code].servedBy === who);

/** The interfaces the platform serves, for institutions calling it. */
export function platformOpenApi(opts: DocumentOptions = {}): OpenApiDocument {
  return envelopeDocument({
    title: '福建省诊疗失信人员信息管理系统 · 平台接口',
    intro: '定点医疗机构（及闽政通渠道）调用的平台接口：上报、查询、更新医疗欠费数据，电子健康卡。',
    codes: codesServedBy('platform'),
    server: { variable: 'platformUrl', example: 'http://127.0.0.1:8080', description: '平台地址（PUBLIC_URL，另加 MDL_API_PREFIX）' },
    serverUrl: opts.serverUrl,
  });
}

/** The interfaces a hospital serves and the platform calls (ORG_001, ORG_002). */
export function hospitalOpenApi(opts: DocumentOptions = {}): OpenApiDocument {
  return envelopeDocument({
    title: '福建省诊疗失信人员信息管理系统 · 医疗机构提供的接口',
    intro:
      '医疗机构提供、平台调用的接口。平台用该机构的凭证签名、加密请求；机构应答同样的信封报文，用同一密钥签名、加密。' +
      'ORG_001 的地址为机构登记的接口地址加 /qmdl/getOverdueResult；ORG_002 发往上报/更新时给出的 notifyUrl。',
    codes: codesServedBy('hospital'),
    server: { variable: 'hospitalUrl', example: 'https://his.example-hospital.cn', description: '医疗机构在平台登记的接口地址' },
    serverUrl: opts.serverUrl,
  });
}
