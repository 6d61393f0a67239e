export * from './documents.js';
export * from './envelope.js';
export * from './json-schema.js';
export * from './render.js';
