// Runs every compiled test file with node's built-in runner, one file at a
// time (the lab tests build network namespaces and share the machine's two
// cores), prints the spec report, then one closing line "N passed, N failed".
// Usage: node dist/test/run-tests.js [substring filter ...] [--except substring ...]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const testRoot = dirname(fileURLToPath(import.meta.url));

function findTests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

// `--except S` leaves out the files whose path contains S (e.g. `--except -lab.test.` for the part without the lab).
const args = process.argv.slice(2);
const except = args.flatMap((a, i) => (args[i - 1] === '--except' ? [a] : []));
const filters = args.filter((a, i) => a !== '--except' && args[i - 1] !== '--except');
const files = findTests(testRoot)
  .filter((f) => filters.length === 0 || filters.some((s) => relative(testRoot, f).includes(s)))
  .filter((f) => !except.some((s) => relative(testRoot, f).includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files matched ${filters.join(' ') || '(all)'} under ${testRoot}; did the build run?`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'lbcheck-tests-'));
const tapFile = join(work, 'report.tap');
const child = spawn(
  process.execPath,
  [
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: 'inherit' },
);
// A file that hangs (its tests done but its event loop kept alive, or a wait
// that never ends) must fail the run with a message, not run into CI's limit.
const budgetMinutes = Number(process.env.LBCHECK_TEST_BUDGET_MINUTES ?? 40);
const watchdog = setTimeout(() => {
  console.error(
    `test run exceeded ${budgetMinutes} minutes (LBCHECK_TEST_BUDGET_MINUTES): stopping it; the last file above hung`,
  );
  child.kill('SIGKILL');
}, budgetMinutes * 60_000);
const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
clearTimeout(watchdog);
const tap = readFileSync(tapFile, 'utf8');
rmSync(work, { recursive: true, force: true });
const count = (key: string): number => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
const passed = count('pass');
const failed = count('fail') + count('cancelled');
if (passed + failed === 0) {
  console.error('no tests ran');
  process.exit(1);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(code === 0 && failed === 0 ? 0 : 1);
