import fs from 'node:fs';
import path from 'node:path';

let root: string | undefined;

/**
 * The repository (package) root: the nearest folder above this file holding package.json.
 * Code runs both from src/ (vitest) and dist/src/ (built), so relative paths would differ.
 */
export function repoRoot(): string {
  if (root) return root;
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`package.json not found above ${__dirname}`);
    dir = up;
  }
  return (root = dir);
}

export function packageVersion(): string {
  return JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')).version;
}
