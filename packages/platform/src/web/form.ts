import { h, raw, type Html } from './html.js';

/**
 * Form fields with their errors beside them, the pattern every form follows (the institution form first did):
 * all errors at once, each under its field, the field marked `aria-invalid` and described by its error, and the
 * first invalid field focused (`autofocus`, so pages without script get it too).
 */
export interface FieldOpts {
  label: string;
  name: string;
  /** The element id; `f-<name>` unless given. */
  id?: string;
  value?: string | null | undefined;
  error?: string | undefined;
  /** Focus this field when the page opens (the first field with an error). */
  focus?: boolean;
  type?: string;
  hint?: string;
  required?: boolean;
  textarea?: boolean;
  options?: [string, string][];
  attrs?: string;
}

export function field(o: FieldOpts): Html {
  const id = o.id ?? `f-${o.name}`;
  const err = o.error ? h`<div class="field-error" id="${id}-error">${o.error}</div>` : '';
  const hintId = o.hint ? `${id}-hint` : '';
  const described = [o.error ? `${id}-error` : '', hintId].filter(Boolean).join(' ');
  const aria = raw(
    (o.error ? ' aria-invalid="true"' : '') + (described ? ` aria-describedby="${described}"` : '') + (o.focus ? ' autofocus' : ''),
  );
  const req = raw(o.required ? ' required aria-required="true"' : '');
  let control: Html;
  if (o.options) {
    const options = o.options.map(([v, t]) => h`<option value="${v}"${raw(v === (o.value ?? '') ? ' selected' : '')}>${t}</option>`);
    control = h`<select id="${id}" name="${o.name}"${aria}${req}>${options}</select>`;
  } else if (o.textarea) {
    control = h`<textarea id="${id}" name="${o.name}" rows="4"${aria}${req}${raw(o.attrs ? ' ' + o.attrs : '')}>${o.value ?? ''}</textarea>`;
  } else {
    const extra = raw(o.attrs ? ' ' + o.attrs : '');
    control = h`<input id="${id}" name="${o.name}" type="${o.type ?? 'text'}" value="${o.value ?? ''}"${aria}${req}${extra}>`;
  }
  const hint = o.hint ? h`<div class="muted" id="${hintId}">${o.hint}</div>` : '';
  return h`<div class="fieldbox"><label for="${id}">${o.label}</label>${control}${err}${hint}</div>`;
}

/** The name of the first field (in form order) that has an error. */
export function firstError(errors: Record<string, string | undefined>, order: readonly string[]): string | undefined {
  return order.find((name) => errors[name]);
}

/** A summary above the form: how many fields need attention (the details are beside each field). */
export function errorSummary(errors: Record<string, string | undefined>, extra?: string): Html | '' {
  const n = Object.values(errors).filter(Boolean).length;
  if (!n && !extra) return '';
  const text = extra ?? `有 ${n} 处需要修改，请查看标红的项目。`;
  return h`<div class="form-alert" role="alert">${text}</div>`;
}

/** Removes every space a person may type or paste into a number (身份证号、手机号): never cut, never refuse for it. */
export function withoutSpaces(v: string): string {
  return v.replace(/[\s\u3000]+/g, '');
}
