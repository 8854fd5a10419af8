// House rules the build enforces beyond lint: no import cycles anywhere
// (type-only imports included), a model (src/model) that imports nothing
// but node built-ins, so report types and check ids cost no engine load, and
// folders that depend one way: LAYERS below, written once (docs/architecture.md
// says what goes where).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import madge from 'madge';

// Compiled to dist/test/house: the sources are three levels up.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * The layer order, lowest first. A file may import its own folder, folders in its own layer and folders in lower
 * layers; an import of a higher layer fails. A folder is its longest entry here (src/checklist/decide is not
 * src/checklist); src/errors and src/log are the files src/errors.ts and src/log.ts. A new folder must be placed
 * here before the test passes.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['src/model'], // data shapes, ids: imports nothing
  ['src/errors'],
  ['src/log'],
  ['src/runtime'], // settings, environment, Redis clients, argument parsing
  // SSH to the LBs and what runs over it (sudo, tcpdump, helpers that share the capture filter); packets (pcap,
  // the capture hubs); the client-side probes
  ['src/remote', 'src/capture', 'src/probe'],
  ['src/checklist'], // the observation types and the LB's own view: what observe hands to decide
  ['src/inventory', 'src/policy', 'src/target'], // configuration, who may check what, what a check aims at
  ['src/checklist/decide'], // pure rules, one file per step: observation in, steps and diagnosis out
  ['src/evidence'], // pcaps, ladders, PNGs assembled from decided steps
  ['src/checklist/observe'], // the I/O side and runCheck: observe, decide, attach evidence, step by step
  ['src/messages'], // platform-neutral texts and views of reports
  ['src/ops'], // metrics, readiness, the ops HTTP server
  ['src/audit'], // the signed audit log
  ['src/commands', 'src/watch', 'src/pipeline'], // the chat grammar, watches, queues, state, intake, posting
  ['src/alerts'], // alerts from monitoring that start checks through the intake (placed ahead of its merge)
  ['workers/probe', 'workers/bot'], // queue processors: the probe side (checks) and the bot side (posts, watches)
  ['src/cli'], // the lbcheck command line
  ['adapters'], // chat platforms, the lbcheck binary, the serve command
];

/**
 * Known upward imports, each with why it is still there and what removes it. Keep this list short: a new upward
 * import is a design question, not an entry here.
 */
const UPWARD_EXCEPTIONS: readonly string[] = [
  // The hubs take the whole CheckTarget type though they read only its vip, port and LB access; goes away when
  // CheckTarget moves to src/model (it needs StatusRange and LbViewSpec there first, see docs/architecture.md).
  'src/capture/capture-hubs.ts -> src/target/check-target.ts',
];

/** The LAYERS entry a file belongs to: its longest matching folder, or undefined when it is not placed. */
function unitOf(file: string): string | undefined {
  const units = LAYERS.flat().filter((u) => file === `${u}.ts` || file.startsWith(`${u}/`));
  return units.sort((a, b) => b.length - a.length)[0];
}
const layerOf = (unit: string): number => LAYERS.findIndex((l) => l.includes(unit));

/** Every import that goes up the layer order (or from or to a folder LAYERS does not place), as "a -> b (why)". */
function upwardImports(graph: Readonly<Record<string, readonly string[]>>): string[] {
  const out: string[] = [];
  for (const [file, deps] of Object.entries(graph)) {
    const from = unitOf(file);
    if (from === undefined) {
      out.push(`${file}: its folder is not in LAYERS`);
      continue;
    }
    for (const dep of deps) {
      const to = unitOf(dep);
      if (to === undefined) out.push(`${file} -> ${dep}: its folder is not in LAYERS`);
      else if (layerOf(to) > layerOf(from) && !UPWARD_EXCEPTIONS.includes(`${file} -> ${dep}`))
        out.push(`${file} -> ${dep} (${from} imports the higher ${to})`);
    }
  }
  return out;
}

async function importGraph(
  dirs: string[],
  base: string,
): Promise<ReturnType<Awaited<ReturnType<typeof madge>>['obj']>> {
  const graph = await madge(
    dirs.map((d) => join(base, d)),
    {
      baseDir: base,
      fileExtensions: ['ts'],
      tsConfig: join(root, 'tsconfig.json'),
      detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
    },
  );
  return graph.obj();
}

async function cycles(dirs: string[], base: string): Promise<string[][]> {
  const graph = await madge(
    dirs.map((d) => join(base, d)),
    {
      baseDir: base,
      fileExtensions: ['ts'],
      tsConfig: join(root, 'tsconfig.json'),
      detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
    },
  );
  return graph.circular();
}

describe('architecture', () => {
  it('the cycle check sees a cycle made of type-only imports (it can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbcheck-cycle-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js';\nexport interface A { b?: B }\n");
      writeFileSync(join(dir, 'b.ts'), "import type { A } from './a.js';\nexport interface B { a?: A }\n");
      assert.deepEqual(await cycles(['.'], dir), [['a.ts', 'b.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('src/, adapters/ and workers/ have no import cycles', async () => {
    assert.deepEqual(await cycles(['src', 'adapters', 'workers'], root), []);
  });

  it('the direction check sees an upward import and an unplaced folder (it can fail)', () => {
    assert.deepEqual(
      upwardImports({
        'src/model/a.ts': ['src/pipeline/b.ts'],
        'src/pipeline/b.ts': ['src/model/a.ts', 'src/newfolder/c.ts'],
        'src/checklist/decide/d.ts': ['src/checklist/observe/e.ts', 'src/checklist/f.ts'],
      }),
      [
        'src/model/a.ts -> src/pipeline/b.ts (src/model imports the higher src/pipeline)',
        'src/pipeline/b.ts -> src/newfolder/c.ts: its folder is not in LAYERS',
        'src/checklist/decide/d.ts -> src/checklist/observe/e.ts (src/checklist/decide imports the higher src/checklist/observe)',
      ],
    );
  });

  it('src/, adapters/ and workers/ import only down the layer order', async () => {
    assert.deepEqual(upwardImports(await importGraph(['src', 'adapters', 'workers'], root)), []);
  });

  it("workers' probe side and bot side do not import each other", async () => {
    const graph = await importGraph(['workers'], root);
    const crossing = Object.entries(graph).flatMap(([file, deps]) =>
      deps
        .filter((d) => d.startsWith('workers/') && d.split('/')[1] !== file.split('/')[1])
        .map((d) => `${file} -> ${d}`),
    );
    assert.deepEqual(crossing, []);
  });

  it('src/model imports only node built-ins and itself', () => {
    const dir = join(root, 'src', 'model');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const specs = [...readFileSync(join(dir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1] ?? '');
      for (const s of specs) assert.ok(s.startsWith('node:') || /^\.\/[\w-]+\.js$/.test(s), `${file} imports ${s}`);
    }
  });
});
