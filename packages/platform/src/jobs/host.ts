import type { Config } from '../config.js';
import type { Services } from '../domain/deps.js';
import type { ProcessDeps } from '../domain/processing.js';
import type { JobQueue, JobType } from '../queue/queue.js';
import type { BatchJobData } from './definitions.js';

/**
 * What the job declarations need of the process they run in: the domain's services, the queue and the job types
 * built from the configuration. Declared here rather than taken from platform.ts, which imports jobs/ (no cycle).
 */
export interface JobsHost extends Services {
  /** Job schedules and retry limits are settings the domain does not see. */
  config: Config;
  jobs: JobQueue;
  callbackJob: JobType<BatchJobData>;
  processDeps: ProcessDeps;
}
