/**
 * `npm run doctor [-- --json]`: checks the configuration the server would read and prints one line per
 * check (✓ / ⚠ / ✗) with what to do; exit 0 / 1 (warnings) / 2 (errors). A thin wrapper: the command lives
 * in src/cli/doctor.ts and the checks in src/doctor/, tested there.
 */
import { runDoctorCli } from '../src/cli/doctor';
import { runFromShell } from '../src/cli/io';

runFromShell('doctor', runDoctorCli);
