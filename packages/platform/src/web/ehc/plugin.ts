import type { FastifyPluginAsync } from 'fastify';
import { ehcServices } from '../../domain/ehc/index.js';
import type { Platform } from '../../platform.js';
import { citizenRoutes } from './citizen.js';
import { kioskRoutes } from './kiosk.js';

/**
 * E-health-card pages under /card (the POST paths /ehc/* belong to the gateway). Building the services
 * here makes a misconfigured registry stop the start instead of the first citizen's request.
 */
export const ehcPagesPlugin: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
  ehcServices(platform);
  citizenRoutes(app, platform);
  kioskRoutes(app, platform);
};
