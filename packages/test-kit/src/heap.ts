import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// gc() without --expose-gc on the command line (as the management API's collection does).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * The heap in use after a full collection: what the objects a test keeps really hold, for tests that a kept
 * string or message does not keep the text it came from alive. Wait a turn before it when WeakRefs matter.
 */
export function collectedHeap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}
