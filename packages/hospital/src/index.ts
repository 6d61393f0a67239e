export * from './errors.js';
export * from './batching.js';
export * from './client.js';
export * from './handlers.js';
export * from './csv.js';
