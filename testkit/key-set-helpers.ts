import { type KeyObject, createSecretKey, randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { LoadedKeySet, KeySetSource } from '../src/jwt/key-set-source';

/** A promise whose settlement the test controls. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending microtask and I/O callback run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A stand-in key: the cache stores and returns KeyObjects without looking inside them. */
export function fakeKey(): KeyObject {
  return createSecretKey(randomBytes(16));
}

type Behaviour = LoadedKeySet | Error | Deferred<LoadedKeySet>;

/**
 * A KeySetSource whose every load() the test scripts: by default it answers `next` (a key set,
 * an error to reject with, or a deferred the test settles). Counts load() calls.
 */
export class ScriptedSource implements KeySetSource {
  readonly name = 'scripted-test-source';
  loads = 0;
  next: Behaviour;
  readonly pending: Array<Deferred<LoadedKeySet>> = [];

  constructor(initial: Behaviour) {
    this.next = initial;
  }

  async load(): Promise<LoadedKeySet> {
    this.loads += 1;
    const behaviour = this.next;
    if (behaviour instanceof Error) throw behaviour;
    if ('promise' in behaviour) {
      this.pending.push(behaviour);
      return behaviour.promise;
    }
    return { keys: new Map(behaviour.keys), maxAgeMs: behaviour.maxAgeMs };
  }
}

export function keySet(entries: Record<string, KeyObject>, maxAgeMs?: number): LoadedKeySet {
  return { keys: new Map(Object.entries(entries)), maxAgeMs };
}

/** Listens on loopback; returns the base URL and a closer. */
export async function listen(app: Express | Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(app as Parameters<typeof createServer>[1]);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function randomKid(): string {
  return randomBytes(12).toString('hex');
}
