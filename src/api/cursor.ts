// Opaque page cursors: what a page stopped at, tagged with the list it belongs to, base64url JSON.
import { ApiError } from './errors.js';

export function encodeCursor(list: string, position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify({ list, ...position }), 'utf8').toString('base64url');
}

/** The cursor's fields, checked to be of the given list and shape; an `invalid_cursor` error otherwise. */
export function decodeCursor<T extends Record<string, 'string' | 'number'>>(list: string, text: string, shape: T): { [K in keyof T]: T[K] extends 'number' ? number : string } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new ApiError('invalid_cursor', 'the cursor is not one this API issued');
  }
  const record = value as Record<string, unknown> | null;
  if (typeof record !== 'object' || record === null || record.list !== list) throw new ApiError('invalid_cursor', `the cursor is not a cursor of ${list}`);
  for (const [field, type] of Object.entries(shape)) {
    const v = record[field];
    const ok = type === 'number' ? typeof v === 'number' && Number.isSafeInteger(v) : typeof v === 'string' && v.length > 0 && v.length <= 200;
    if (!ok) throw new ApiError('invalid_cursor', 'the cursor is damaged');
  }
  return record as { [K in keyof T]: T[K] extends 'number' ? number : string };
}
