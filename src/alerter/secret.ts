// Secrets of the alerter's sinks, named in the config by environment variable or file and read once at start-up.
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../config.js';
import type { SecretRef } from './config.js';

const secretBytesMax = 64 * 1024;

/** Reads a secret; `where` names the config field in the error (the error never shows the value). */
export function resolveSecret(ref: SecretRef, where: string, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value.trim() === '') throw new ConfigError(`${where}: environment variable ${ref.env} is not set or empty`);
    return value.trim();
  }
  let size: number;
  try {
    size = statSync(ref.file).size;
  } catch (error) {
    throw new ConfigError(`${where}: cannot read secret file ${ref.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (size > secretBytesMax) throw new ConfigError(`${where}: secret file ${ref.file} (${size} bytes) > ${secretBytesMax} bytes`);
  const value = readFileSync(ref.file, 'utf8').trim();
  if (value === '') throw new ConfigError(`${where}: secret file ${ref.file} is empty`);
  return value;
}

/** Replaces every secret in a text (an error message, a URL) with `***`, so none reaches a log or a record. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('***');
  return out;
}
