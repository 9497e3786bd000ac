import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const GUIDE = 'docs/clients/web.md';

/** Each `<!-- checked: <file> -->` marker of the guide with the ```ts block right after it. */
function checkedBlocks(markdown: string): Array<{ file: string; code: string }> {
  const blocks: Array<{ file: string; code: string }> = [];
  const marker = /<!-- checked: (\S+) -->\n```ts\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(marker)) blocks.push({ file: match[1] as string, code: match[2] as string });
  return blocks;
}

/** The method names of BridgeClient, read from its source (importing it would start the Firebase SDK). */
function bridgeClientMethods(source: string): Set<string> {
  const body = source.slice(source.indexOf('export class BridgeClient'));
  return new Set([...body.matchAll(/^ {2}(?:async )?(\w+)\(/gm)].map((m) => m[1] as string));
}

describe("the web guide's code is the playground's code (docs/clients/web.md)", () => {
  const guide = readFileSync(path.join(ROOT, GUIDE), 'utf8');

  it('shows bridge-client.ts and test-google.ts, each exactly as the playground runs it', () => {
    const blocks = checkedBlocks(guide);
    expect(blocks.map((b) => b.file)).toEqual(['src/local/playground/bridge-client.ts', 'src/local/playground/test-google.ts']);
    // Every marker is followed by its block: a marker with nothing after it would check nothing.
    expect(guide.split('<!-- checked: ').length - 1).toBe(blocks.length);
    for (const { file, code } of blocks) {
      expect({ file, code }).toEqual({ file, code: readFileSync(path.join(ROOT, file), 'utf8') });
    }
  });

  it('the playground page runs that code: main.ts uses BridgeClient and testGoogleIdToken', () => {
    const main = readFileSync(path.join(ROOT, 'src/local/playground/main.ts'), 'utf8');
    expect(main).toMatch(/from '\.\/bridge-client'/);
    expect(main).toMatch(/from '\.\/test-google'/);
    expect(main).toMatch(/new BridgeClient\(/);
  });

  it("the guide's other snippets call only methods BridgeClient has", () => {
    const methods = bridgeClientMethods(readFileSync(path.join(ROOT, 'src/local/playground/bridge-client.ts'), 'utf8'));
    expect([...methods]).toEqual(expect.arrayContaining(['nonce', 'exchange', 'signIn', 'me', 'refresh', 'signOut', 'fetchWithAuth']));
    const called = [...guide.matchAll(/\bbridge\.(\w+)\(/g)].map((m) => m[1] as string);
    expect(called.length).toBeGreaterThan(3);
    expect(called.filter((name) => !methods.has(name))).toEqual([]);
  });
});
