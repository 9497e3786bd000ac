/**
 * `npm run vault -- list | unlink <uid>`: the refresh-token vault's admin commands. A thin wrapper:
 * the commands live in src/cli/vault.ts and are tested there.
 */
import { runVaultCli } from '../src/cli/vault';
import { runFromShell } from '../src/cli/io';

runFromShell('vault', runVaultCli);
