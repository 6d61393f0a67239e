/**
 * `@mdl/hospital/testing`: a fake platform and test data for a HIS vendor's own tests against the kit.
 * Not for production: the fake platform accepts whatever its options say.
 */
export * from './fake-platform.js';
export * from './fixtures.js';
