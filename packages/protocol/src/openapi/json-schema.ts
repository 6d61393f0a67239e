/**
 * The schema language (../schema.ts) as JSON Schema 2020-12, the dialect of OpenAPI 3.1. Everything
 * `validate()` enforces that JSON Schema can say is said: required fields are non-empty, lengths are
 * code points (as `maxLength` counts them), dictionaries are enums with their meanings. What only a
 * check function knows (a calendar date, the ID check digit) is in the description.
 */
import type { Field, ObjectSchema } from '../schema.js';

export type JsonSchema = { [key: string]: unknown };

/** Names nested schemas that get their own component; unnamed ones are written inline. */
export type SchemaRef = (schema: ObjectSchema) => JsonSchema | undefined;

const noRefs: SchemaRef = () => undefined;

/**
 * A dictionary's codes in reading order. JavaScript puts integer-like keys ('10', '99') before all
 * others ('01', 'A1'), so such dictionaries are sorted rather than shown in that order.
 */
export function dictionaryCodes(dict: Readonly<Record<string, string>>): string[] {
  const keys = Object.keys(dict);
  return keys.some((k) => /^(0|[1-9]\d*)$/.test(k)) ? keys.sort() : keys;
}

export function dictionaryText(dict: Readonly<Record<string, string>>): string {
  return (
    DICTIONARY_PREFIX +
    dictionaryCodes(dict)
      .map((k) => `${k} ${dict[k]}`)
      .join('；')
  );
}

/** Starts the dictionary sentence of a description (renderers that list the codes themselves drop it). */
export const DICTIONARY_PREFIX = '取值：';

export function fieldJsonSchema(field: Field, ref: SchemaRef = noRefs): JsonSchema {
  switch (field.kind) {
    case 'string': {
      const notes = [field.note, field.dict && dictionaryText(field.dict)].filter(Boolean);
      return {
        type: 'string',
        title: field.label,
        ...(notes.length ? { description: notes.join('。') } : {}),
        ...(field.required ? { minLength: 1 } : {}),
        maxLength: field.max,
        ...(field.dict ? { enum: dictionaryCodes(field.dict), 'x-enumDescriptions': { ...field.dict } } : {}),
        ...(field.pattern ? { pattern: field.pattern } : {}),
        ...(field.format ? { format: field.format } : {}),
      };
    }
    case 'list':
      return {
        type: 'array',
        title: field.label,
        items: ref(field.of) ?? objectJsonSchema(field.of, ref),
        ...(field.required ? { minItems: 1 } : {}),
        ...(field.maxItems !== undefined ? { maxItems: field.maxItems } : {}),
      };
    case 'json':
      return { type: 'object', title: field.label, description: '非必要请勿使用', additionalProperties: true };
  }
}

/** An object schema. Unknown fields are allowed: the platform ignores them, as a tolerant reader should. */
export function objectJsonSchema(
  schema: ObjectSchema,
  ref: SchemaRef = noRefs,
  meta: { title?: string; description?: string } = {},
): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [key, field] of Object.entries(schema)) {
    properties[key] = fieldJsonSchema(field, ref);
    if (field.required) required.push(key);
  }
  return {
    type: 'object',
    ...(meta.title ? { title: meta.title } : {}),
    ...(meta.description ? { description: meta.description } : {}),
    properties,
    ...(required.length ? { required } : {}),
  };
}
