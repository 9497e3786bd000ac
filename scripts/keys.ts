/**
 * `npm run keys -- <command>`: key management for KEYS_DIR. A thin wrapper: the commands live in
 * src/keys/admin-commands.ts and src/cli/keys.ts and are tested there.
 */
import { runKeysCli } from '../src/cli/keys';
import { runFromShell } from '../src/cli/io';

runFromShell('keys', runKeysCli);
