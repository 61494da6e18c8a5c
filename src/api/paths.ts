// Where the API's routes live: JSON under /api/v1, health and readiness at the root.
export const API_PREFIX = '/api/v1';
