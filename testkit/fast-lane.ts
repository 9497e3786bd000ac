import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, fastRoutes } from '../src/http/app';
import { createHttpServer } from '../src/http/http-server';
import { withFastLane } from '../src/http/fast-lane';
import { FakeGoogle } from './fake-google';
import { type TestBridge, bridgeFor } from './harness';
import { type BridgeFetch, bridgeFetch } from './openapi-fetch';

/** Headers that differ between any two answers whatever answered them. */
export const PER_ANSWER = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);

export interface LaneAnswer {
  status: number;
  /** Every header but the per-answer ones (PER_ANSWER). */
  headers: Record<string, string>;
  body: string;
}

export interface TwoLanes {
  /** The server's listener: the fast lane in front of the app, as src/compose/server.ts serves it. */
  fastUrl: string;
  /** The express app alone, on the same dependencies (store, caches, audit): what the fast lane must match. */
  appUrl: string;
  /** Requests the fast routes took, and requests that reached the app, on the fast lane's server. */
  taken: { fast: number; app: number };
  fetch: BridgeFetch;
  send(which: 'fast' | 'app', path: string, init?: RequestInit): Promise<LaneAnswer>;
  /** The same request to both, the fast lane's first. */
  both(path: string, init?: RequestInit | (() => RequestInit)): Promise<{ fast: LaneAnswer; app: LaneAnswer }>;
  close(): Promise<void>;
}

async function listen(listener: RequestListener, bridge: TestBridge): Promise<{ server: Server; url: string }> {
  const server = createHttpServer(listener, bridge.config.http).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export function headersOf(res: Response): Record<string, string> {
  const all: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!PER_ANSWER.has(name)) all[name] = value;
  });
  return all;
}

/**
 * Two servers on one bridge's dependencies: its fast lane in front of its app (counted), and its app alone. A test
 * sends the same request to both and compares the answers (responses are checked against /openapi.json).
 */
export async function twoLanes(bridge: TestBridge): Promise<TwoLanes> {
  const app = createApp(bridge.config, bridge.deps);
  const taken = { fast: 0, app: 0 };
  const counted = withFastLane(
    (req, res) => {
      taken.app += 1;
      app(req, res);
    },
    fastRoutes(bridge.config, bridge.deps).map((route) => (req: Parameters<typeof route>[0], res: Parameters<typeof route>[1]) => {
      const took = route(req, res);
      if (took) taken.fast += 1;
      return took;
    }),
  );
  const fast = await listen(counted, bridge);
  const plain = await listen(createApp(bridge.config, bridge.deps), bridge);
  const fetch = bridgeFetch();
  fetch.bridge(fast.url);
  fetch.bridge(plain.url);
  const send = async (which: 'fast' | 'app', path: string, init: RequestInit = {}): Promise<LaneAnswer> => {
    const res = await fetch(`${which === 'fast' ? fast.url : plain.url}${path}`, init);
    return { status: res.status, headers: headersOf(res), body: await res.text() };
  };
  return {
    fastUrl: fast.url,
    appUrl: plain.url,
    taken,
    fetch,
    send,
    async both(path, init = {}) {
      const initOf = typeof init === 'function' ? init : () => init;
      const fastAnswer = await send('fast', path, initOf());
      const appAnswer = await send('app', path, initOf());
      return { fast: fastAnswer, app: appAnswer };
    },
    async close() {
      await Promise.all([fast.server, plain.server].map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}

export interface LaneFixture {
  fake: FakeGoogle;
  bridge: TestBridge;
  lanes: TwoLanes;
}

/**
 * For a describe block: a fake Google, a bridge on it (with `env`) and its two lanes, started before the block's
 * tests and closed after them; the lanes' counts start from zero in each test.
 */
export function useTwoLanes(env: Record<string, string> = {}): LaneFixture {
  const fixture = {} as LaneFixture;
  beforeAll(async () => {
    fixture.fake = await FakeGoogle.start();
    fixture.bridge = bridgeFor(fixture.fake, { env });
    fixture.lanes = await twoLanes(fixture.bridge);
  });
  afterAll(async () => {
    await fixture.lanes?.close();
    await fixture.fake?.close();
  });
  beforeEach(() => {
    fixture.lanes.taken.fast = 0;
    fixture.lanes.taken.app = 0;
  });
  return fixture;
}
