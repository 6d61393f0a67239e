import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Platform } from '../platform.js';

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/**
 * Prometheus's `/metrics` on a listener of its own (MDL_METRICS_PORT on MDL_METRICS_HOST, loopback by default),
 * for `mdl serve` and `mdl worker` alike. The figures have no sign-in, so they never share the public port that
 * nginx exposes. Nothing when MDL_METRICS_PORT is unset.
 */
export async function startMetricsListener(platform: Platform): Promise<MetricsListener | undefined> {
  const { metricsPort, metricsHost } = platform.config;
  if (metricsPort === undefined) return undefined;
  // prom-client is loaded here, not by the platform: processes without a metrics port never load it.
  const { platformRegistry, processMetrics } = await import('../metrics-scrape.js');
  const registries = [processMetrics(), platformRegistry(platform)];
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    Promise.all(registries.map((r) => r.metrics())).then(
      (texts) => {
        res.writeHead(200, { 'content-type': registries[1]!.contentType });
        res.end(req.method === 'HEAD' ? undefined : texts.join(''));
      },
      (err: unknown) => {
        platform.log.error({ err }, 'metrics scrape failed');
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable\n');
      },
    );
  });
  // A scraper that stalls cannot hold sockets open for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(metricsPort, metricsHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${metricsHost.includes(':') ? `[${metricsHost}]` : metricsHost}:${port}/metrics`;
  platform.log.info({ metricsUrl: url }, 'metrics listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
