import type { ApiHandler } from './types.js';
import { genAuthUrl } from './genAuthUrl.js';
import { queryAuthResult } from './queryAuthResult.js';
import { verifyQrCode } from './verifyQrCode.js';
import { getIntoMdlUrl } from './getIntoMdlUrl.js';
import { queryEcAuthResult } from './queryEcAuthResult.js';
import { queryOverdueData } from './queryOverdueData.js';
import { queryReportResult } from './queryReportResult.js';
import { reportOverdueData } from './reportOverdueData.js';
import { updateOverdueData } from './updateOverdueData.js';

/** The interfaces this platform serves. Adding one here is all the gateway needs. */
export const API_HANDLERS: ApiHandler[] = [
  reportOverdueData,
  queryOverdueData,
  updateOverdueData,
  queryReportResult,
  queryEcAuthResult,
  genAuthUrl,
  queryAuthResult,
  verifyQrCode,
  getIntoMdlUrl,
];
