import type { FastifyPluginAsync } from 'fastify';
import type { Platform } from '../../platform.js';
import { privatePageHeaders } from '../security.js';
import { pageRoutes } from '../route-schemas.js';
import { citizenRoutes } from './citizen.js';
import { kioskRoutes } from './kiosk.js';
import { legalRoutes } from './legal.js';
import { sandboxSmsRoutes } from './sandbox-sms.js';

/** E-health-card pages under /card (the POST paths /ehc/* belong to the gateway). */
export const ehcPagesPlugin: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
  // Card pages show identity and a live health code: same private-page headers as the citizen app.
  app.addHook(
    'onRequest',
    privatePageHeaders(
      [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
    ),
  );
  // Routes take their request types from their schemas (../route-schemas.ts).
  const routes = pageRoutes(app);
  citizenRoutes(routes, platform);
  // The kiosk demo acts as a hospital with nothing but a test credential's appId: a sandbox's page only.
  if (platform.config.deployment === 'sandbox') kioskRoutes(routes, platform);
  // The SMS outbox the tester reads: a sandbox without an SMS gateway only.
  if (platform.config.deployment === 'sandbox' && !platform.config.smsUrl) sandboxSmsRoutes(app, platform);
  legalRoutes(app);
};
