export * from './codes.js';
export * from './crypto.js';
export * from './dictionaries.js';
export * from './envelope.js';
export * from './idcard.js';
export * from './interfaces.js';
export * from './money.js';
export * from './schema.js';
