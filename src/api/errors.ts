// The API's error catalogue: every error answer is JSON with a stable `code` from this list (README: API errors).

export const errorCatalogue = {
  invalid_request: { statusCode: 400, meaning: 'a parameter, query field or body field is missing or invalid (details name each)' },
  invalid_json: { statusCode: 400, meaning: 'the body is not JSON' },
  invalid_cursor: { statusCode: 400, meaning: 'the cursor was not issued by this API or is damaged' },
  invalid_scope: { statusCode: 400, meaning: 'a kill-switch or circuit scope is empty or malformed (never taken as the global switch)' },
  unauthenticated: { statusCode: 401, meaning: 'no Authorization header, or not of the form "Bearer TOKEN"' },
  invalid_token: { statusCode: 401, meaning: 'the bearer token is not one of the configured tokens' },
  forbidden: { statusCode: 403, meaning: 'the token\'s scope does not allow this request' },
  no_session: { statusCode: 401, meaning: 'a dashboard request without a live session (never logged in, logged out, or expired)' },
  csrf_refused: { statusCode: 403, meaning: 'a dashboard form or request without this session\'s CSRF token, or sent from another site' },
  read_only: { statusCode: 405, meaning: 'the dashboard\'s queue board is read-only (retrying or promoting a job by hand is not a dashboard action)' },
  not_found: { statusCode: 404, meaning: 'no such route' },
  pair_not_found: { statusCode: 404, meaning: 'no journal for this arbId (never seen, or older than pairRecordTtlMs)' },
  exposure_not_found: { statusCode: 404, meaning: 'no open or resolved exposure with this id' },
  exposure_not_open: { statusCode: 409, meaning: 'the exposure is already resolved' },
  body_too_large: { statusCode: 413, meaning: 'the body is larger than bodyLimitBytes' },
  unsupported_media_type: { statusCode: 415, meaning: 'a body that is not application/json' },
  too_many_failed_attempts: { statusCode: 429, meaning: 'too many refused requests (401/403) from this address; retry after Retry-After seconds' },
  internal_error: { statusCode: 500, meaning: 'a bug: the request failed and is logged' },
  redis_unavailable: { statusCode: 503, meaning: 'Redis did not answer; nothing was changed' },
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

/** An error answer: `{ statusCode, code, error, message, details? }`. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly statusCode: number;

  constructor(readonly code: ErrorCode, message: string, readonly details?: string[], readonly headers: Record<string, string> = {}) {
    super(message);
    this.statusCode = errorCatalogue[code].statusCode;
  }
}

/** The JSON schema of every error answer (OpenAPI). */
export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['statusCode', 'code', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string', enum: Object.keys(errorCatalogue) },
    error: { type: 'string', description: 'the HTTP reason phrase' },
    message: { type: 'string' },
    details: { type: 'array', items: { type: 'string' } },
  },
} as const;
