import { type AuditFs, nodeAuditFs } from './audit-fs';
import { GENESIS, headFileOf, headMacValid, lineHasher, parseHead, parseLine } from './chain';
import { linesOf, rotatedFiles } from './chain-files';

export interface BrokenLine {
  file: string;
  /** 1-based line number in `file` (one past its last line when lines were cut from the end). */
  line: number;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  /** The files checked, oldest first. */
  files: string[];
  /** Lines that verified. */
  lines: number;
  /** The seq of the first line checked: 1, or more with `pruned` when older rotated files were deleted. */
  firstSeq: number;
  lastSeq: number;
  broken?: BrokenLine;
}

export interface VerifyOptions {
  /** The HMAC key of an HMAC chain (AUDIT_HMAC_KEY_FILE). */
  hmacKey?: Buffer;
  /** Skip the head file check (a chain captured from stdout has none). */
  noHead?: boolean;
  /**
   * Lines captured from stdout (AUDIT_LOG=-) mixed with the server's other JSON logs: lines without a `"hash"`
   * are skipped (a deleted or cut audit line still breaks the next one's seq and prev).
   */
  mixed?: boolean;
  /**
   * Older rotated files were archived or deleted on purpose: the oldest file left may start after seq 1, and
   * its first line's `prev` is taken as given (what came before cannot be checked). Every line from there on is
   * checked as always, and the result's `firstSeq` says where the check began.
   */
  pruned?: boolean;
  fs?: AuditFs;
}

/**
 * Checks a chain: the rotated files `<file>.1`, `<file>.2`, ... then `<file>`, line by line (each line's
 * own hash, its `seq` one more than the line before, its `prev` the hash of the line before; the first
 * line seq 1 chained to GENESIS), then the head file against the last line. Stops at the first broken line.
 */
export async function verifyChain(file: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const fs = options.fs ?? nodeAuditFs;
  const hash = lineHasher(options.hmacKey);
  const files = [...(await rotatedFiles(fs, file)).map((entry) => entry.file)];
  const live = await fs.readFile(file);
  if (live !== undefined) files.push(file);
  const result = (broken?: BrokenLine): VerifyResult => ({
    ok: broken === undefined,
    files,
    lines: count,
    firstSeq: count > 0 ? seq - count + 1 : 0,
    lastSeq: seq,
    ...(broken ? { broken } : {}),
  });
  let count = 0;
  let seq = 0;
  let prev = GENESIS;
  if (files.length === 0) return result({ file, line: 0, reason: 'no such audit log' });
  let lastFile = file;
  let lastLineNo = 0;
  for (const name of files) {
    const lines = linesOf(name === file ? (live as string) : ((await fs.readFile(name)) ?? ''));
    lastFile = name;
    lastLineNo = lines.length;
    for (const [index, text] of lines.entries()) {
      const at = (reason: string) => result({ file: name, line: index + 1, reason });
      if (options.mixed && !text.includes('"hash":"')) continue;
      if (text === '') return at('an empty line');
      const line = parseLine(text, hash);
      if (!line.ok) return at(line.reason);
      if (line.computed !== line.hash) {
        return at(
          options.hmacKey === undefined
            ? 'its hash does not match its content (edited; or an HMAC chain: set AUDIT_HMAC_KEY_FILE to verify it)'
            : 'its HMAC does not match its content (edited, or another key)',
        );
      }
      if (count === 0 && options.pruned && line.seq > 1) {
        // The first line left after older files were removed: chained to what is no longer here.
        seq = line.seq - 1;
        prev = line.prev;
      }
      if (line.seq !== seq + 1) {
        const hint = count === 0 && seq === 0 ? '; if older rotated files were archived or deleted on purpose, verify with --pruned' : '';
        return at(`seq ${line.seq} where ${seq + 1} was expected (a line is missing, inserted or out of order${hint})`);
      }
      if (line.prev !== prev) return at('its "prev" is not the hash of the line before (a line before it was replaced or removed)');
      seq = line.seq;
      prev = line.hash;
      count += 1;
    }
  }
  if (options.noHead) return result();
  const headFile = headFileOf(file);
  const headText = await fs.readFile(headFile);
  if (headText === undefined) return result({ file: headFile, line: 0, reason: 'the head file is missing, so a cut or edited last line cannot be ruled out' });
  const head = parseHead(headText);
  if (head === undefined) return result({ file: headFile, line: 1, reason: 'the head file is not {"seq","hash"}' });
  // An HMAC chain's head carries the HMAC of its seq and hash: a head written without the key (naming an earlier
  // line, to hide lines cut from the end) is caught here.
  if (options.hmacKey !== undefined && !headMacValid(head, hash)) {
    return result({ file: headFile, line: 1, reason: 'the head file\'s HMAC ("mac") is missing or does not match (written without the key, or another key)' });
  }
  if (head.seq > seq) {
    return result({ file: lastFile, line: lastLineNo + 1, reason: `the head file says the chain ends at seq ${head.seq}, the log ends at seq ${seq} (lines were cut from the end)` });
  }
  if (head.seq < seq) {
    return result({ file: lastFile, line: Math.max(1, lastLineNo - (seq - head.seq) + 1), reason: `lines after seq ${head.seq}, where the head file says the chain ends (appended by something else, or the writer stopped before updating the head)` });
  }
  if (head.hash !== prev) return result({ file: lastFile, line: lastLineNo, reason: 'the last line is not the one the head file names (replaced)' });
  return result();
}
