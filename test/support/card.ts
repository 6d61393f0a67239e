import type { Page } from 'playwright-core';
/** /card sign-in over real HTTP (issue #12): the form's double-submit CSRF token, the SMS code from the sandbox outbox. */

export interface CardIdentity {
  userName: string;
  idType?: string;
  idNo: string;
  mobilePhone: string;
}

export class CardClient {
  /** Cookies of this "browser": name → value. */
  readonly jar = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly ip = '203.0.113.1',
  ) {}

  get cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(path: string, init: { method?: string; form?: Record<string, string> } = {}) {
    const res = await fetch(`${this.base}${path}`, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        'x-forwarded-for': this.ip,
        ...(this.jar.size ? { cookie: this.cookie } : {}),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, ...v] = pair!.split('=');
      const value = v.join('=');
      if (value === '' || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c)) this.jar.delete(k!);
      else this.jar.set(k!, value);
    }
    const body = await res.text();
    return { status: res.status, body, location: res.headers.get('location') };
  }

  /** The CSRF token of a page's form. */
  async csrf(path = '/card/login'): Promise<string> {
    const page = await this.request(path);
    return /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  }

  /** Step 1: the details. Returns the code page's challenge and the page. */
  async details(who: CardIdentity, mode: 'login' | 'register' = 'login', next = '/card') {
    const _csrf = await this.csrf(`/card/${mode}`);
    const r = await this.request(`/card/${mode}`, {
      form: { _csrf, next, idType: '01', agree: '1', ...who } as Record<string, string>,
    });
    return { ...r, challenge: /name="challenge" value="([^"]*)"/.exec(r.body)?.[1] ?? '' };
  }

  /** Step 2: the code. */
  async code(challenge: string, code: string, next = '/card') {
    const _csrf = this.jar.get('ehc_csrf') ?? '';
    const r = await this.request('/card/verify', { form: { _csrf, challenge, code, next } });
    return { ...r, error: /role="alert">([^<]*)</.exec(r.body)?.[1] ?? '' };
  }

  /** The newest sign-in code the sandbox "sent" to this phone, from the outbox page. */
  async outbox(): Promise<{ phone: string; code: string }[]> {
    const page = await fetch(`${this.base}/card/sandbox/sms`);
    const html = await page.text();
    return [...html.matchAll(/class="sms-phone">(\d+)<\/span><\/p>\s*<p class="sms-text">[^<]*?验证码 (\d{6})/g)].map((m) => ({
      phone: m[1]!,
      code: m[2]!,
    }));
  }

  async lastCode(phone: string): Promise<string | undefined> {
    return (await this.outbox()).find((m) => m.phone === phone)?.code;
  }

  /** The outbox's newest message now, to tell later whether anything was sent. */
  async mark(): Promise<string> {
    const [m] = await this.outbox();
    return m ? `${m.phone}:${m.code}` : '';
  }

  /** The code sent to `phone` after `mark` was taken, if any. */
  async sentSince(mark: string, phone: string): Promise<string | undefined> {
    const list = await this.outbox();
    const at = list.findIndex((m) => `${m.phone}:${m.code}` === mark);
    const newer = at === -1 ? list : list.slice(0, at);
    return newer.find((m) => m.phone === phone)?.code;
  }

  /** Both steps with the code from the outbox; the answer of the code step. */
  async signIn(who: CardIdentity, mode: 'login' | 'register' = 'login', next = '/card') {
    const before = await this.mark();
    const d = await this.details(who, mode, next);
    const code = await this.sentSince(before, who.mobilePhone);
    return { ...(await this.code(d.challenge, code ?? '000000', next)), sent: code !== undefined, details: d };
  }
}

/**
 * In a browser: submits the details form that is on `page`, reads the code the sandbox sent to `phone` from
 * the outbox page, and submits it on the code form.
 */
export async function submitWithSmsCode(page: Page, base: string, phone: string, button = 'button[type=submit]'): Promise<void> {
  const outbox = new CardClient(base);
  const mark = await outbox.mark();
  await page.click(button);
  await page.waitForSelector('#code');
  const code = await outbox.sentSince(mark, phone);
  if (!code) throw new Error(`no SMS code was sent to ${phone}`);
  await page.fill('#code', code);
  await page.click('button[type=submit]');
}
