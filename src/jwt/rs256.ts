import { type KeyObject, verify as cryptoVerify } from 'node:crypto';
import { isAscii } from './base64url';
import { MAX_TOKEN_LENGTH } from './decode';

/** The one algorithm the bridge accepts and produces. Never taken from the token. */
export const RS256 = 'RS256';

/** Where a check on the calling thread reads the signing input's bytes: held only for one synchronous verify. */
const SIGNING_INPUT_SCRATCH = Buffer.alloc(MAX_TOKEN_LENGTH);

/**
 * The signing input's UTF-8 bytes: written as latin1 when it is ASCII (the same bytes), into `scratch` when one is
 * given and it fits (a check on the calling thread, done with them before it returns), else in a new Buffer. At
 * 12,000 characters: the ASCII test 1.9 µs and the write 0.17 µs, against 7.4 µs for Buffer.from(text) (UTF-8).
 */
function signingInputBytes(signingInput: string, scratch?: Buffer): Buffer {
  if (!isAscii(signingInput)) return Buffer.from(signingInput, 'utf8');
  if (scratch !== undefined && signingInput.length <= scratch.length) return scratch.subarray(0, scratch.write(signingInput, 0, 'latin1'));
  return Buffer.from(signingInput, 'latin1');
}

/**
 * RSASSA-PKCS1-v1_5 with SHA-256 over the signing input, on the calling thread. The caller has
 * pinned the key. node:crypto directly, not jose (BENCHMARKS.md measures why).
 *
 * A token's signing input is ASCII (two segments decodeJwt has held to base64url's alphabet): its
 * bytes are then read as latin1, which for ASCII are the UTF-8 bytes, at less than a third of the
 * cost for a long token (see signingInputBytes; BENCHMARKS.md, token size). Any other string is read
 * as UTF-8, as before, whatever the caller checked: latin1 would read a code unit by its low byte, so
 * a string would share the bytes (and the signature) of another.
 */
export function verifyRs256(signingInput: string, signature: Buffer, key: KeyObject): boolean {
  try {
    return cryptoVerify('sha256', signingInputBytes(signingInput, SIGNING_INPUT_SCRATCH), key, signature);
  } catch {
    return false;
  }
}

/**
 * The same check on libuv's thread pool (`crypto.verify` with a callback): the RSA work leaves the
 * event loop, so concurrent verifications use every core. Resolves false for anything but a valid
 * signature (never rejects), exactly as verifyRs256 answers.
 */
export function verifyRs256OffThread(signingInput: string, signature: Buffer, key: KeyObject): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    try {
      cryptoVerify('sha256', signingInputBytes(signingInput), key, signature, (err, ok) => resolve(err === null && ok === true));
    } catch {
      resolve(false);
    }
  });
}

/**
 * Chooses where a signature is checked. A lone verification runs on the event loop: handing ~30 µs
 * of RSA to the pool costs the loop about as much as it saves and adds a thread round trip of
 * latency. Under concurrency it goes to the pool, so the loop keeps serving requests while other
 * cores verify. "Concurrency" is: a verification is already running on the pool, or one already
 * ran on the loop during this turn of the event loop while more than one request arrived in it
 * (the requests read in one poll phase arrived together; the turn ends at the next setImmediate).
 * The HTTP edge tells of each request (noteRequest). A caller that verifies one token after another
 * in one task, with no requests arriving (a script, a batch, the micro benchmark), stays on the
 * loop: sending every second check to the pool would only make it wait for the thread round trip.
 */
export class Rs256Scheduler {
  private inFlight = 0;
  private ranOnLoopThisTurn = false;
  private requestsThisTurn = 0;
  private turnEnding = false;
  private onLoop = 0;
  private offLoop = 0;
  private readonly endTurn = () => {
    this.ranOnLoopThisTurn = false;
    this.requestsThisTurn = 0;
    this.turnEnding = false;
  };

  private markTurn(): void {
    if (this.turnEnding) return;
    this.turnEnding = true;
    setImmediate(this.endTurn);
  }

  /** A request arrived (the HTTP edge calls this once per request): with more than one in a turn, checks may go to the pool. */
  noteRequest(): void {
    this.requestsThisTurn += 1;
    this.markTurn();
  }

  verify(signingInput: string, signature: Buffer, key: KeyObject): boolean | Promise<boolean> {
    if (this.inFlight === 0 && !(this.ranOnLoopThisTurn && this.requestsThisTurn > 1)) {
      this.ranOnLoopThisTurn = true;
      this.markTurn();
      this.onLoop += 1;
      return verifyRs256(signingInput, signature, key);
    }
    return this.offThread(signingInput, signature, key);
  }

  private async offThread(signingInput: string, signature: Buffer, key: KeyObject): Promise<boolean> {
    this.inFlight += 1;
    this.offLoop += 1;
    try {
      return await verifyRs256OffThread(signingInput, signature, key);
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Where the checks ran so far, and how many are on the pool now (tests, the bench). */
  stats(): { onLoop: number; offLoop: number; inFlight: number } {
    return { onLoop: this.onLoop, offLoop: this.offLoop, inFlight: this.inFlight };
  }
}

/** The process's scheduler, shared by every verifier (the pool and the loop are per process). */
export const rs256Scheduler = new Rs256Scheduler();

/** Every check on the event loop: for a caller whose own heavier work already goes to the pool (see its use). */
export const ON_LOOP: Pick<Rs256Scheduler, 'verify'> = { verify: verifyRs256 };
