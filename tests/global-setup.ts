/**
 * Builds dist/ once before the tests: the CLI, quick-start and shutdown tests run the
 * compiled `companion` binary in child processes, exactly as users do, so they must test
 * this checkout's code and not a stale build.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: path.join(__dirname, '..'), stdio: 'inherit' });
}
