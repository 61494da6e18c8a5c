// A name for this process among others on one Redis: host, pid and a random suffix, in key-safe characters.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export function instanceName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(-64);
}
