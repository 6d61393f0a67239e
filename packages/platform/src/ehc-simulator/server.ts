import { createServer, type Server } from 'node:http';
import { MdlError, RespCode, checkSignature, extractPayload, sealResponse, unsignedResponse, type Envelope } from '@mdl/protocol';
import type { SimPerson, SimStore } from './store.js';

export interface SimulatorOptions {
  store: SimStore;
  /** The credential the city issued the platform (MDL_EHC_UPSTREAM_APP_ID / _SECRET on the platform side). */
  appId: string;
  secret: string;
  /** Answer the first N business calls with HTTP 503 (to watch the platform retry). */
  failFirst?: number;
  /** Hold every answer this long (to watch the platform's timeout). */
  delayMs?: number;
  /** Accepted clock difference of the envelope timestamp. */
  toleranceMs?: number;
}

type Answer =
  { state: 'success'; ehealthCardId: string; cardNo: string; cardType: string } | { state: 'fail'; msg: string } | { state: 'none' };

/**
 * A city e-health-card system as the platform's adapter (outbound/city-card.ts) talks to it: the guide's envelope
 * (SM4 + SM3 with the credential it issued), three calls, its own store. It stands in for the real city system in
 * the tests and the sandbox; the API it serves is the one documented in docs/ehc-flows.md.
 */
export function createSimulator(opts: SimulatorOptions): Server {
  let failing = opts.failFirst ?? 0;
  const tolerance = opts.toleranceMs ?? 300_000;
  return createServer((req, res) => {
    const send = (status: number, body: Envelope | string) => {
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const op = /\/card\/(find|issue|insured)$/.exec(req.url ?? '')?.[1];
    if (req.method !== 'POST' || !op) return send(404, unsignedResponse(RespCode.BAD_PATH, RESP_404));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => void setTimeout(answer, opts.delayMs ?? 0));
    const answer = () => {
      if (failing > 0) {
        failing--;
        return send(503, 'simulated outage');
      }
      let env: Envelope;
      try {
        env = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope;
        if (env === null || typeof env !== 'object') throw new Error('not an object');
      } catch {
        return send(200, unsignedResponse(RespCode.DECRYPT_FAILED, '报文不是 JSON'));
      }
      if (env.appId !== opts.appId) return send(200, unsignedResponse(RespCode.APP_NOT_FOUND, '应用信息不存在'));
      if (Math.abs(Date.now() - Number(env.timestamp)) > tolerance) return send(200, unsignedResponse(RespCode.REPLAY, '时间戳超出范围'));
      let payload: Record<string, unknown>;
      try {
        const opened = extractPayload(env, opts.secret, { allowPlain: false, payloadRequired: true });
        checkSignature(env, opened, opts.secret, false);
        payload = opened.payload!;
      } catch (e) {
        const code = e instanceof MdlError ? e.code : RespCode.DECRYPT_FAILED;
        return send(200, unsignedResponse(code, (e as Error).message, opts.appId));
      }
      const result = handle(opts.store, op as 'find' | 'issue' | 'insured', payload);
      send(200, sealResponse(result, { appId: opts.appId, secret: opts.secret, respCode: RespCode.SUCCESS }));
    };
  });
}

const RESP_404 = '无效的请求地址';

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

function handle(store: SimStore, op: 'find' | 'issue' | 'insured', p: Record<string, unknown>): Answer {
  const idType = text(p.idType);
  const idNo = text(p.idNo).toUpperCase();
  const userName = text(p.userName);
  if (!idType || !idNo || !userName) return { state: 'fail', msg: '证件类型、证件号、姓名不能为空' };
  const known = store.get(idType, idNo);
  if (known && known.userName !== userName) return { state: 'fail', msg: '姓名与证件号不一致' };
  const phone = text(p.mobilePhone);
  switch (op) {
    case 'find': {
      if (!known?.card) return { state: 'none' };
      if (known.mobilePhone && phone !== known.mobilePhone) return { state: 'fail', msg: '手机号与领卡时登记的不一致' };
      return success(known.card);
    }
    case 'issue': {
      if (known?.card) {
        if (known.mobilePhone && phone !== known.mobilePhone) return { state: 'fail', msg: '手机号与领卡时登记的不一致' };
        return success(known.card);
      }
      const person: SimPerson = { ...(known ?? { idType, idNo, userName }), mobilePhone: known?.mobilePhone ?? (phone || undefined) };
      person.card = store.newCard();
      store.put(person);
      return success(person.card);
    }
    case 'insured':
      return insured(store, known, p);
  }
}

/** ORG_EHC_004's checks, as a city's insured-person records answer them (guide §4.5.4.2). */
function insured(store: SimStore, known: SimPerson | undefined, p: Record<string, unknown>): Answer {
  const type = text(p.type);
  const psnNo = text(p.psnNo);
  const cardNo = text(p.cardNo);
  const admdvs = text(p.insuplcAdmdvs);
  if (type !== '01' && type !== '02') return { state: 'fail', msg: '类型 type 只能是 01（医保电子凭证）或 02（医保卡）' };
  if (!known?.psnNo) return { state: 'fail', msg: '未查到该证件的参保信息' };
  if (psnNo !== known.psnNo) return { state: 'fail', msg: '人员编号 psnNo 与证件信息不一致' };
  if (type === '02' && !cardNo) return { state: 'fail', msg: '医保卡就诊（type=02）须填写卡号 cardNo' };
  if (cardNo && cardNo !== known.insuranceCardNo) return { state: 'fail', msg: '卡号 cardNo 与参保信息不一致' };
  const remote = !!known.insuplcAdmdvs && !known.insuplcAdmdvs.startsWith('35');
  if (!admdvs && remote) return { state: 'fail', msg: '异地参保人员须填写参保区划 insuplcAdmdvs' };
  if (admdvs && admdvs !== known.insuplcAdmdvs) return { state: 'fail', msg: '参保区划 insuplcAdmdvs 与参保信息不一致' };
  if (!known.card) {
    known.card = store.newCard();
    store.put(known);
  }
  return success(known.card);
}

function success(c: { ehealthCardId: string; cardNo: string; cardType: string }): Answer {
  return { state: 'success', ehealthCardId: c.ehealthCardId, cardNo: c.cardNo, cardType: c.cardType };
}
