import { KeySetFetchError, ResponseTooLargeError } from '../errors';
import { type FetchFn, withoutRedirects } from '../outbound/fetch';
import { readTextCapped } from '../outbound/read-capped';

export interface ProbeAnswer {
  status: number;
  headers: Headers;
  body: string;
  /** When the request was sent and when its answer was complete (the injected clock). */
  sentAt: number;
  answeredAt: number;
}

/** Largest answer a probe reads. */
export const MAX_PROBE_BYTES = 256 * 1024;

/**
 * One GET with a hard deadline covering headers and body, no redirect followed, the body capped:
 * what the doctor's own requests (Google's Date header, a service account's x509 map) go through.
 * Throws a KeySetFetchError naming the origin and what went wrong (never a query string).
 */
export async function probe(fetchFn: FetchFn, url: string, timeoutMs: number, clock: () => number): Promise<ProbeAnswer> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const origin = new URL(url).origin;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new KeySetFetchError(`${origin}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const sentAt = clock();
  try {
    const request = (async () => {
      const response = await fetchFn(url, withoutRedirects({ signal: controller.signal, headers: { accept: 'application/json' } }));
      return { response, body: await readTextCapped(response, MAX_PROBE_BYTES) };
    })();
    request.catch(() => undefined); // lost the race: its late failure is of no interest
    const { response, body } = await Promise.race([request, deadline]);
    return { status: response.status, headers: response.headers, body, sentAt, answeredAt: clock() };
  } catch (err) {
    if (err instanceof KeySetFetchError) throw err;
    if (err instanceof ResponseTooLargeError) throw new KeySetFetchError(`${origin}: ${err.message}`);
    throw new KeySetFetchError(controller.signal.aborted ? `${origin}: timed out after ${timeoutMs} ms` : `${origin}: request failed (no answer, or a redirect)`);
  } finally {
    clearTimeout(timer);
  }
}
