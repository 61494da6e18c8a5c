// Bookmaker credentials: reads the secrets the config references (env var or file) once, at start-up, into a
// structure kept out of the Config object, each value wrapped so that no log line or message can print it.
import { closeSync, openSync, readSync } from 'node:fs';
import { inspect } from 'node:util';
import { ConfigError, type SecretRef } from './config.js';

/** Longest secret accepted, in characters (a bookmaker key is a few dozen; a larger file is the wrong file). */
export const secretLengthMax = 4096;
/** What a secret may hold: visible ASCII, no spaces. It becomes an HTTP header value, so no control characters. */
export const secretCharsRe = /^[\x21-\x7e]+$/;
const redacted = '[redacted]';

/**
 * A secret value. It prints as `[redacted]` everywhere (String(), template literals, JSON.stringify, pino,
 * util.inspect / console.log); only `reveal()` gives the value, and only the HTTP provider calls it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return redacted;
  }

  toJSON(): string {
    return redacted;
  }

  [inspect.custom](): string {
    return redacted;
  }
}

/** One provider's keys: the provider's own (every request) and accounts' own (their placements). */
export interface ProviderKeys {
  apiKey: Secret | undefined;
  /** By account id in lower case (account ids are compared ignoring case, as in the arb checks). */
  accounts: ReadonlyMap<string, Secret>;
}

export type ProviderCredentials = ReadonlyMap<string, ProviderKeys>;

/** Just the part of the config this module reads (no import of the whole Config shape). */
export interface CredentialsConfig {
  providers: Record<string, { credentials?: SecretRef | undefined; accounts?: Record<string, { credentials: SecretRef }> | undefined }>;
}

export type ReadSecretFile = (path: string) => string;

/** Reads a secret file, at most secretLengthMax + 2 bytes of it (room for a CRLF; a device or a huge file is not read whole). */
export function readSecretFile(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(secretLengthMax + 2);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0 || length + n >= buffer.length) return buffer.toString('utf8', 0, length + n);
      length += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Where a reference points, for messages and the start-up log line: `env BOOKA_KEY`, `file /run/secrets/a`. */
export function describeRef(ref: SecretRef): string {
  return ref.env !== undefined ? `env ${ref.env}` : `file ${ref.file ?? '?'}`;
}

/**
 * The secret a reference points to. Errors name the variable or file and what is wrong, never the value.
 * `what` names the setting, e.g. `providers.bookA.credentials`.
 */
export function readSecret(ref: SecretRef, what: string, env: NodeJS.ProcessEnv, readFile: ReadSecretFile = readSecretFile): Secret {
  let raw: string;
  if (ref.env !== undefined) {
    const value = env[ref.env];
    if (value === undefined || value === '') throw new ConfigError(`${what}: environment variable ${ref.env} is not set or empty`);
    raw = value;
  } else if (ref.file !== undefined) {
    try {
      raw = readFile(ref.file);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new ConfigError(`${what}: cannot read file ${ref.file} (${typeof code === 'string' ? code : 'read error'})`);
    }
  } else {
    throw new ConfigError(`${what}: neither env nor file`);
  }
  const value = raw.trim();
  const source = describeRef(ref);
  if (value === '') throw new ConfigError(`${what}: ${source} holds an empty secret`);
  if (value.length > secretLengthMax) throw new ConfigError(`${what}: ${source} holds more than secretLengthMax (${secretLengthMax}) characters`);
  if (!secretCharsRe.test(value)) {
    throw new ConfigError(`${what}: ${source} holds characters an HTTP header cannot carry (only visible ASCII, no spaces inside)`);
  }
  return new Secret(value);
}

/**
 * Every provider's keys, read from the environment and files the config references. All unreadable
 * references are reported together. A provider without credentials gets no entry (its requests carry no
 * Authorization header).
 */
export function resolveCredentials(config: CredentialsConfig, env: NodeJS.ProcessEnv = process.env, readFile: ReadSecretFile = readSecretFile): ProviderCredentials {
  const resolved = new Map<string, ProviderKeys>();
  const errors: string[] = [];
  const read = (ref: SecretRef, what: string): Secret | undefined => {
    try {
      return readSecret(ref, what, env, readFile);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(error.message);
      return undefined;
    }
  };
  for (const [name, provider] of Object.entries(config.providers)) {
    const accountRefs = Object.entries(provider.accounts ?? {});
    if (provider.credentials === undefined && accountRefs.length === 0) continue;
    const apiKey = provider.credentials === undefined ? undefined : read(provider.credentials, `providers.${name}.credentials`);
    const accounts = new Map<string, Secret>();
    for (const [accountId, account] of accountRefs) {
      const secret = read(account.credentials, `providers.${name}.accounts.${accountId}.credentials`);
      if (secret) accounts.set(accountId.toLowerCase(), secret);
    }
    resolved.set(name, { apiKey, accounts });
  }
  if (errors.length > 0) throw new ConfigError(`bookmaker credentials:\n  ${errors.join('\n  ')}`);
  return resolved;
}

/** Where each provider's keys come from (never the keys), for the start-up log line. */
export function credentialSources(config: CredentialsConfig): Record<string, string> {
  const sources: Record<string, string> = {};
  for (const [name, provider] of Object.entries(config.providers)) {
    const accounts = Object.keys(provider.accounts ?? {}).length;
    if (provider.credentials === undefined) continue;
    sources[name] = describeRef(provider.credentials) + (accounts > 0 ? ` (+ ${accounts} account key(s))` : '');
  }
  return sources;
}

/** Replaces every secret in a text (an error message, a URL) with `***`, so none reaches a log or a record. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('***');
  return out;
}
