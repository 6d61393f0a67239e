/**
 * nginx for the deployment test: the shipped deploy/nginx/mdl.conf with only its ports and
 * certificate paths rewritten, inside a top-level configuration of its own (pid, logs and temp files
 * in the test's directory), on loopback. Never the system nginx's configuration or default site.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, type Proc } from './procs.js';

export const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

function replaceExactly(text: string, pattern: RegExp, replacement: string, times: number): string {
  const found = text.match(new RegExp(pattern.source, 'gm'))?.length ?? 0;
  if (found !== times) throw new Error(`deploy/nginx/mdl.conf changed: expected ${times} match(es) of ${pattern}, found ${found}`);
  return text.replace(new RegExp(pattern.source, 'gm'), replacement);
}

export interface NginxPorts {
  http: number;
  https: number;
  upstreams: [number, number];
}

export function renderSite(shipped: string, dir: string, ports: NginxPorts): string {
  let conf = replaceExactly(shipped, /^(\s*)listen 80;$/, `$1listen 127.0.0.1:${ports.http};`, 1);
  conf = replaceExactly(conf, /^(\s*)listen 443 ssl http2;$/, `$1listen 127.0.0.1:${ports.https} ssl http2;`, 1);
  conf = replaceExactly(conf, /^(\s*server )127\.0\.0\.1:8081( .*)$/, `$1127.0.0.1:${ports.upstreams[0]}$2`, 1);
  conf = replaceExactly(conf, /^(\s*server )127\.0\.0\.1:8082( .*)$/, `$1127.0.0.1:${ports.upstreams[1]}$2`, 1);
  conf = replaceExactly(conf, /\/etc\/mdl\/tls\//, `${dir}/tls/`, 2);
  return conf;
}

/** A self-signed certificate for 127.0.0.1; returns the PEM to trust. */
export function makeCertificate(dir: string): string {
  mkdirSync(join(dir, 'tls'), { recursive: true });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'tls', 'privkey.pem'),
      '-out',
      join(dir, 'tls', 'fullchain.pem'),
    ],
    { stdio: 'pipe' },
  );
  return readFileSync(join(dir, 'tls', 'fullchain.pem'), 'utf8');
}

export function startNginx(site: string, dir: string): Proc {
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(dir, 'temp', d), { recursive: true });
    chmodSync(join(dir, 'temp', d), 0o777); // nginx's workers drop root
  }
  writeFileSync(join(dir, 'mdl.conf'), site);
  const t = (d: string) => join(dir, 'temp', d);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  log_format upstream '$request_method $request_uri $status upstream=$upstream_addr request_id=$request_id';
  access_log ${dir}/access.log upstream;
  client_body_temp_path ${t('client_body')};
  proxy_temp_path ${t('proxy')};
  fastcgi_temp_path ${t('fastcgi')};
  uwsgi_temp_path ${t('uwsgi')};
  scgi_temp_path ${t('scgi')};
  include ${dir}/mdl.conf;
}
`,
  );
  execFileSync(NGINX, ['-t', '-p', dir, '-e', `${dir}/error.log`, '-c', join(dir, 'nginx.conf')], { stdio: 'pipe' });
  return start('nginx', [NGINX, '-p', dir, '-e', `${dir}/error.log`, '-c', join(dir, 'nginx.conf')], { PATH: process.env.PATH ?? '' }, dir);
}
