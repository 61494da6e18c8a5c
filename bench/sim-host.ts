// Child process of the bench: hosts the two simulated bookmakers so their HTTP work stays off the executor's thread.
import { startBooks } from '../src/rig/books.js';
import { benchBooks } from './sims.js';

const { bookA, bookB, close } = await startBooks(benchBooks);
process.stdout.write(`${JSON.stringify({ bookA: bookA.url, bookB: bookB.url })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await close();
  process.exit(0);
}

// The parent closes stdin when it is done, or dies: either way the sims go with it.
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
