// Chaos preload (`--clock-hook preload`): each SIGUSR2 steps this process's Date.now() by CHAOS_CLOCK_STEP_MS (default -5000), as an NTP step would.
//
// Loaded with `node --import` into a worker process that has no clock hook of its own, so the chaos run's
// clock_step fault works on any executor: the whole process sees the step (the executor, BullMQ, ioredis,
// pino), as with a real NTP step; performance.now() is monotonic and untouched. Without the signal, nothing
// changes. Test use only.
import process from 'node:process';

const stepMs = Number(process.env.CHAOS_CLOCK_STEP_MS ?? '-5000');
if (!Number.isSafeInteger(stepMs)) throw new Error(`CHAOS_CLOCK_STEP_MS (${process.env.CHAOS_CLOCK_STEP_MS}) is not an integer`);

const systemNow = Date.now;
let offsetMs = 0;
Date.now = () => systemNow() + offsetMs;
process.on('SIGUSR2', () => {
  offsetMs += stepMs;
  process.stderr.write(`chaos clock step: pid ${process.pid} wall clock now offset by ${offsetMs} ms\n`);
});
