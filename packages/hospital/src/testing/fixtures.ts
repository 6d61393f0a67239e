/** Test data shared by the kit's tests and usable by the end-to-end suite. */
import type { Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { residentIdCheckChar } from '@mdl/protocol';
import type { UnsettledPerson } from '@mdl/protocol';
import { REPORT_COLUMNS, csvField } from '../csv.js';

export const TEST_APP = {
  appId: 'HOSPAPP0001',
  secret: 'HospitalSecret-0123456789abcdefXYZ',
  orgId: 'H35010200001',
  orgName: '福州市第一医院',
};

/** A valid resident id number for the n-th test patient (born 1990, Fuzhou). */
export function testIdNo(n: number): string {
  const first17 = `35010219900101${String(n % 1000).padStart(3, '0')}`;
  return first17 + residentIdCheckChar(first17);
}

/**
 * A report file with `n` rows: the first is the standard GB 11643 example patient, the rest are
 * one item each for distinct real-name patients (`per` items per patient when given).
 */
export function reportCsv(n: number, opts: { per?: number; prefix?: string; day?: string } = {}): string {
  const per = opts.per ?? 1;
  const day = opts.day ?? '2026-11-24';
  const rows = [REPORT_COLUMNS.join(',')];
  for (let i = 0; i < n; i++) {
    const p = Math.floor(i / per);
    const idNo = p === 0 ? '11010519491231002X' : testIdNo(p);
    const cells = [
      idNo,
      '01',
      `患者${p}`,
      `EHC${idNo}`,
      '',
      '01',
      `${opts.prefix ?? 'T'}${i}`,
      '11',
      '01',
      '诊查费, 普通',
      '25.00',
      `${day} 09:15:00`,
    ];
    rows.push(cells.map(csvField).join(','));
  }
  return rows.join('\n') + '\n';
}

/** Listens on a free loopback port and gives the base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** `n` patients with `per` items each; real-name ids are not needed for batching. */
export function makePersons(n: number, per = 1, prefix = 'T'): UnsettledPerson[] {
  return Array.from({ length: n }, (_, p) => ({
    userType: '01',
    userName: `患者${p}`,
    itemList: Array.from({ length: per }, (_, i) => ({
      orgTraceId: `${prefix}${p}-${i}`,
      medType: '11',
      feeType: '01',
      itemName: '诊查费',
      amount: '25.00',
      actualTime: '2026-11-24 09:15:00',
    })),
  }));
}

/**
 * Sends a request whose 40-byte body trickles in one byte every 250 ms (10 s in all) and reports whether the
 * server cut it off before the body was complete, and what it answered.
 */
export async function trickle(
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ cutOff: boolean; reply: string }> {
  const u = new URL(base);
  const socket = connect(Number(u.port), u.hostname);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  let reply = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => (reply += c));
  socket.on('close', () => (closed = true));
  socket.on('error', () => (closed = true));
  const body = '{"rows":[]}'.padEnd(40, ' ');
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\n${extra}Content-Length: ${body.length}\r\n\r\n`,
  );
  let sent = 0;
  while (!closed && sent < body.length) {
    socket.write(body[sent]!);
    sent++;
    await new Promise((r) => setTimeout(r, 250));
  }
  socket.destroy();
  return { cutOff: closed && sent < body.length, reply };
}
