// House rules the build enforces beyond lint: no import cycles anywhere
// (type-only imports included), and a model (src/model) that imports nothing
// but node built-ins, so report types and check ids cost no engine load.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import madge from 'madge';

// Compiled to dist/test/house: the sources are three levels up.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

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

  it('src/model imports only node built-ins and itself', () => {
    const dir = join(root, 'src', 'model');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const specs = [...readFileSync(join(dir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1] ?? '');
      for (const s of specs) assert.ok(s.startsWith('node:') || /^\.\/[\w-]+\.js$/.test(s), `${file} imports ${s}`);
    }
  });
});
