/**
 * `npm run push -- send --token <device token> --title T --body B [--data k=v]... [--dry-run]`:
 * one FCM HTTP v1 message with the bridge's own client, to check the FCM setup from a shell. A
 * thin wrapper: the command lives in src/cli/push.ts and is tested there.
 */
import { runPushCli } from '../src/cli/push';
import { runFromShell } from '../src/cli/io';

runFromShell('push', runPushCli);
