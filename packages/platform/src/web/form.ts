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
    (o.error ? ' aria-invalid="true"' : '') +
      (described ? ` aria-describedby="${described}"` : '') +
      (o.focus ? ' autofocus' : '') +
      (o.required ? ' required aria-required="true"' : ''),
  );
  const hint = o.hint ? h`<div class="muted" id="${hintId}">${o.hint}</div>` : '';
  return h`<div class="fieldbox"><label for="${id}">${o.label}</label>${control(o, id, aria)}${err}${hint}</div>`;
}

/** The input itself: a select, a textarea or an input, with its id and the ARIA and `required` attributes. */
function control(o: FieldOpts, id: string, aria: Html): Html {
  const extra = raw(o.attrs ? ' ' + o.attrs : '');
  if (o.options) {
    const options = o.options.map(([v, t]) => h`<option value="${v}"${raw(v === (o.value ?? '') ? ' selected' : '')}>${t}</option>`);
    return h`<select id="${id}" name="${o.name}"${aria}>${options}</select>`;
  }
  if (o.textarea) return h`<textarea id="${id}" name="${o.name}" rows="4"${aria}${extra}>${o.value ?? ''}</textarea>`;
  return h`<input id="${id}" name="${o.name}" type="${o.type ?? 'text'}" value="${o.value ?? ''}"${aria}${extra}>`;
}

/** The name of the first field (in form order) that has an error. */
export function firstError(errors: Record<string, string | undefined>, order: readonly string[]): string | undefined {
  return order.find((name) => errors[name]);
}

/** A summary above the form: how many fields need attention (the details are beside each field). */
export function errorSummary(errors: Record<string, string | undefined>, extra?: string): Html | '' {
  const n = Object.values(errors).filter(Boolean).length;
  if (!n && !extra) return '';
  return formAlert(extra ?? `有 ${n} 处需要修改，请查看标红的项目。`);
}

/** What went wrong with the whole form, above it (announced to screen readers); nothing without a text. */
export function formAlert(text: string | undefined): Html | '' {
  return text ? h`<div class="form-alert" role="alert">${text}</div>` : '';
}

/** Removes every space a person may type or paste into a number (身份证号、手机号): never cut, never refuse for it. */
export function withoutSpaces(v: string): string {
  return v.replace(/[\s\u3000]+/g, '');
}
