// What an operator may ask for: a kill-switch scope, and the free text (reason, note) recorded beside a change.
import { assertNever } from './types.js';
import { IDENTIFIER_RE } from './validation.js';

/** Where a kill switch applies. There is no default: the global switch is named, never implied. */
export type KillScope =
  | { kind: 'global' }
  | { kind: 'provider'; provider: string }
  | { kind: 'account'; whitelabel: string; provider: string; accountId: string };

export type ParsedScope = { ok: true; scope: KillScope } | { ok: false; error: string };

/** The one text form of a scope (API path segment, audit entries): `global`, `provider:P`, `account:WL:P:ACC`. */
export function formatKillScope(scope: KillScope): string {
  switch (scope.kind) {
    case 'global': return 'global';
    case 'provider': return `provider:${scope.provider}`;
    case 'account': return `account:${scope.whitelabel}:${scope.provider}:${scope.accountId}`;
    default: return assertNever(scope, 'kill scope');
  }
}

/**
 * Parses the text form of a scope. An empty, partial or malformed scope is an error, never the global
 * switch (issue 8 §7: `--provider ""` used to engage and clear the global switch).
 */
export function parseKillScope(text: string): ParsedScope {
  const parts = text.split(':');
  const [kind, ...ids] = parts;
  const badId = ids.find((id) => !IDENTIFIER_RE.test(id));
  if (badId !== undefined) return { ok: false, error: `scope (${quote(text)}): ${quote(badId)} is not an identifier [A-Za-z0-9_-]{1,64}` };
  if (kind === 'global' && ids.length === 0) return { ok: true, scope: { kind: 'global' } };
  if (kind === 'provider' && ids.length === 1) return { ok: true, scope: { kind: 'provider', provider: ids[0] as string } };
  if (kind === 'account' && ids.length === 3) {
    const [whitelabel, provider, accountId] = ids as [string, string, string];
    return { ok: true, scope: { kind: 'account', whitelabel, provider, accountId } };
  }
  return { ok: false, error: `scope (${quote(text)}) must be global, provider:PROVIDER or account:WHITELABEL:PROVIDER:ACCOUNT` };
}

/** The scope named by the CLI's flags: exactly one of --global, --provider, --account (an empty value is an error). */
export function killScopeFromFlags(flags: { global?: boolean; provider?: string; account?: string }): ParsedScope {
  const given = [flags.global === true, flags.provider !== undefined, flags.account !== undefined].filter(Boolean).length;
  if (given !== 1) return { ok: false, error: 'name exactly one scope: --global, --provider P or --account WL:P:ACCOUNT' };
  if (flags.global === true) return { ok: true, scope: { kind: 'global' } };
  if (flags.provider !== undefined) return parseKillScope(`provider:${flags.provider}`);
  return parseKillScope(`account:${flags.account ?? ''}`);
}

/** Longest reason of a kill switch, in characters. */
export const REASON_CHARS_MAX = 500;
/** Longest name of who did something (the CLI's --by; an API token's name is an identifier). */
export const ACTOR_CHARS_MAX = 64;
/** Longest note of an exposure resolution, in characters. */
export const NOTE_CHARS_MAX = 2_000;

/**
 * Control characters (C0, DEL, C1) and Unicode bidirectional controls (U+202A–U+202E, U+2066–U+2069):
 * they would reach logs, terminals and the dashboard and could make a record read other than it is.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_TEXT_RE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** What is wrong with an operator's free text (reason, note), or null when it may be recorded. */
export function operatorTextProblem(field: string, text: string, charsMax: number): string | null {
  if (text.trim().length === 0) return `${field} is required (what was checked and why)`;
  if (text.length > charsMax) return `${field} (${text.length} characters) > ${charsMax}`;
  if (UNSAFE_TEXT_RE.test(text)) return `${field} holds a control or bidirectional character`;
  return null;
}

/** JSON-schema `pattern` form of the same rule (the API checks it at the door, the domain function again). */
export const SAFE_TEXT_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$';

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
