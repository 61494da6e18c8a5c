// Job data a BullMQ worker cannot read (not JSON, or larger than the configured limit), turned into a job that is refused once.
import { Worker, type Job, type JobJsonRaw, type Processor, type WorkerOptions } from 'bullmq';
import { IDENTIFIER_RE } from '../domain/validation.js';

export type UnreadableReason = 'not_json' | 'payload_too_large';

/**
 * What a guarded worker hands its processor in place of data it could not (or would not) parse. Only the
 * worker creates one (it is not JSON-serialisable), so a scanner cannot forge it through the queue.
 */
export class UnreadableJobData {
  constructor(
    readonly reason: UnreadableReason,
    readonly error: string,
    readonly dataBytes: number,
    /** The arbId, when the raw text names a safe one (found without parsing). */
    readonly arbId: string | null,
  ) {}
}

/** Characters of the raw data searched for an arbId: a huge payload is never scanned whole. */
const arbIdScanCharsMax = 4_096;

/** The arbId named near the start of raw job text, when it is a safe identifier; found by pattern, never by parsing. */
export function arbIdFromRawText(raw: string): string | null {
  const match = /"arbId"\s*:\s*"([^"\\]{1,64})"/.exec(raw.slice(0, arbIdScanCharsMax));
  const arbId = match?.[1];
  return arbId !== undefined && IDENTIFIER_RE.test(arbId) ? arbId : null;
}

/**
 * Why this exists, and how. BullMQ's worker takes a job with the moveToActive Lua script, which returns the
 * job's whole hash; `Worker.nextJobFromJobData` then calls `this.createJob(raw, id)`, i.e. `Job.fromJSON`,
 * which runs `JSON.parse(raw.data)` (node_modules/bullmq/dist/esm/classes/job.js). When that throws (a buggy
 * scanner's client wrote `NaN` or truncated text with HSET), the error leaves the worker's fetch loop as a
 * worker `error` event: the job is already active and locked but no processor ever sees it, so its lock
 * lapses, the stalled-job check puts it back in the wait list, and it is fetched and fails again — forever,
 * with a stack trace each time, and no `arb_rejected`.
 *
 * `createJob` is BullMQ's protected factory for exactly this step, so we override it: data over the size
 * limit is not parsed at all, and data that does not parse is replaced by an UnreadableJobData (the rest of
 * the job — id, lock token, options, attempts — is BullMQ's own). The processor then refuses it once like any
 * bad input (an `arb_rejected` event) and fails it as unrecoverable, which moves it to the failed set with
 * the reason and BullMQ's bounded failed-job retention.
 */
export class GuardedWorker<DataType = unknown, ResultType = unknown> extends Worker<DataType, ResultType> {
  /** The largest data accepted, in UTF-8 bytes (set synchronously after super(): the first fetch awaits Redis first). */
  readonly jobDataBytesMax: number;

  constructor(name: string, processor: Processor<DataType, ResultType>, opts: WorkerOptions, jobDataBytesMax: number) {
    super(name, processor, opts);
    this.jobDataBytesMax = jobDataBytesMax;
  }

  protected override createJob(raw: JobJsonRaw, jobId: string): Job<DataType, ResultType, string> {
    const text = raw.data ?? '';
    const dataBytes = Buffer.byteLength(text, 'utf8');
    if (dataBytes > this.jobDataBytesMax) {
      return this.withData(raw, jobId, new UnreadableJobData('payload_too_large',
        `job data (${dataBytes} bytes) > jobDataBytesMax (${this.jobDataBytesMax} bytes); not parsed`, dataBytes, arbIdFromRawText(text)));
    }
    try {
      return super.createJob(raw, jobId);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      // The parser's message quotes the raw text (control characters and all): say where it broke, not what it read.
      return this.withData(raw, jobId, new UnreadableJobData('not_json',
        `job data is not valid JSON (${dataBytes} bytes)`, dataBytes, arbIdFromRawText(text)));
    }
  }

  private withData(raw: JobJsonRaw, jobId: string, data: UnreadableJobData): Job<DataType, ResultType, string> {
    let job: Job<DataType, ResultType, string>;
    try {
      job = super.createJob({ ...raw, data: '{}' }, jobId);
    } catch {
      // The options or progress fields are broken too: BullMQ's defaults for those, our refusal for the data.
      job = super.createJob({ ...raw, data: '{}', opts: '{}', progress: '0' } as JobJsonRaw, jobId);
    }
    (job as { data: unknown }).data = data;
    return job;
  }
}
