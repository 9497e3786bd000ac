import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpKeySetSource } from '../../src/jwt/key-set-source';
import { GoogleApiError, ResponseTooLargeError } from '../../src/errors';
import { callGoogleJson } from '../../src/google/client';
import { readTextCapped } from '../../src/outbound/read-capped';

describe('response bodies are capped while they are read', () => {
  let url: string;
  let sentBytes = 0;
  let close: () => Promise<void>;

  beforeAll(async () => {
    // Streams up to 64 MiB, chunked, with no content-length: a reader that buffers everything would take it all.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let left = 1024;
      const pump = () => {
        while (left > 0) {
          left -= 1;
          sentBytes += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (left = 0));
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  });
  afterAll(() => close());
  beforeEach(() => {
    sentBytes = 0;
  });

  it('readTextCapped stops reading past the cap', async () => {
    await expect(readTextCapped(await fetch(url), 512 * 1024)).rejects.toBeInstanceOf(ResponseTooLargeError);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sentBytes).toBeLessThan(16 * 1024 * 1024);
  });

  it('readTextCapped refuses a declared content-length over the cap without reading', async () => {
    const response = new Response('x'.repeat(2000), { headers: { 'content-length': '2000' } });
    await expect(readTextCapped(response, 1000)).rejects.toThrow(/2000 bytes is over 1000/);
  });

  it('the key-set fetch and Google API calls refuse oversized answers', async () => {
    await expect(new HttpKeySetSource(url, { fetch: globalThis.fetch, timeoutMs: 5000 }).load()).rejects.toThrow(/over 524288 bytes/);
    await expect(callGoogleJson(globalThis.fetch, 'test call', url, {}, 5000)).rejects.toThrow(GoogleApiError);
    await expect(callGoogleJson(globalThis.fetch, 'test call', url, {}, 5000)).rejects.toThrow(/response too large/);
  });
});
