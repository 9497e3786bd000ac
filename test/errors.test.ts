import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as errors from '../src/errors';
import { ERROR_CODES, FirebridgeError } from '../src/errors';

const ROOT = path.resolve(__dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

describe('one error module', () => {
  it("README's table lists every code of ERROR_CODES, once, and nothing else", () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `(ERR_[A-Z_]+)` \| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
    expect([...rows].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('every exported error class extends FirebridgeError, and its code is one of ERROR_CODES', () => {
    const classes = Object.entries(errors).filter(
      ([name, value]) => typeof value === 'function' && name.endsWith('Error') && value !== FirebridgeError,
    );
    expect(classes.length).toBeGreaterThanOrEqual(18);
    for (const [name, Class] of classes) {
      expect([name, (Class as { prototype: unknown }).prototype instanceof FirebridgeError]).toEqual([name, true]);
    }
    expect(new errors.GoogleApiError('x').code).toBe('ERR_GOOGLE_API');
    expect(ERROR_CODES).toContain(new errors.ConfigError('S', 'm').code);
  });

  it('no error class is defined outside src/errors.ts, and no code is compared as a bare string', () => {
    const elsewhere: string[] = [];
    for (const file of sourceFiles(path.join(ROOT, 'src'))) {
      const text = readFileSync(file, 'utf8');
      const rel = path.relative(ROOT, file);
      if (rel !== path.join('src', 'errors.ts') && /class \w+ extends (?:\w*Error)\b/.test(text)) elsewhere.push(`${rel}: defines an error class`);
      if (/\.code\s*[!=]==?\s*['"]ERR_/.test(text)) elsewhere.push(`${rel}: compares a code as a string`);
    }
    expect(elsewhere).toEqual([]);
  });
});
