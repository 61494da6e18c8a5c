// What an alert is (pure): which events become alerts, their keys, and the words a person reads.

/** Event types the alerter can turn into alerts (types on bet-executor:events). */
export const alertEventTypes = [
  'exposure_alert', 'exposure_updated', 'kill_switch_set', 'kill_switch_cleared', 'circuit_opened', 'circuit_closed',
  'alert_dead_lettered', 'deadman_alert', 'deadman_resolved',
] as const;
export type AlertEventType = (typeof alertEventTypes)[number];

/** Alerted unless the config says otherwise: everything but `exposure_updated` (a record completed, not new risk). */
export const defaultAlertEvents: readonly AlertEventType[] = alertEventTypes.filter((t) => t !== 'exposure_updated');

/** The dead-man's switch conditions (deadman_alert / deadman_resolved events carry one in `condition`). */
export const deadmanConditions = ['worker_heartbeat', 'exposure_unresolved'] as const;
export type DeadmanCondition = (typeof deadmanConditions)[number];

export type Severity = 'critical' | 'warning' | 'info';

export interface Alert {
  /**
   * Idempotency key: the same for every retry and every re-delivery of this alert (another alerter, a
   * restart), different for any other alert. Built from the event's stream entry id, which never changes.
   */
  alertKey: string;
  /** What the alert is about: repeats of one condition share it (re-alerts, a kill switch set then cleared). */
  fingerprint: string;
  eventId: string;
  eventType: AlertEventType;
  /** `resolved` for the all-clear of an earlier alert (kill switch cleared, dead-man condition over). */
  status: 'firing' | 'resolved';
  severity: Severity;
  title: string;
  /** Body, one fact per line. */
  lines: string[];
  /** When the event was written (the stream entry id's time). */
  occurredAtMs: number;
  /** Alertmanager labels: low cardinality, identify the alert (alertname first). */
  labels: Record<string, string>;
  /** Sinks this alert must not go to (a dead-letter alert skips the sink that failed). */
  excludeSinks: string[];
  /** The event's data, as written. */
  data: Record<string, unknown>;
}

export interface EventEntry {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

const entryIdPattern = /^\d{1,20}-\d{1,20}$/;
const labelCharsMax = 128;
const fieldCharsMax = 500;

/** The idempotency key of the alert made from an event: `{type}@{stream entry id}`. */
export function alertKeyOf(eventType: AlertEventType, entryId: string): string {
  if (!entryIdPattern.test(entryId)) throw new Error(`invariant violated: stream entry id ${JSON.stringify(entryId)}`);
  return `${eventType}@${entryId}`;
}

export function isAlertEventType(type: string): type is AlertEventType {
  return (alertEventTypes as readonly string[]).includes(type);
}

/**
 * A value from an event made safe to show a person: control and bidirectional-override characters (which
 * can make a message read backwards, U+202E) become `\u{…}`, and it is cut at a length limit.
 */
export function clean(value: unknown, charsMax = fieldCharsMax): string {
  const text = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
  return escaped.length > charsMax ? `${escaped.slice(0, charsMax - 1)}…` : escaped;
}

function label(value: unknown): string {
  return clean(value, labelCharsMax);
}

function str(data: Record<string, unknown>, key: string): string {
  return clean(data[key] ?? 'unknown');
}

type Body = Pick<Alert, 'fingerprint' | 'status' | 'severity' | 'title' | 'lines' | 'labels' | 'excludeSinks'>;

function exposureBody(type: 'exposure_alert' | 'exposure_updated', data: Record<string, unknown>): Body {
  const record = (typeof data.record === 'object' && data.record !== null ? data.record : {}) as Record<string, unknown>;
  const arbId = str(data, 'arbId');
  const reason = clean(data.exposure_reason ?? record.exposure_reason ?? 'unknown');
  const updated = type === 'exposure_updated';
  return {
    fingerprint: `exposure:${arbId}:${reason}`,
    status: 'firing',
    severity: updated ? 'warning' : 'critical',
    title: `${updated ? 'Exposure updated' : 'EXPOSURE'}: ${reason} on arb ${arbId}`,
    lines: [
      `Money is not hedged as planned; nothing re-bets automatically and bet pair ${str(data, 'betPairId')} is blocked until a person resolves it.`,
      `whitelabel ${str(data, 'whitelabel')}, positive ${str(record, 'positive_provider')} ticket ${str(record, 'positive_ticket')} (${str(record, 'positive_status')}), hedge ${str(record, 'hedge_provider')} ticket ${str(record, 'hedge_ticket')} (${str(record, 'hedge_status')})`,
      ...(record.detail === undefined ? [] : [`detail: ${clean(record.detail)}`]),
      ...(record.pnl_minor === undefined ? [] : [`realised P&L (minor units): ${clean(record.pnl_minor)}`]),
      `detected at ${str(record, 'detected_at')}`,
      `Review: bet-executor exposures list; then bet-executor exposures resolve ${arbId} --note "what you checked and did" --by you`,
    ],
    labels: { alertname: 'BetExecutorExposure', severity: updated ? 'warning' : 'critical', arbId: label(arbId), betPairId: label(data.betPairId), reason: label(reason), whitelabel: label(data.whitelabel) },
    excludeSinks: [],
  };
}

function killSwitchBody(type: 'kill_switch_set' | 'kill_switch_cleared', data: Record<string, unknown>): Body {
  const key = str(data, 'key');
  const set = type === 'kill_switch_set';
  const by = data.by === undefined ? '' : ` by ${clean(data.by)}`;
  return {
    fingerprint: `kill:${key}`,
    status: set ? 'firing' : 'resolved',
    severity: set ? 'warning' : 'info',
    title: set ? `KILL SWITCH engaged: ${key}` : `Kill switch cleared: ${key}`,
    lines: set
      ? [`No new pair it covers executes until it is cleared${by}.`, `reason: ${str(data, 'reason')}`, 'Clear with: bet-executor kill clear (same scope) --reason "...", or DELETE /api/v1/kill-switches/{scope}']
      : [`Pairs it covered execute again${by}.`],
    labels: { alertname: 'BetExecutorKillSwitch', severity: 'warning', killSwitch: label(key) },
    excludeSinks: [],
  };
}

/** What opened a circuit, from its event: the window's figures, the probe's answer, or the operator. */
function circuitCause(data: Record<string, unknown>): string {
  const w = (typeof data.window === 'object' && data.window !== null ? data.window : null) as Record<string, unknown> | null;
  if (w !== null && w.class === 'account') return `${clean(w.failures)} account refusals (401/403/limits) within ${clean(w.windowMs)} ms (at least ${clean(w.accountFailuresMin)} open it)`;
  if (w !== null) {
    const ratio = typeof w.ratio === 'number' ? `${Math.round(w.ratio * 100)}%` : clean(w.ratio);
    return `${clean(w.failures)} of ${clean(w.volume)} ${w.class === 'read' ? 'lookups/status checks' : 'placements'} failed (${ratio}) within ${clean(w.windowMs)} ms (opens at ${clean(w.failureRatio)} with at least ${clean(w.minVolume)})`;
  }
  if (data.reason === 'probe_failed') return `the probe failed: ${str(data, 'probe')}`;
  if (data.reason === 'forced') return `forced by ${str(data, 'by')} via ${str(data, 'via')}: ${str(data, 'note')}`;
  return `reason ${str(data, 'reason')}`;
}

function circuitBody(type: 'circuit_opened' | 'circuit_closed', data: Record<string, unknown>): Body {
  const scope = str(data, 'scope');
  const opened = type === 'circuit_opened';
  const forced = data.reason === 'forced';
  const coolOff = typeof data.coolOffMs === 'number' ? `a probe (it places nothing) tests it in ${Math.ceil(data.coolOffMs / 1000)} s` : 'it stays open until forced closed';
  const flags = scope.replace(/^provider:/, '--provider ').replace(/^account:([^:]*):/, '--provider $1 --account ');
  return {
    fingerprint: `circuit:${scope}`,
    status: opened ? 'firing' : 'resolved',
    severity: opened ? 'warning' : 'info',
    title: opened ? `CIRCUIT OPEN: ${scope}` : `Circuit closed: ${scope}`,
    lines: opened
      ? [
          `No new pair needing it starts (arb_blocked circuit_open); hedges already owed to it are still attempted. ${forced ? '' : coolOff}`.trim(),
          circuitCause(data),
          ...(data.detail === undefined ? [] : [`last failure: ${clean(data.detail)}`]),
          `Force: bet-executor circuit close ${flags} --reason "..." --by you (or open), or POST /api/v1/circuits/${scope}/close`,
        ]
      : [forced ? `Pairs needing it start again: forced closed by ${str(data, 'by')} via ${str(data, 'via')}: ${str(data, 'note')}` : `Pairs needing it start again: the probe found it well (${str(data, 'probe')}).`],
    labels: { alertname: 'BetExecutorCircuitOpen', severity: 'warning', circuit: label(scope), provider: label(data.provider) },
    excludeSinks: [],
  };
}

function deadLetterBody(data: Record<string, unknown>): Body {
  const sink = str(data, 'sink');
  const deadKey = str(data, 'alertKey');
  return {
    fingerprint: `dead:${deadKey}:${sink}`,
    status: 'firing',
    severity: 'critical',
    title: `Alert NOT delivered to ${sink}: ${str(data, 'title')}`,
    lines: [
      `Sink ${sink} failed ${str(data, 'attempts')} time(s) and the alert was given up for it (dead-lettered): its recipients have not seen it.`,
      `last answer: HTTP ${str(data, 'httpStatus')}${data.error ? `, ${clean(data.error)}` : ''}`,
      `alert ${deadKey} (event ${str(data, 'eventType')} ${str(data, 'eventId')}); the list: bet-executor:alerts:dead`,
    ],
    labels: { alertname: 'BetExecutorAlertDeadLettered', severity: 'critical', sink: label(sink), deadAlertKey: label(deadKey) },
    excludeSinks: [sink],
  };
}

function deadmanBody(type: 'deadman_alert' | 'deadman_resolved', data: Record<string, unknown>): Body {
  const condition = str(data, 'condition');
  const firing = type === 'deadman_alert';
  const since = typeof data.sinceMs === 'number' ? new Date(data.sinceMs).toISOString() : 'unknown';
  const workers = condition === 'worker_heartbeat';
  const title = workers
    ? (firing ? 'NO WORKER HEARTBEAT: no bet-executor worker is alive' : 'Worker heartbeat back')
    : (firing ? 'EXPOSURE UNRESOLVED: an open exposure has waited too long for review' : 'No overdue exposure left');
  const lines = [`condition ${condition} since ${since}${firing ? `, alert #${str(data, 'count')} (repeated until it clears)` : ''}`];
  if (typeof data.detail === 'string') lines.push(clean(data.detail));
  if (firing) {
    lines.push(workers
      ? 'Check the worker processes (bet-executor worker) and their Redis connection; pairs are not executed and settlement is not polled meanwhile.'
      : 'Review it: bet-executor exposures list; bet-executor exposures resolve ID --note "..." --by you');
  }
  return {
    fingerprint: `deadman:${condition}:${String(data.sinceMs ?? 'unknown')}`,
    status: firing ? 'firing' : 'resolved',
    severity: firing ? 'critical' : 'info',
    title,
    lines,
    labels: { alertname: workers ? 'BetExecutorWorkersSilent' : 'BetExecutorExposureUnresolved', severity: 'critical', condition: label(condition) },
    excludeSinks: [],
  };
}

function bodyOf(type: AlertEventType, data: Record<string, unknown>): Body {
  switch (type) {
    case 'exposure_alert': case 'exposure_updated': return exposureBody(type, data);
    case 'kill_switch_set': case 'kill_switch_cleared': return killSwitchBody(type, data);
    case 'circuit_opened': case 'circuit_closed': return circuitBody(type, data);
    case 'alert_dead_lettered': return deadLetterBody(data);
    case 'deadman_alert': case 'deadman_resolved': return deadmanBody(type, data);
  }
}

/** The alert an event makes, or null when the event is not alerted (not a type in `alertOn`). */
export function alertOf(entry: EventEntry, alertOn: ReadonlySet<string>): Alert | null {
  if (!isAlertEventType(entry.type) || !alertOn.has(entry.type)) return null;
  const body = bodyOf(entry.type, entry.data);
  return {
    alertKey: alertKeyOf(entry.type, entry.id),
    eventId: entry.id,
    eventType: entry.type,
    occurredAtMs: Number(entry.id.split('-')[0]),
    data: entry.data,
    ...body,
  };
}

/** The alert's text as one message (chat sinks): title, lines, and the key a reader can quote. */
export function messageText(alert: Alert, charsMax: number): string {
  const text = [`[${alert.severity.toUpperCase()}] ${alert.title}`, ...alert.lines, `alert key ${alert.alertKey}`].join('\n');
  return text.length > charsMax ? `${text.slice(0, charsMax - 1)}…` : text;
}
