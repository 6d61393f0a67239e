// A small closed-loop HTTP/1.1 load generator on raw keep-alive sockets: N connections, each sending
// its next request as soon as the previous reply is complete. Request bytes are prepared before the
// clock starts, so the generator spends its time on sockets, not on building requests.
import { performance } from 'node:perf_hooks';
import { connect } from 'node:net';
import { percentile } from './common.mjs';

/**
 * @param {object} o
 * @param {number | number[]} o.port  several: the connections are spread over them in turn (two API processes)
 * @param {string} o.path
 * @param {number} o.connections
 * @param {number} o.durationMs
 * @param {() => Buffer} o.nextBody  next request body (already serialised)
 * @param {(status: number, body: Buffer, n: number) => boolean} o.check  true when the reply is a success
 * @param {boolean} [o.keepLatencies]  return the sorted latencies too
 * @param {number} [o.rate]  a fixed total rate (req/s) instead of the closed loop: each connection sends on a
 *   schedule, and a request's latency counts from when it was due, so a server that falls behind is not
 *   flattered by the load slowing down with it (no coordinated omission)
 */
export async function runLoad(o) {
  const ports = [o.port].flat();
  const head = (len, port) =>
    Buffer.from(
      `POST ${o.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json; charset=utf-8\r\nX-Api-Sign-Version: 2.0.0\r\nContent-Length: ${len}\r\nConnection: keep-alive\r\n\r\n`,
    );
  const latencies = [];
  let ok = 0;
  let errors = 0;
  let sent = 0;
  const firstErrors = [];
  const started = performance.now();
  const deadline = started + o.durationMs;

  // On a fixed rate, each connection's requests are due every `every` ms, the connections staggered evenly.
  const every = o.rate ? (o.connections / o.rate) * 1000 : 0;
  const oneConnection = (port, i) =>
    new Promise((resolve) => {
      const sock = connect({ port, host: '127.0.0.1', noDelay: true });
      let buf = Buffer.alloc(0);
      let t0 = 0;
      let due = started + (every * i) / o.connections - every;
      let expect = -1;
      let headerLen = 0;
      let status = 0;
      const write = () => {
        const body = o.nextBody();
        sent++;
        sock.write(Buffer.concat([head(body.length, port), body]));
      };
      const send = () => {
        if (performance.now() >= deadline || (every && due + every >= deadline)) return void sock.end(resolve);
        if (!every) {
          t0 = performance.now();
          return write();
        }
        due += every;
        t0 = due;
        const wait = due - performance.now();
        if (wait > 0) setTimeout(write, wait);
        else write();
      };
      const fail = (why) => {
        errors++;
        if (firstErrors.length < 5) firstErrors.push(why);
      };
      sock.on('connect', send);
      sock.on('data', (chunk) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        for (;;) {
          if (expect < 0) {
            const end = buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            const headers = buf.toString('latin1', 0, end);
            status = Number(headers.slice(9, 12));
            const m = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
            if (!m) {
              fail('reply without content-length');
              sock.destroy();
              return resolve();
            }
            headerLen = end + 4;
            expect = Number(m[1]);
          }
          if (buf.length < headerLen + expect) return;
          const body = buf.subarray(headerLen, headerLen + expect);
          buf = buf.subarray(headerLen + expect);
          expect = -1;
          const ms = performance.now() - t0;
          let good = false;
          try {
            good = status === 200 && o.check(status, body, sent);
          } catch {
            good = false;
          }
          if (good) {
            ok++;
            latencies.push(ms);
          } else fail(`HTTP ${status}: ${body.toString('utf8', 0, Math.min(body.length, 300))}`);
          send();
        }
      });
      sock.on('error', (e) => {
        fail(String(e));
        resolve();
      });
    });

  await Promise.all(Array.from({ length: o.connections }, (_, i) => oneConnection(ports[i % ports.length], i)));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ...summary({ seconds, ok, errors, latencies, firstErrors }),
    // Every success's latency, for merging windows (bench/interleaved.mjs); only when asked for.
    ...(o.keepLatencies ? { latencies } : {}),
  };
}

/** A load's figures from its counts and its sorted latencies (one window, or several merged). */
export function summary({ seconds, ok, errors, latencies, firstErrors }) {
  const pct = (p) => percentile(latencies, p);
  return {
    seconds,
    requests: ok + errors,
    ok,
    errors,
    rps: ok / seconds,
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    max: latencies[latencies.length - 1] ?? NaN,
    mean: latencies.reduce((s, x) => s + x, 0) / (latencies.length || 1),
    firstErrors,
  };
}
