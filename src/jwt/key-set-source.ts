import type { KeyObject } from 'node:crypto';
import { KeySetFetchError, KeySetFormatError, ResponseTooLargeError } from '../errors';
import { type FetchFn, withoutRedirects } from '../outbound/fetch';
import { readTextCapped } from '../outbound/read-capped';
import { parseKeySet } from './key-set';

export interface LoadedKeySet {
  keys: Map<string, KeyObject>;
  /** Lifetime the publisher announced (Cache-Control max-age less Age), if any. */
  maxAgeMs?: number;
}

/** Where a key set comes from. The cache decides when to ask. */
export interface KeySetSource {
  /** For logs: where the keys come from (no secrets in it). */
  readonly name: string;
  load(): Promise<LoadedKeySet>;
}

const MAX_KEY_SET_BYTES = 512 * 1024;

export function parseMaxAgeMs(cacheControl: string | null, age: string | null): number | undefined {
  if (!cacheControl) return undefined;
  if (/(?:^|,)\s*(?:no-store|no-cache)\b/i.test(cacheControl)) return 0;
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/i.exec(cacheControl);
  if (!match) return undefined;
  const ageSeconds = age && /^\d{1,10}$/.test(age.trim()) ? Number(age.trim()) : 0;
  return Math.max(0, Number(match[1]) - ageSeconds) * 1000;
}

/** Fetches a key set over HTTP with a hard timeout covering headers and body. */
export class HttpKeySetSource implements KeySetSource {
  constructor(
    readonly url: string,
    private readonly options: { fetch: FetchFn; timeoutMs: number },
  ) {}

  get name(): string {
    return this.url;
  }

  async load(): Promise<LoadedKeySet> {
    const { timeoutMs } = this.options;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The abort signal ends a well-behaved fetch; the race ends any other (an injected fetch that
    // ignores its signal must not hold every verification waiting on this single flight).
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new KeySetFetchError(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    let response: Response;
    let text: string;
    try {
      const request = (async () => {
        const res = await this.options.fetch(this.url, withoutRedirects({ signal: controller.signal, headers: { accept: 'application/json' } }));
        return { res, body: await readTextCapped(res, MAX_KEY_SET_BYTES) };
      })();
      request.catch(() => undefined); // lost the race: its late failure is of no interest
      ({ res: response, body: text } = await Promise.race([request, deadline]));
    } catch (err) {
      if (err instanceof KeySetFetchError) throw err;
      if (err instanceof ResponseTooLargeError) throw new KeySetFetchError(err.message);
      throw new KeySetFetchError(
        controller.signal.aborted ? `timed out after ${timeoutMs} ms` : `request failed: ${(err as Error).message}`,
      );
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw new KeySetFetchError(`HTTP ${response.status}`);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new KeySetFormatError('response is not JSON');
    }
    const { keys } = parseKeySet(doc);
    return {
      keys,
      maxAgeMs: parseMaxAgeMs(response.headers.get('cache-control'), response.headers.get('age')),
    };
  }
}

/** A fixed key set held in memory (local mode, tests). */
export class StaticKeySetSource implements KeySetSource {
  constructor(
    readonly name: string,
    private readonly keys: ReadonlyMap<string, KeyObject>,
  ) {}

  async load(): Promise<LoadedKeySet> {
    return { keys: new Map(this.keys) };
  }
}
