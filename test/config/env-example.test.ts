import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { loadConfig } from '../../src/config';

/** .env.example is what a deployment copies to .env: as it is, it must be a valid configuration (every value parses). */
describe('.env.example', () => {
  const example = parseDotenv(readFileSync(path.resolve(__dirname, '../../.env.example')));

  it('copied as it is, is a valid configured server', () => {
    expect(loadConfig(example).mode).toBe('configured');
  });

});
