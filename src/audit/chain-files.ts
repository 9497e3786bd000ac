import path from 'node:path';
import type { AuditFs } from './audit-fs';
import { rotatedIndexOf } from './chain';

/** The rotated files of a chain, oldest first (`<file>.1`, `<file>.2`, ...), with their index. */
export async function rotatedFiles(fs: AuditFs, file: string): Promise<Array<{ file: string; index: number }>> {
  const base = path.basename(file);
  const dir = path.dirname(file);
  return (await fs.readdir(dir))
    .map((name) => ({ name, index: rotatedIndexOf(base, name) }))
    .filter((entry): entry is { name: string; index: number } => entry.index !== undefined)
    .sort((a, b) => a.index - b.index)
    .map((entry) => ({ file: path.join(dir, entry.name), index: entry.index }));
}

/** Complete lines of a file's text (a last line without its newline is included: it is checked too). */
export function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}
