export * from './errors.js';
export * from './batching.js';
export * from './client.js';
export * from './handlers.js';
export * from './csv.js';
export * from './schedule.js';
export * from './store.js';
export * from './uploader.js';
