// HTML for the dashboard: a tagged template that escapes every interpolated value unless it is already Html.
/** Markup that is safe to embed as is (built by `html` or `raw`). */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => entities[c] ?? c);
}

function render(value: Value): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map((v: Value) => render(v)).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** `html\`<p>${name}</p>\``: strings are escaped, Html and arrays of Html are embedded, null/undefined/false vanish. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Trusted markup (never user data). */
export function raw(text: string): Html {
  return new Html(text);
}

/** JSON for a <script type="application/json"> element: `<` escaped so that no value can close the element. */
export function jsonScript(id: string, value: unknown): Html {
  return new Html(`<script type="application/json" id="${escapeHtml(id)}">${JSON.stringify(value).replace(/</g, '\\u003c')}</script>`);
}

/** Minor units as a decimal amount with its currency (integer arithmetic; two decimals). */
export function money(minor: number | null | undefined, currency = ''): string {
  if (minor === null || minor === undefined) return '—';
  const sign = minor < 0 ? '−' : '';
  const abs = Math.abs(minor);
  const text = `${sign}${Math.floor(abs / 100).toLocaleString('en-GB')}.${String(abs % 100).padStart(2, '0')}`;
  return currency ? `${text} ${currency}` : text;
}

/** Odds in thousandths as a decimal (2.100). */
export function odds(milli: number | null | undefined): string {
  if (milli === null || milli === undefined) return '—';
  return `${Math.floor(milli / 1000)}.${String(milli % 1000).padStart(3, '0')}`;
}

/** A duration for people: 850 ms, 12 s, 4 min, 3 h 5 min, 2 d 4 h. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A unix-ms time as ISO 8601 UTC to the second, for <time datetime>. */
export function isoTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function timeTag(ms: number | null | undefined): Html {
  const iso = isoTime(ms);
  return iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace('Z', '')}</time>` : html`—`;
}
