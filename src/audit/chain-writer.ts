import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { type AuditFs, nodeAuditFs } from './audit-fs';
import type { AuditEvent, AuditLog, AuditStatus, AuditValue } from './audit-trail';
import { type ChainLink, GENESIS, type LineHasher, RESERVED_FIELDS, formatHead, formatLine, headFileOf, headMacValid, lineHasher, parseHead, parseLine } from './chain';
import { linesOf, rotatedFiles } from './chain-files';

/** Events queued at most; beyond it new events are dropped and counted (status().dropped, /readyz). */
export const DEFAULT_AUDIT_MAX_PENDING = 10_000;
/** After a failed write, the next attempt comes this much later (or with the next event). */
const DEFAULT_RETRY_MS = 1000;
/**
 * A write (an append and the head file's atomic replacement: about nine file operations on libuv's pool) starts
 * at most this often; events arriving meanwhile join the next one. A write costs about 0.75 ms of CPU whatever it
 * holds (BENCHMARKS.md): one per event would cost a busy server a third of its exchange's CPU. The head still
 * follows every append, so tamper evidence is unchanged; an event waits at most this long in memory.
 */
export const DEFAULT_AUDIT_BATCH_MS = 50;
const MAX_STRING = 512;
/** Lines hashed per append: the event loop runs between appends (≈25 µs a line, so ≈13 ms at most). */
const LINES_PER_APPEND = 512;
const MAX_LIST = 64;

/** Field names never written, whatever a caller passes: a token, code or key has no place in the trail. */
const FORBIDDEN_FIELDS = new Set([
  'idtoken',
  'customtoken',
  'token',
  'accesstoken',
  'refreshtoken',
  'serverauthcode',
  'code',
  'secret',
  'password',
  'privatekey',
  'private_key',
  'key',
  'hmackey',
  'authorization',
  'cookie',
]);

export interface ChainWriterOptions {
  /** The log file, or '-' for stdout. */
  file: string;
  /** HMAC-SHA256 chain under this key (AUDIT_HMAC_KEY_FILE); else SHA-256. */
  hmacKey?: Buffer;
  /** AUDIT_INCLUDE_EMAIL: `email` fields are written only when true. */
  includeEmail: boolean;
  /** AUDIT_MAX_BYTES: rotate before a file would pass it (0: never). */
  maxBytes: number;
  clock: Clock;
  logger: Logger;
  fs?: AuditFs;
  /** Where '-' writes (default process.stdout). */
  stdout?: (text: string) => void;
  maxPending?: number;
  retryMs?: number;
  /** A write starts at most this often (DEFAULT_AUDIT_BATCH_MS); 0: soon after every record(). */
  batchMs?: number;
  /** False: written only on flush() (the scripts flush after each command). Default true: soon after record(). */
  autoFlush?: boolean;
}

interface Queued {
  time: string;
  fields: { event: string } & Record<string, AuditValue>;
}

interface OpenState extends ChainLink {
  /** Bytes in the live file. */
  size: number;
  /** The index the next rotated file gets. */
  nextIndex: number;
  /** The live file ends in a cut line: the next write starts with a newline. */
  needsNewline: boolean;
}

/** Keeps the event's allowed fields, short: never a token, code or key; an email only when asked for. */
export function sanitizeAuditEvent(event: AuditEvent, includeEmail: boolean): Queued['fields'] {
  const fields: Queued['fields'] = { event: String(event.event).slice(0, 64) };
  for (const [name, value] of Object.entries(event)) {
    if (RESERVED_FIELDS.has(name) || value === undefined) continue;
    const lower = name.toLowerCase();
    if (FORBIDDEN_FIELDS.has(lower)) continue;
    if (lower === 'email' && !includeEmail) continue;
    if (typeof value === 'string') fields[name] = value.slice(0, MAX_STRING);
    else if (typeof value === 'number') {
      if (Number.isFinite(value)) fields[name] = value;
    } else if (typeof value === 'boolean') fields[name] = value;
    else if (Array.isArray(value)) fields[name] = value.slice(0, MAX_LIST).map((item) => String(item).slice(0, MAX_STRING));
  }
  return fields;
}

/**
 * The tamper-evident audit writer (see ./chain.ts for the line format). record() only queues; the
 * queue is written soon after, asynchronously, in order, one append per batch, followed by the head
 * file (`<file>.head`, written atomically). Before a file would pass maxBytes it is renamed to
 * `<file>.<n>` (n = 1, 2, ...; none is ever deleted) and the chain goes on in a new file. A failed
 * write (full disk, removed folder) is logged once, reported by status(), and retried; the events
 * stay queued, up to maxPending, and events beyond it are dropped and counted. Never throws.
 *
 * On its first write it resumes the chain: from the head file, or from the log's last line when the
 * head file is missing or lags behind the log by whole lines (a crash between the two writes). When
 * the head and the log disagree otherwise (the log was cut or edited), it logs an error, writes an
 * `audit.head_mismatch` event and chains on from the head, so the break stays visible to `verify`.
 */
export class ChainWriter implements AuditLog {
  private readonly fs: AuditFs;
  private readonly hash: LineHasher;
  private readonly maxPending: number;
  private readonly retryMs: number;
  private readonly batchMs: number;
  /** When the last scheduled write started (performance.now()). */
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private batchTimer?: NodeJS.Timeout;
  private readonly queue: Queued[] = [];
  private state?: OpenState;
  private running: Promise<void> = Promise.resolve();
  private scheduled = false;
  private retryTimer?: NodeJS.Timeout;
  private failing?: string;
  private dropped = 0;
  private droppedReported = false;
  private closed = false;
  /** Lines were appended but the head file does not name the last one yet (its write failed). */
  private headStale = false;

  constructor(private readonly options: ChainWriterOptions) {
    this.fs = options.fs ?? nodeAuditFs;
    this.hash = lineHasher(options.hmacKey);
    this.maxPending = options.maxPending ?? DEFAULT_AUDIT_MAX_PENDING;
    this.retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    this.batchMs = options.batchMs ?? DEFAULT_AUDIT_BATCH_MS;
  }

  get file(): string {
    return this.options.file;
  }

  record(event: AuditEvent): void {
    const { options } = this;
    let fields: Queued['fields'];
    try {
      fields = sanitizeAuditEvent(event, options.includeEmail);
    } catch {
      return;
    }
    if (this.queue.length >= this.maxPending) {
      this.dropped += 1;
      if (!this.droppedReported) {
        this.droppedReported = true;
        options.logger.error({ file: options.file, maxPending: this.maxPending }, 'audit queue full: events are dropped (counted on /readyz)');
      }
      return;
    }
    this.queue.push({ time: new Date(options.clock()).toISOString(), fields });
    this.schedule();
  }

  status(): AuditStatus {
    return {
      file: this.options.file,
      writable: this.failing === undefined,
      ...(this.failing !== undefined ? { error: this.failing } : {}),
      pending: this.queue.length,
      dropped: this.dropped,
      lastSeq: this.state?.seq ?? 0,
    };
  }

  /** Writes everything queued so far (after any write in progress). True when it all got written. */
  flush(): Promise<boolean> {
    this.running = this.running.then(() => this.writeQueued());
    return this.running.then(() => this.queue.length === 0 && this.failing === undefined);
  }

  /** The last flush (shutdown): no more automatic writes afterwards. */
  async close(): Promise<boolean> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    return this.flush();
  }

  private schedule(): void {
    if (this.options.autoFlush === false || this.scheduled || this.closed) return;
    this.scheduled = true;
    const write = () => {
      this.batchTimer = undefined;
      this.scheduled = false;
      this.lastWriteAt = performance.now();
      void this.flush();
    };
    const wait = this.lastWriteAt + this.batchMs - performance.now();
    if (wait <= 0) setImmediate(write);
    else this.batchTimer = setTimeout(write, Math.ceil(wait));
  }

  private async writeQueued(): Promise<void> {
    if (this.queue.length === 0 && !this.headStale) return;
    try {
      // After a failure (the folder removed meanwhile, say): recreate the folder, never the chain's state,
      // so the new file's first line still follows the last one written and `verify` shows the gap.
      if (this.failing !== undefined && this.state !== undefined && this.options.file !== '-') {
        await this.fs.mkdir(path.dirname(this.options.file)).catch(() => undefined);
      }
      const state = this.state ?? (await this.open());
      this.state = state;
      await this.writeBatch(state, this.queue.length);
      if (this.headStale) await this.writeHead(state);
      if (this.failing !== undefined) this.options.logger.warn({ file: this.options.file }, 'audit log writable again');
      this.failing = undefined;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (this.failing === undefined) {
        // Logged once per outage, not per attempt; /readyz says it all along.
        this.options.logger.error({ file: this.options.file, err: code, pending: this.queue.length }, 'audit log cannot be written; events kept in memory');
      }
      this.failing = code;
      if (!this.closed && this.retryTimer === undefined) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          void this.flush();
        }, this.retryMs);
        this.retryTimer.unref();
      }
    }
  }

  /** Writes the first `count` queued events; each successful append takes its events off the queue. */
  private async writeBatch(state: OpenState, count: number): Promise<void> {
    const { options, fs } = this;
    const stdout = options.file === '-';
    let written = 0;
    while (written < count) {
      let chunk = state.needsNewline && !stdout ? '\n' : '';
      let bytes = Buffer.byteLength(chunk);
      let link: ChainLink = { seq: state.seq, hash: state.hash };
      let taken = 0;
      let rotate = false;
      for (let i = written; i < count && taken < LINES_PER_APPEND; i += 1) {
        const item = this.queue[i - written] as Queued;
        const line = formatLine(link.seq + 1, item.time, item.fields, link.hash, this.hash);
        const lineBytes = Buffer.byteLength(line.text) + 1;
        if (!stdout && options.maxBytes > 0 && state.size + bytes + lineBytes > options.maxBytes && state.size + bytes > 0) {
          rotate = true;
          break;
        }
        chunk += `${line.text}\n`;
        bytes += lineBytes;
        link = { seq: link.seq + 1, hash: line.hash };
        taken += 1;
      }
      if (taken > 0 || state.needsNewline) {
        if (stdout) (options.stdout ?? ((text: string) => process.stdout.write(text)))(chunk);
        else await fs.append(options.file, chunk);
        this.queue.splice(0, taken);
        written += taken;
        state.seq = link.seq;
        state.hash = link.hash;
        state.size += bytes;
        state.needsNewline = false;
        if (!stdout) {
          this.headStale = true;
          await this.writeHead(state);
        }
      }
      if (rotate) {
        await fs.rename(options.file, `${options.file}.${state.nextIndex}`);
        state.nextIndex += 1;
        state.size = 0;
      }
    }
  }

  private async writeHead(state: OpenState): Promise<void> {
    await this.fs.writeAtomic(headFileOf(this.options.file), formatHead({ seq: state.seq, hash: state.hash }, this.options.hmacKey !== undefined ? this.hash : undefined));
    this.headStale = false;
  }

  private async open(): Promise<OpenState> {
    const { options, fs } = this;
    if (options.file === '-') return { seq: 0, hash: GENESIS, size: 0, nextIndex: 1, needsNewline: false };
    await fs.mkdir(path.dirname(options.file));
    const rotated = await rotatedFiles(fs, options.file);
    const nextIndex = (rotated[rotated.length - 1]?.index ?? 0) + 1;
    let live = await fs.readFile(options.file);
    const head = parseHead((await fs.readFile(headFileOf(options.file))) ?? '');
    let lines = linesOf(live ?? '');
    const parsed = (text: string) => {
      const line = parseLine(text, this.hash);
      return line.ok && line.hash === line.computed ? { seq: line.seq, hash: line.hash } : undefined;
    };
    if (head === undefined && rotated.length === 0 && lines.length > 0 && !lines.some((l) => parsed(l) !== undefined)) {
      // A log of the format before the chain (the keys script's): kept aside, never rewritten.
      await fs.rename(options.file, `${options.file}.pre-chain`);
      options.logger.warn({ file: options.file, keptAs: `${options.file}.pre-chain` }, 'audit log predates the hash chain: kept aside, a new chain starts');
      live = undefined;
      lines = [];
    }
    const size = Buffer.byteLength(live ?? '');
    const needsNewline = live !== undefined && live.length > 0 && !live.endsWith('\n');
    if (lines.length === 0 && rotated.length > 0) {
      lines = linesOf((await fs.readFile((rotated[rotated.length - 1] as { file: string }).file)) ?? '');
    }
    let fileLast: ChainLink | undefined;
    for (let i = lines.length - 1; i >= 0 && fileLast === undefined; i -= 1) fileLast = parsed(lines[i] as string);
    let resume: ChainLink;
    if (head === undefined) {
      resume = fileLast ?? { seq: 0, hash: GENESIS };
    } else if (options.hmacKey !== undefined && !headMacValid(head, this.hash)) {
      // An HMAC chain's head written without the key: never trusted (it could hide lines cut from the end).
      resume = fileLast ?? head;
      this.headMismatch(head, fileLast, 'audit head file has no valid HMAC (written without the key?): run npm run audit -- verify');
    } else if (fileLast !== undefined && fileLast.seq === head.seq && fileLast.hash === head.hash) {
      resume = head;
    } else if (fileLast !== undefined && fileLast.seq > head.seq && lines.some((l) => {
      const link = parsed(l);
      return link !== undefined && link.seq === head.seq && link.hash === head.hash;
    })) {
      // A crash between the append and the head's update: the log is the head plus whole lines.
      resume = fileLast;
    } else {
      resume = head;
      this.headMismatch(head, fileLast, 'audit log does not match its head file (cut or edited?): run npm run audit -- verify');
    }
    return { seq: resume.seq, hash: resume.hash, size, nextIndex, needsNewline };
  }

  /** Logs the head's disagreement and records it as the chain's next event, so it stays visible to `verify`. */
  private headMismatch(head: ChainLink, fileLast: ChainLink | undefined, message: string): void {
    const { options } = this;
    options.logger.error({ file: options.file, headSeq: head.seq, fileSeq: fileLast?.seq ?? 0 }, message);
    this.queue.unshift({
      time: new Date(options.clock()).toISOString(),
      fields: { event: 'audit.head_mismatch', headSeq: head.seq, fileSeq: fileLast?.seq ?? 0 },
    });
  }
}
