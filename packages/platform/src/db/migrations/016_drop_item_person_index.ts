/**
 * `arrears_item_person` (person_id, state) served no query: every read of a person's items goes by the subject's
 * blind index (`arrears_item_subject`, the read model), and persons are never deleted, so no foreign-key check
 * needs it either. It was one of six indexes every reported item pays for, and on a random key: inserting 100
 * items measured 16–19 % faster without it (bench/analysis.md, 2026-12-07). Code of the release before runs
 * unchanged on the schema without it.
 */
export const up = /* sql */ `
DROP INDEX IF EXISTS arrears_item_person;
`;
