export { buildApp } from './app.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { createPlatform, type Platform, type PlatformOptions } from './platform.js';
export { createApp, upsertInstitution } from './domain/credentials.js';
export { getOrRegisterPerson } from './domain/persons.js';
