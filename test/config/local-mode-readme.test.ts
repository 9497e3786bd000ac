import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEPLOYMENT_ONLY_SETTINGS } from '../../src/config/local-mode';

/** README's Local mode walkthrough lists the settings that stop local mode: exactly DEPLOYMENT_ONLY_SETTINGS, once each. */
describe('README: the settings only a deployment has', () => {
  it('lists DEPLOYMENT_ONLY_SETTINGS exactly, each once, in order', () => {
    const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const start = readme.indexOf('(the list is `DEPLOYMENT_ONLY_SETTINGS` in `src/config/local-mode.ts`):');
    expect(start).toBeGreaterThan(0);
    const list = readme.slice(readme.indexOf(':', start), readme.indexOf(';', start));
    const listed = [...list.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]);
    expect(listed).toEqual([...DEPLOYMENT_ONLY_SETTINGS]);
  });
});
