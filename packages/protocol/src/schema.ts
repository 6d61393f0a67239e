/**
 * A small schema language for the guide's parameter tables: one declaration per payload gives
 * validation (with the guide's lengths, required flags and dictionaries), TypeScript types and the
 * OpenAPI documents (`openapi/json-schema.ts`). Unknown fields are ignored, as a tolerant reader should.
 */

export interface StringField<R extends boolean = boolean> {
  kind: 'string';
  label: string;
  max: number;
  required: R;
  dict?: Readonly<Record<string, string>>;
  check?: (value: string) => string | undefined;
  /** The guide's 说明 column, for the docs. */
  note?: string;
  /** For the docs: a regular expression every valid value matches (`check` may refuse more, e.g. 2026-02-30). */
  pattern?: string;
  /** For the docs: a JSON Schema format such as `uri`. */
  format?: string;
}

export interface ListField<R extends boolean = boolean, S extends ObjectSchema = ObjectSchema> {
  kind: 'list';
  label: string;
  required: R;
  of: S;
  maxItems?: number;
}

export interface JsonField<R extends boolean = boolean> {
  kind: 'json';
  label: string;
  required: R;
}

export type Field = StringField | ListField | JsonField;
export type ObjectSchema = { readonly [key: string]: Field };

type FieldType<F> = F extends ListField<boolean, infer S> ? Infer<S>[] : F extends JsonField ? Record<string, unknown> : string;

type RequiredKeys<S extends ObjectSchema> = { [K in keyof S]: S[K]['required'] extends true ? K : never }[keyof S];
type OptionalKeys<S extends ObjectSchema> = Exclude<keyof S, RequiredKeys<S>>;

export type Infer<S extends ObjectSchema> = { [K in RequiredKeys<S>]: FieldType<S[K]> } & {
  [K in OptionalKeys<S>]?: FieldType<S[K]>;
};

type StrOpts = Pick<StringField, 'dict' | 'check' | 'note' | 'pattern' | 'format'>;

export function str(label: string, max: number, opts: StrOpts = {}): StringField<true> {
  return { kind: 'string', label, max, required: true, ...opts };
}
export function optStr(label: string, max: number, opts: StrOpts = {}): StringField<false> {
  return { kind: 'string', label, max, required: false, ...opts };
}
export function list<S extends ObjectSchema>(label: string, of: S, maxItems?: number): ListField<true, S> {
  return { kind: 'list', label, required: true, of, ...(maxItems ? { maxItems } : {}) };
}
export function optList<S extends ObjectSchema>(label: string, of: S, maxItems?: number): ListField<false, S> {
  return { kind: 'list', label, required: false, of, ...(maxItems ? { maxItems } : {}) };
}
export function json(label: string): JsonField<false> {
  return { kind: 'json', label, required: false };
}

export interface SchemaIssue {
  path: string;
  message: string;
}

function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** First problem found, in declaration order, or undefined. The message is Chinese and names the field. */
export function validate(schema: ObjectSchema, value: unknown, path = ''): SchemaIssue | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { path: path || '(根)', message: '应为 JSON 对象' };
  }
  const obj = value as Record<string, unknown>;
  for (const [key, field] of Object.entries(schema)) {
    const p = path ? `${path}.${key}` : key;
    const v = obj[key];
    const absent = v === undefined || v === null || v === '';
    if (absent) {
      if (field.required) return { path: p, message: `${field.label}(${key}) 不能为空` };
      continue;
    }
    const issue = validateField(field, v, p, key);
    if (issue) return issue;
  }
  return undefined;
}

function validateField(field: Field, v: unknown, p: string, key: string): SchemaIssue | undefined {
  switch (field.kind) {
    case 'string': {
      if (typeof v !== 'string') return { path: p, message: `${field.label}(${key}) 应为字符串` };
      if (charLength(v) > field.max) return { path: p, message: `${field.label}(${key}) 超过最大长度 ${field.max}` };
      if (field.dict && !Object.hasOwn(field.dict, v)) {
        return { path: p, message: `${field.label}(${key}) 取值 "${v}" 不在字典中` };
      }
      const problem = field.check?.(v);
      return problem ? { path: p, message: `${field.label}(${key}): ${problem}` } : undefined;
    }
    case 'list': {
      if (!Array.isArray(v)) return { path: p, message: `${field.label}(${key}) 应为列表` };
      if (field.required && v.length === 0) return { path: p, message: `${field.label}(${key}) 不能为空` };
      if (field.maxItems !== undefined && v.length > field.maxItems) {
        return { path: p, message: `${field.label}(${key}) 超过 ${field.maxItems} 条` };
      }
      for (let i = 0; i < v.length; i++) {
        const issue = validate(field.of, v[i], `${p}[${i}]`);
        if (issue) return issue;
      }
      return undefined;
    }
    case 'json':
      if (typeof v !== 'object' || Array.isArray(v)) return { path: p, message: `${field.label}(${key}) 应为 JSON 对象` };
      return undefined;
  }
}

/**
 * Paths of fields the schema does not declare (e.g. a misspelt `ehealthCardID`). Validation ignores
 * them, as a tolerant reader should; callers report them back so a typo is not dropped without a word.
 * `extData` is free-form and not looked into.
 */
export function unknownFields(schema: ObjectSchema, value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: string[] = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const p = path ? `${path}.${key}` : key;
    const field = schema[key];
    if (!field) out.push(p);
    else if (field.kind === 'list' && Array.isArray(v)) v.forEach((e, i) => out.push(...unknownFields(field.of, e, `${p}[${i}]`)));
  }
  return out;
}
