/**
 * `@mdl/platform`: what a host application needs to run the platform in its own process: the
 * configuration, the platform (database, queue, workers), the HTTP application, migrations and the
 * provisioning of institutions. Everything else is internal; tests use `@mdl/platform/testing`.
 */
export { buildApp } from './app.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { createPlatform, MasterKeyMismatchError, type Platform, type PlatformOptions } from './platform.js';
export { migrate } from './db/migrate.js';
export { createLogger, type Logger } from './log.js';
export { createApp, upsertInstitution } from './domain/credentials.js';
export { getOrRegisterPerson } from './domain/persons.js';
// A city whose e-health-card system is reached some other way than the HTTP API of docs/ehc-flows.md passes its own
// adapter as `createPlatform(config, { city })`.
export { CityCardUnavailable, type CityCard, type CityCardSystem, type CityCallContext, type InsuredQuery } from './domain/ehc/upstream.js';
