import { createHash, createHmac } from 'node:crypto';

/**
 * The line format of the audit chain. A line is one JSON object:
 * `{"seq":N,"time":"<ISO 8601>","event":"...",<fields>,"prev":"<hash of line N-1>","hash":"<hash of this line>"}`.
 * `hash` is SHA-256 (or HMAC-SHA256 under AUDIT_HMAC_KEY_FILE's key) of the line's own text without its
 * `,"hash":"..."` part; `prev` of the first line ever is GENESIS. An edited line fails its own hash; a
 * deleted, inserted or reordered one breaks `seq` or `prev` of the line after it.
 */

export const GENESIS = '0'.repeat(64);

/** Hex SHA-256, or HMAC-SHA256 when a key is given. */
export type LineHasher = (text: string) => string;

export function lineHasher(hmacKey?: Buffer): LineHasher {
  if (hmacKey === undefined) return (text) => createHash('sha256').update(text, 'utf8').digest('hex');
  const key = Buffer.from(hmacKey);
  return (text) => createHmac('sha256', key).update(text, 'utf8').digest('hex');
}

export interface ChainLink {
  seq: number;
  hash: string;
}

/** Fields a line's envelope owns: an event's own fields of these names are dropped. */
export const RESERVED_FIELDS = new Set(['seq', 'time', 'event', 'prev', 'hash']);

/** Formats line `seq` (no newline) chained to `prev`; returns its text and hash. */
export function formatLine(
  seq: number,
  time: string,
  fields: { event: string } & Record<string, unknown>,
  prev: string,
  hash: LineHasher,
): { text: string; hash: string } {
  const body: Record<string, unknown> = { seq, time, event: fields.event };
  for (const [name, value] of Object.entries(fields)) if (!RESERVED_FIELDS.has(name)) body[name] = value;
  body.prev = prev;
  const unsigned = JSON.stringify(body);
  const digest = hash(unsigned);
  return { text: `${unsigned.slice(0, -1)},"hash":"${digest}"}`, hash: digest };
}

export type ParsedLine =
  | { ok: true; seq: number; prev: string; hash: string; computed: string; record: Record<string, unknown> }
  | { ok: false; reason: string };

const SIGNED = /^(\{.*),"hash":"([0-9a-f]{64})"\}$/;

/** Parses one line and recomputes its hash (the caller compares `hash` with `computed`, and `prev`, `seq`). */
export function parseLine(text: string, hash: LineHasher): ParsedLine {
  const match = SIGNED.exec(text);
  if (!match) return { ok: false, reason: 'not an audit line (no trailing "hash"; cut short or edited)' };
  const unsigned = `${match[1] as string}}`;
  let record: unknown;
  try {
    record = JSON.parse(unsigned);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return { ok: false, reason: 'not a JSON object' };
  const { seq, prev } = record as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return { ok: false, reason: 'no valid "seq"' };
  if (typeof prev !== 'string' || !/^[0-9a-f]{64}$/.test(prev)) return { ok: false, reason: 'no valid "prev"' };
  return { ok: true, seq, prev, hash: match[2] as string, computed: hash(unsigned), record: record as Record<string, unknown> };
}

/** The head file beside the log: the last line's seq and hash, so a cut or edited last line is caught. */
export function headFileOf(file: string): string {
  return `${file}.head`;
}

/** A head file's content: the last line's seq and hash, and in an HMAC chain `mac`, the HMAC of both. */
export interface HeadLink extends ChainLink {
  mac?: string;
}

/** What a head's `mac` covers (a text no line can be: lines are JSON objects). */
function headMacInput(link: ChainLink): string {
  return `firebridge-audit-head ${link.seq} ${link.hash}`;
}

/**
 * The head file's text. `keyed` (the HMAC chain's hasher) adds `mac`: without the key nobody can write a head naming
 * an earlier line, which is all it takes to hide lines cut from the end (each line's hash is in the line itself).
 */
export function formatHead(link: ChainLink, keyed?: LineHasher): string {
  return `${JSON.stringify({ seq: link.seq, hash: link.hash, ...(keyed ? { mac: keyed(headMacInput(link)) } : {}) })}\n`;
}

/** Whether a head's `mac` is the HMAC of its seq and hash under the chain's key (`hash`: the HMAC hasher). */
export function headMacValid(head: HeadLink, hash: LineHasher): boolean {
  return head.mac !== undefined && head.mac === hash(headMacInput(head));
}

export function parseHead(text: string): HeadLink | undefined {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (typeof value.seq === 'number' && Number.isSafeInteger(value.seq) && value.seq >= 0 && typeof value.hash === 'string' && /^[0-9a-f]{64}$/.test(value.hash)) {
      const mac = typeof value.mac === 'string' && /^[0-9a-f]{64}$/.test(value.mac) ? value.mac : undefined;
      return { seq: value.seq, hash: value.hash, ...(mac !== undefined ? { mac } : {}) };
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** Rotated files are `<file>.1`, `<file>.2`, ... (1 the oldest); the live file has no suffix. */
export function rotatedIndexOf(base: string, name: string): number | undefined {
  if (!name.startsWith(`${base}.`)) return undefined;
  const suffix = name.slice(base.length + 1);
  return /^[1-9]\d{0,8}$/.test(suffix) ? Number(suffix) : undefined;
}
