import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import createClient from 'openapi-fetch';
import {
  INTERFACES,
  SIGN_VERSION,
  SIGN_VERSION_HEADER,
  openReply,
  sealRequest,
  validate,
  type Envelope,
  type InterfaceCode,
} from '@mdl/protocol';
import type * as P from '@mdl/protocol';
import { platformOpenApi, payloadName, type JsonSchema } from '@mdl/protocol/openapi';
import { openApiDocuments, startFrontend } from '@mdl/hospital';
import { addInstitution, startTestPlatform, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import type { components, paths } from './generated/platform-openapi.js';
import { desktopPage, launchBrowser, phonePage, screenshot } from './support/browser.js';
import { CLIENT_TYPES_FILE, OPENAPI_DIR, generatedClientTypes } from './support/openapi.js';
import { residentId } from './support/people.js';

const ROOT = join(import.meta.dirname, '..', '..');

// Compile-time: the generated client types and the protocol's own types (both from the same schemas)
// name the same fields, and a value of the generated type is a valid protocol value.
type S = components['schemas'];
type Pairs = {
  ReportOverdueDataRequest: [S['ReportOverdueDataRequest'], P.ReportOverdueDataRequest];
  ReportOverdueDataResponse: [S['ReportOverdueDataResponse'], P.AcceptResponse];
  QueryOverdueDataRequest: [S['QueryOverdueDataRequest'], P.QueryOverdueDataRequest];
  QueryOverdueDataResponse: [S['QueryOverdueDataResponse'], P.QueryOverdueDataResponse];
  UpdateOverdueDataRequest: [S['UpdateOverdueDataRequest'], P.UpdateOverdueDataRequest];
  GetIntoMdlUrlRequest: [S['GetIntoMdlUrlRequest'], P.GetIntoMdlUrlRequest];
  GetIntoMdlUrlResponse: [S['GetIntoMdlUrlResponse'], P.GetIntoMdlUrlResponse];
  QueryReportResultRequest: [S['QueryReportResultRequest'], P.QueryReportResultRequest];
  QueryReportResultResponse: [S['QueryReportResultResponse'], P.QueryReportResultResponse];
  GenAuthUrlRequest: [S['GenAuthUrlRequest'], P.GenAuthUrlRequest];
  GenAuthUrlResponse: [S['GenAuthUrlResponse'], P.GenAuthUrlResponse];
  QueryAuthResultResponse: [S['QueryAuthResultResponse'], P.QueryAuthResultResponse];
  VerifyQrCodeRequest: [S['VerifyQrCodeRequest'], P.VerifyQrCodeRequest];
  VerifyQrCodeResponse: [S['VerifyQrCodeResponse'], P.VerifyQrCodeResponse];
  QueryEcAuthResultRequest: [S['QueryEcAuthResultRequest'], P.QueryEcAuthResultRequest];
};
type SameShape<A, B> = [A] extends [B] ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false) : false;
const shapes: { [K in keyof Pairs]: SameShape<Pairs[K][0], Pairs[K][1]> } = {} as { [K in keyof Pairs]: true };
void shapes;

type Op<Path extends keyof paths> = paths[Path]['post'];
type RequestPayload<Path extends keyof paths> = NonNullable<Op<Path>['requestBody']['content']['application/json']['data']>;
type ResponsePayload<Path extends keyof paths> = NonNullable<Op<Path>['responses'][200]['content']['application/json']['param']>;

describe('OpenAPI documents', () => {
  it('are checked in exactly as the code generates them (npm run docs:openapi)', async () => {
    for (const [name, doc] of Object.entries(openApiDocuments())) {
      const file = readFileSync(join(ROOT, OPENAPI_DIR, name), 'utf8');
      assert.equal(file, JSON.stringify(doc, null, 2) + '\n', `${OPENAPI_DIR}/${name} is stale: run npm run docs:openapi`);
    }
    const types = readFileSync(join(ROOT, CLIENT_TYPES_FILE), 'utf8');
    assert.equal(types, await generatedClientTypes(), `${CLIENT_TYPES_FILE} is stale: run npm run docs:openapi`);
  });

  it('pass the OpenAPI 3.1 schema validator, which refuses a broken document', async () => {
    for (const [name, doc] of Object.entries(openApiDocuments())) {
      const r = await new Validator().validate(structuredClone(doc));
      assert.deepEqual(r, { valid: true }, `${name}: ${JSON.stringify(r.errors)}`);
    }
    const broken = structuredClone(platformOpenApi());
    delete (broken.paths['/umdl/reportOverdueData']!.post!.requestBody as JsonSchema).content;
    assert.equal((await new Validator().validate(broken)).valid, false);
    // The OpenAPI schema leaves Schema Objects to JSON Schema: each is checked against the 2020-12 meta-schema too.
    const ajv = new Ajv2020({ strict: false });
    for (const [name, doc] of Object.entries(openApiDocuments())) {
      for (const [key, schema] of Object.entries(doc.components.schemas)) {
        assert.equal(ajv.validateSchema(schema), true, `${name} ${key}: ${ajv.errorsText()}`);
      }
    }
    const wrong = structuredClone(platformOpenApi().components.schemas.ReportItem!) as { properties: Record<string, JsonSchema> };
    wrong.properties.amount!.type = 'strng';
    assert.equal(ajv.validateSchema(wrong), false);
  });

  it('hold JSON Schemas that accept and refuse what the protocol validator accepts and refuses', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'mdl:platform', components: platformOpenApi().components });
    const check = (name: string) => ajv.getSchema(`mdl:platform#/components/schemas/${name}`)!;
    const item = { orgTraceId: 'T1', medType: '11', feeType: '01', itemName: '诊查费', amount: '25.00', actualTime: '2026-11-20 09:00:00' };
    const person = { idNo: '11010519491231002X', idType: '01', userName: '王五', ehealthCardId: 'E1', userType: '02', itemList: [item] };
    const report = {
      orgId: 'H35010200001',
      orgName: '测试医院',
      notifyUrl: 'https://his.example.cn/cb',
      orgRequestId: 'R1',
      unsettleList: [person],
    };
    const update = {
      orgId: 'H35010200001',
      notifyUrl: 'https://his.example.cn/cb',
      orgRequestId: 'U1',
      itemList: [{ orgTraceId: 'T1', traceId: 'X1', state: '1' }],
    };
    const samples: [InterfaceCode, string, unknown][] = [
      ['ORG_MDL_001', 'valid', report],
      ['ORG_MDL_001', 'orgId too long', { ...report, orgId: 'H350102000011' }],
      ['ORG_MDL_001', 'orgName missing', { ...report, orgName: undefined }],
      ['ORG_MDL_001', 'orgName empty', { ...report, orgName: '' }],
      ['ORG_MDL_001', 'userName of 21 characters', { ...report, unsettleList: [{ ...person, userName: '名'.repeat(21) }] }],
      ['ORG_MDL_001', 'userName of 20 characters', { ...report, unsettleList: [{ ...person, userName: '𠀀'.repeat(20) }] }],
      ['ORG_MDL_001', 'idType not in the dictionary', { ...report, unsettleList: [{ ...person, idType: '00' }] }],
      [
        'ORG_MDL_001',
        'amount with three decimals',
        { ...report, unsettleList: [{ ...person, itemList: [{ ...item, amount: '25.001' }] }] },
      ],
      ['ORG_MDL_001', 'empty itemList', { ...report, unsettleList: [{ ...person, itemList: [] }] }],
      ['ORG_MDL_003', 'valid', update],
      [
        'ORG_MDL_003',
        '101 items',
        { ...update, itemList: Array.from({ length: 101 }, (_, i) => ({ orgTraceId: `T${i}`, traceId: `X${i}`, state: '1' })) },
      ],
      ['ORG_MDL_003', 'state 3', { ...update, itemList: [{ orgTraceId: 'T1', traceId: 'X1', state: '3' }] }],
      ['ORG_MDL_002', 'businessType missing', { idNo: '11010519491231002X', idType: '01', userName: '王五' }],
    ];
    for (const [code, what, payload] of samples) {
      const clean = JSON.parse(JSON.stringify(payload)) as unknown;
      const protocolOk = validate(INTERFACES[code].request, clean) === undefined;
      const schemaOk = check(payloadName(code, 'Request'))(clean) as boolean;
      assert.equal(schemaOk, protocolOk, `${code} ${what}: protocol ${protocolOk}, JSON Schema ${schemaOk}`);
      assert.equal(protocolOk, what === 'valid' || what === 'userName of 20 characters', `${code} ${what}`);
    }
  });

  it("carry every field of every interface with the guide's length, required flag and dictionary", () => {
    const docs = openApiDocuments();
    for (const code of Object.keys(INTERFACES) as InterfaceCode[]) {
      const def = INTERFACES[code];
      const doc = def.servedBy === 'platform' ? docs['platform.json']! : docs['hospital.json']!;
      const op = doc.paths[def.path]?.post;
      assert.ok(op, `${code} has no operation at ${def.path}`);
      assert.equal(op['x-interface-code'], code);
      for (const [direction, schema] of [
        ['Request', def.request],
        ['Response', def.response],
      ] as const) {
        const js = doc.components.schemas[payloadName(code, direction)] as { properties: Record<string, JsonSchema>; required?: string[] };
        for (const [key, field] of Object.entries(schema)) {
          const p = js.properties[key];
          assert.ok(p, `${code} ${direction}.${key} missing`);
          assert.equal(p.title, field.label);
          assert.equal(js.required?.includes(key) ?? false, field.required, `${code} ${direction}.${key} required`);
          if (field.kind === 'string') {
            assert.equal(p.maxLength, field.max, `${code} ${direction}.${key} maxLength`);
            assert.deepEqual((p.enum as string[] | undefined)?.toSorted(), field.dict ? Object.keys(field.dict).sort() : undefined);
          }
        }
      }
    }
    const codes = (docs['platform.json']!.components.schemas.RespCode!.oneOf as { const: string }[]).map((c) => c.const);
    assert.ok(['000000', '000101', '000102', '000105', '010010', '-4', '-5', '-6', '-8'].every((c) => codes.includes(c)));
  });
});

describe('OpenAPI served and used', () => {
  let t: TestPlatform;
  let inst: TestInstitution;
  before(async () => {
    t = await startTestPlatform();
    await t.listen();
    inst = await addInstitution(t.platform, 'H35010200021', { orgName: '福州市协和医院' });
  });
  after(async () => t.close());

  it('the platform serves its document with its own address, and the hospital document beside it', async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as { servers: { url: string }[]; paths: object };
    assert.deepEqual(
      doc.servers.map((s) => s.url),
      [t.url],
    );
    assert.deepEqual(Object.keys(doc.paths), Object.keys(platformOpenApi().paths));
    const hospital = (await (await fetch(`${t.url}/openapi/hospital.json`)).json()) as { paths: object };
    assert.deepEqual(Object.keys(hospital.paths), ['/qmdl/getOverdueResult', '/umdl/callback']);
  });

  it('a client generated from it (openapi-typescript + openapi-fetch) makes real signed calls', async () => {
    const client = createClient<paths>({ baseUrl: t.url });
    const cred = { appId: inst.appId, secret: inst.secret };
    async function signedCall<Path extends keyof paths>(
      path: Path,
      payload: RequestPayload<Path>,
    ): Promise<{ respCode: string; payload: ResponsePayload<Path> }> {
      const body = sealRequest(payload, cred) as Op<Path>['requestBody']['content']['application/json'];
      const r = await (client.POST as (p: string, init: object) => Promise<{ data?: unknown; response: Response }>)(path, {
        body,
        headers: { [SIGN_VERSION_HEADER]: SIGN_VERSION },
      });
      assert.equal(r.response.status, 200);
      const reply = openReply(r.data as Envelope, inst.secret, { allowPlain: false });
      return { respCode: reply.respCode, payload: reply.payload as ResponsePayload<Path> };
    }

    const idNo = residentId('350102', '19850312', 7);
    const report = await signedCall('/umdl/reportOverdueData', {
      orgId: inst.orgId,
      orgName: inst.orgName,
      notifyUrl: 'http://127.0.0.1:9/umdl/callback',
      orgRequestId: 'OPENAPI-1',
      unsettleList: [
        {
          idNo,
          idType: '01',
          userName: '林晓',
          ehealthCardId: 'EHC-OPENAPI-1',
          userType: '02',
          itemList: [
            { orgTraceId: 'OA-1', medType: '11', feeType: '01', itemName: '诊查费', amount: '25.00', actualTime: '2026-11-20 09:00:00' },
          ],
        },
      ],
    });
    assert.equal(report.respCode, '000000');
    assert.equal(report.payload.state, 'success');
    const batch = await t.platform.db.selectFrom('batch').select('org_request_id').where('org_id', '=', inst.orgId).executeTakeFirst();
    assert.equal(batch?.org_request_id, 'OPENAPI-1');

    // ORG_MDL_005 answers -3 (retryable) while the batch is still being processed: ask again, as the kit does.
    let result = await signedCall('/qmdl/queryReportResult', { orgId: inst.orgId, orgRequestId: 'OPENAPI-1' });
    for (let i = 0; i < 100 && result.respCode === '-3'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      result = await signedCall('/qmdl/queryReportResult', { orgId: inst.orgId, orgRequestId: 'OPENAPI-1' });
    }
    assert.equal(result.respCode, '000000');
    assert.equal(result.payload.orgId, inst.orgId);
  });

  it('the docs page shows every interface with its fields and codes, on desktop and phone', async () => {
    const browser = await launchBrowser();
    try {
      const page = await desktopPage(browser);
      const res = await page.goto(`${t.url}/docs`);
      assert.equal(res?.status(), 200);
      assert.match(res?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
      const headings = await page.$$eval('section.op h3', (hs) => hs.map((h) => h.textContent));
      assert.deepEqual(
        headings,
        Object.entries(INTERFACES)
          .filter(([, d]) => d.servedBy === 'platform')
          .map(([code, d]) => `${d.name}（${code}）`),
      );
      const orgIdRow = await page.locator('#reportOverdueData tbody tr').first().innerText();
      assert.match(orgIdRow, /orgId\s+机构 id, 国家编码\s+String\s+12\s+Y/);
      assert.match(await page.locator('#reportOverdueData').innerText(), /↳ ↳ amount\s+金额\s+String\s+10\s+Y/);
      assert.match(await page.locator('#resp-codes').innerText(), /010010\s+重放攻击拦截器/);
      await screenshot(page, 'openapi-docs-desktop');
      const phone = await phonePage(browser);
      await phone.goto(`${t.url}/docs/hospital`);
      assert.match(await phone.locator('#callback').innerText(), /notifyType\s*通知类型/);
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px on a phone`);
      await screenshot(phone, 'openapi-docs-hospital-phone');
    } finally {
      await browser.close();
    }
  });

  it('the 前置机 serves the document of its local API, whose routes are the ones it answers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mdl-openapi-fe-'));
    const fe = await startFrontend({
      platform: { baseUrl: t.url, appId: inst.appId, secret: inst.secret },
      org: { orgId: inst.orgId, orgName: inst.orgName },
      dataDir: dir,
      localPort: 0,
      platformHost: '127.0.0.1',
      platformPort: 0,
      localToken: 'local-token-for-test',
    });
    try {
      const doc = (await (await fetch(`${fe.localUrl}/openapi.json`)).json()) as {
        servers: { url: string }[];
        paths: Record<string, object>;
      };
      assert.deepEqual(
        doc.servers.map((s) => s.url),
        [fe.localUrl],
      );
      assert.ok((await (await fetch(`${fe.localUrl}/docs`)).text()).includes('前置机本地接口'));
      const auth = { authorization: 'Bearer local-token-for-test', 'content-type': 'application/json' };
      for (const [path, methods] of Object.entries(doc.paths)) {
        const method = Object.keys(methods)[0]!.toUpperCase();
        const r = await fetch(fe.localUrl + path, { method, headers: auth, ...(method === 'POST' ? { body: '{' } : {}) });
        // Every documented route exists: a GET answers, a POST with a broken body is refused as such, not as 404.
        assert.equal(r.status, method === 'GET' ? 200 : 400, `${method} ${path}`);
      }
      assert.equal((await fetch(`${fe.localUrl}/local/nothing`, { method: 'POST', headers: auth, body: '{}' })).status, 404);
    } finally {
      await fe.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
