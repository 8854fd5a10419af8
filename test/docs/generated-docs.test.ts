// The generated documentation is current, and it documents every environment
// variable the code reads: a variable added to a schema without help text, or
// read from process.env outside the schemas, fails here.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { READ_ELSEWHERE, SETTING_HELP, SETTINGS_GROUPS } from '../../src/runtime/settings-help.js';
import { documentedVariables } from './settings-docs.js';
import { GENERATED } from './write-generated-docs.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(repo, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every NAME the product code reads as env.NAME, env['NAME'] or process.env.NAME. */
function variablesReadByCode(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of ['src', 'adapters', 'workers'].flatMap(sources)) {
    const text = readFileSync(join(repo, file), 'utf8');
    for (const m of text.matchAll(
      /(?:process\.|(?<![\w.-]))env(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[['"]([A-Za-z_][A-Za-z0-9_]*)['"]\])/g,
    ))
      found.set(m[1] ?? m[2] ?? '', file);
  }
  return found;
}

describe('generated documentation', () => {
  for (const g of GENERATED)
    it(`${g.file.slice(repo.length)} is current (npm run docs:generate rewrites it)`, async () => {
      assert.equal(readFileSync(g.file, 'utf8'), await g.render());
    });

  it('every variable of the settings schemas has help text, and no help text is left over', () => {
    const inSchemas = SETTINGS_GROUPS.flatMap((g) => Object.keys(g.schema.shape));
    const explained = [...inSchemas, ...Object.keys(READ_ELSEWHERE)];
    assert.deepEqual(
      explained.filter((name) => !SETTING_HELP[name]?.trim()),
      [],
      'add a sentence to SETTING_HELP in src/runtime/settings-help.ts',
    );
    assert.deepEqual(
      Object.keys(SETTING_HELP).filter((name) => !explained.includes(name)),
      [],
    );
    assert.deepEqual([...documentedVariables()].sort(), [...explained].sort());
  });

  it('every environment variable the code reads is in a schema or listed as read elsewhere', () => {
    const documented = new Set(documentedVariables());
    const missing = [...variablesReadByCode()].filter(([name]) => !documented.has(name));
    assert.deepEqual(
      missing.map(([name, file]) => `${name} (${file})`),
      [],
      'declare it in src/runtime/settings.ts, or in READ_ELSEWHERE in src/runtime/settings-help.ts',
    );
  });
});
