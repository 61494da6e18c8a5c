// One shape for every route's options: who may call it, its OpenAPI text, its schemas, and the error answers.
import { parseIsoTimestampMs } from '../../domain/validation.js';
import type { Scope } from '../config.js';
import { ApiError } from '../errors.js';

export interface RouteSpec {
  access: Scope | 'public';
  tags: string[];
  summary: string;
  description?: string;
  params?: object;
  querystring?: object;
  body?: object;
  /** The schema of the 200 answer. */
  response: object;
  /** Other answers than 200 and the error catalogue's (e.g. /ready's 503). */
  otherResponses?: Record<string, object>;
}

const errorRef = { $ref: 'Error#' };

export function routeOptions(spec: RouteSpec) {
  const needs = spec.access === 'public' ? 'No token needed.' : `Needs a token of scope ${spec.access} or above.`;
  return {
    config: { access: { scope: spec.access } },
    schema: {
      tags: spec.tags,
      summary: spec.summary,
      description: spec.description ? `${spec.description}\n\n${needs}` : needs,
      ...(spec.access === 'public' ? {} : { security: [{ bearer: [] }] }),
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.querystring ? { querystring: spec.querystring } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      response: { 200: spec.response, ...spec.otherResponses, '4xx': errorRef, '5xx': errorRef },
    },
  };
}

/** A time in a query: unix ms, or an RFC 3339 date-time with a zone. */
export function parseTimeQuery(field: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : parseIsoTimestampMs(text);
  if (ms === null) throw new ApiError('invalid_request', `${field} (${JSON.stringify(text.slice(0, 40))}) must be unix ms or an RFC 3339 date-time with a zone`);
  return ms;
}

export const timeQuery = { type: 'string', maxLength: 40, description: 'unix ms, or an RFC 3339 date-time with a zone' } as const;
