import { maskName } from '@mdl/protocol';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppealError, appealInputProblems, fileAppeal } from '../../domain/appeals.js';
import { MAX_RECEIPT_BYTES, receiptProblem, sealReceipt } from '../../domain/appeal-receipts.js';
import { Type } from '@sinclair/typebox';
import { boundaryOf, parseMultipart } from '../multipart.js';
import { FieldValue, Fields, FormBody, IdParams, TokenParams, fieldOf, pageRoutes } from '../route-schemas.js';
import { CITIZEN_ASSETS } from './assets.js';
import { auditCitizen } from '../../domain/audit.js';
import { personNameEnc } from '../../domain/persons.js';
import { citizenOverview, itemSubject, type CitizenRecord } from '../../domain/citizen/records.js';
import { refreshForCitizen } from '../../domain/citizen/refresh.js';
import { MDR_PATH, endSession, findSession, openEntry, sessionSubjects, type CitizenSession } from '../../domain/citizen/tokens.js';
import type { Platform } from '../../platform.js';
import { NOTICES, overviewPage } from './views.js';
import { LOGGED_OUT, RECORD_NOT_FOUND, STALE_FORM, entryRefusedPage, noSessionPage } from './info-pages.js';
import { appealPage } from './appeal-view.js';
import { payPage } from './pay-view.js';
import { privatePageHeaders } from '../security.js';
import { sameToken } from '../csrf.js';
import { cardPhoneRoutes, mayGivePhone } from './card-phone.js';

const COOKIE = 'mdr_sid';

/** A receipt photo as ../multipart.ts parses it; `data` is the parser's Buffer, which JSON schema cannot describe. */
const FilePartSchema = Type.Object({ filename: Type.String(), data: Type.Unsafe<Buffer>({}) });
/** The appeal form: multipart with a photo, or a plain form from a browser that sends no file (`req.body ?? {}`). */
const AppealBody = Type.Union([Type.Record(Type.String(), Type.Union([FieldValue, FilePartSchema])), Type.Null()]);

/**
 * The citizen app under /mdr: entered only through an mdrUrl token (ORG_MDL_004), then a cookie session
 * for that one person. Plain HTML forms, no script at all (the CSP forbids it), so it works in any
 * app's web view and user text can never run.
 */
export const citizenPlugin: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
  const { db, vault, config } = platform;
  const secure = config.publicUrl.startsWith('https://');
  const ttlMin = Math.round(config.mdrTokenTtlMs / 60_000);

  // The entry URL carries the token: no Referer may leak it to a payment link (privatePageHeaders).
  app.addHook(
    'onRequest',
    privatePageHeaders(
      [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'unsafe-inline'",
        "img-src 'self' data:",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
    ),
  );

  // The appeal form sends a receipt photo: multipart, whole, at most the photo's limit plus the text fields.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: MAX_RECEIPT_BYTES + 64 * 1024 }, (req, body, done) => {
    const boundary = boundaryOf(req.headers['content-type']);
    const fields = boundary ? parseMultipart(body as Buffer, boundary) : undefined;
    if (!fields) return done(Object.assign(new Error('表单格式有误'), { statusCode: 400 }), undefined);
    done(null, fields);
  });

  CITIZEN_ASSETS.register(app, `${MDR_PATH}/assets`);
  // Routes take their request types from their schemas (../route-schemas.ts).
  const routes = pageRoutes(app);

  const html = (reply: FastifyReply, body: string, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(body);
  const session = (req: FastifyRequest) => findSession(db, req.cookies[COOKIE], platform.now());
  const noSession = (reply: FastifyReply) => html(reply, noSessionPage(ttlMin), 401);
  // The one constant-time comparison of every form (web/csrf.ts).
  const csrfOk = (req: FastifyRequest, s: CitizenSession) => sameToken(fieldOf(req.body, 'csrf'), s.csrf);
  const displayName = (s: CitizenSession) => (s.name_enc ? maskName(vault.decrypt(s.name_enc)) : '');

  routes.get(`${MDR_PATH}/t/:token`, { schema: { params: TokenParams } }, async (req, reply) => {
    const { token } = req.params;
    const r = await openEntry(db, token, platform.now(), config.mdrTokenTtlMs, (personId) => personNameEnc(db, personId));
    if (r.ok) {
      await auditCitizen(db, 'mdr', 'mdr.open', { subject: r.session.subject_bidx, requestId: req.id });
      reply.setCookie(COOKIE, r.sid, {
        path: MDR_PATH,
        httpOnly: true,
        sameSite: 'lax',
        secure,
        maxAge: Math.floor(config.mdrTokenTtlMs / 1000),
      });
      return reply.redirect(`${MDR_PATH}/`, 303);
    }
    // Reloading the entry link in the browser that already opened it just continues the session.
    const current = await session(req);
    if (r.why === 'used' && current && current.subject_bidx === r.subjectBidx) return reply.redirect(`${MDR_PATH}/`, 303);
    await auditCitizen(db, 'mdr', 'mdr.open', { subject: r.subjectBidx ?? null, outcome: 'refused', requestId: req.id, detail: r.why });
    const refused = entryRefusedPage(r.why, ttlMin);
    return html(reply, refused.html, refused.status);
  });

  routes.get(MDR_PATH, async (_req, reply) => reply.redirect(`${MDR_PATH}/`, 301));

  routes.get(`${MDR_PATH}/`, { schema: { querystring: Fields } }, async (req, reply) => {
    const s = await session(req);
    if (!s) return noSession(reply);
    const policy = await platform.policy.get();
    const o = await citizenOverview(db, sessionSubjects(s), policy, platform.now());
    const notice = req.query.n;
    return html(
      reply,
      overviewPage(o, policy, {
        name: displayName(s),
        csrf: s.csrf,
        now: platform.now(),
        cardPhone: await mayGivePhone(platform, s),
        ...(typeof notice === 'string' && Object.hasOwn(NOTICES, notice) ? { notice } : {}),
        // The result of 状态更新 or an appeal is shown beside the record it is about, not at the top.
        ...(typeof req.query.i === 'string' && /^\d{1,15}$/.test(req.query.i) ? { item: Number(req.query.i) } : {}),
      }),
    );
  });

  routes.get(`${MDR_PATH}/pay`, async (req, reply) => {
    const s = await session(req);
    if (!s) return noSession(reply);
    const o = await citizenOverview(db, sessionSubjects(s), await platform.policy.get(), platform.now());
    return html(reply, payPage(o, s.csrf));
  });

  /** The session's own record, or undefined: another person's id looks exactly like a missing one. */
  const ownRecord = async (s: CitizenSession, rawId: string): Promise<CitizenRecord | undefined> => {
    if (!/^\d{1,15}$/.test(rawId)) return undefined;
    const o = await citizenOverview(db, sessionSubjects(s), await platform.policy.get(), platform.now());
    return [...o.unpaid, ...o.history].find((r) => r.id === Number(rawId));
  };
  const notFound = (reply: FastifyReply) => html(reply, RECORD_NOT_FOUND, 404);
  cardPhoneRoutes(routes, platform, session);

  const badForm = (reply: FastifyReply) => html(reply, STALE_FORM, 403);

  routes.post(`${MDR_PATH}/items/:id/refresh`, { schema: { params: IdParams, body: FormBody } }, async (req, reply) => {
    const s = await session(req);
    if (!s) return noSession(reply);
    if (!csrfOk(req, s)) return badForm(reply);
    const { id } = req.params;
    if (!/^\d{1,15}$/.test(id)) return notFound(reply);
    // Each refresh is a call into a hospital: a few per item per minute is plenty for a person.
    if ((await platform.shared.hit(`mdr-refresh:${s.subject_bidx}:${id}`, 60_000)) > 3)
      return reply.redirect(`${MDR_PATH}/?n=slow&i=${id}#item-notice`, 303);
    const r = await refreshForCitizen(platform, { itemId: Number(id), subjects: sessionSubjects(s), requestId: req.id });
    if (r.kind === 'not-found') return notFound(reply);
    const n = { paid: 'paid', revoked: 'revoked', unpaid: 'unpaid', 'no-answer': 'noanswer', 'already-settled': 'settled' }[r.kind];
    return reply.redirect(`${MDR_PATH}/?n=${n}&i=${id}#item-notice`, 303);
  });

  routes.get(`${MDR_PATH}/items/:id/appeal`, { schema: { params: IdParams } }, async (req, reply) => {
    const s = await session(req);
    if (!s) return noSession(reply);
    const r = await ownRecord(s, req.params.id);
    if (!r) return notFound(reply);
    return html(reply, appealPage(r, s.csrf));
  });

  routes.post(`${MDR_PATH}/items/:id/appeal`, { schema: { params: IdParams, body: AppealBody } }, async (req, reply) => {
    const s = await session(req);
    if (!s) return noSession(reply);
    if (!csrfOk(req, s)) return badForm(reply);
    const r = await ownRecord(s, req.params.id);
    if (!r) return notFound(reply);
    const body = req.body ?? {};
    const reason = typeof body.reason === 'string' ? body.reason : '';
    const description = typeof body.description === 'string' ? body.description : '';
    // An empty file input sends a part with no name and no bytes: no photo.
    const receipt = body.receipt;
    const file = typeof receipt === 'object' && !Array.isArray(receipt) && receipt.data.length > 0 ? receipt : undefined;
    const errors: { reason?: string; description?: string; receipt?: string } = appealInputProblems({ reason, description });
    const receiptError = file ? receiptProblem(file.data) : undefined;
    if (receiptError) errors.receipt = `${receiptError}（照片需重新选择）`;
    if (errors.reason || errors.description || errors.receipt)
      return html(reply, appealPage(r, s.csrf, { reason, description, errors }), 422);
    try {
      await fileAppeal(db, {
        itemId: r.id,
        // The record's own key (real-name or the entering institution's local key), already checked as ours.
        subjectBidx: await itemSubject(db, r.id),
        reason,
        description,
        actor: 'mdr',
        requestId: req.id,
        receipt: file ? sealReceipt(vault, file.data) : undefined,
      });
    } catch (e) {
      if (!(e instanceof AppealError)) throw e;
      return html(reply, appealPage(r, s.csrf, { reason, description, errors: { description: e.message } }), 422);
    }
    return reply.redirect(`${MDR_PATH}/?n=appealed&i=${r.id}#item-notice`, 303);
  });

  routes.post(`${MDR_PATH}/logout`, { schema: { body: FormBody } }, async (req, reply) => {
    const sid = req.cookies[COOKIE];
    if (sid) await endSession(db, sid);
    reply.clearCookie(COOKIE, { path: MDR_PATH });
    return html(reply, LOGGED_OUT);
  });
};
