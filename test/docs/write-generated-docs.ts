// Writes the generated documentation (`npm run docs:generate`): docs/environment.md
// and .env.example from the settings schemas, docs/cli.md from the CLI's help. test/docs/generated-docs.test.ts
// fails while the files in the repository are stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCliDoc } from './cli-docs.js';
import { renderEnvExample, renderEnvironmentDoc } from './settings-docs.js';

const root = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

export const GENERATED: readonly { file: string; render: () => string | Promise<string> }[] = [
  { file: root('docs/environment.md'), render: renderEnvironmentDoc },
  { file: root('.env.example'), render: renderEnvExample },
  { file: root('docs/cli.md'), render: renderCliDoc },
];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const g of GENERATED) {
    writeFileSync(g.file, await g.render());
    console.log(`wrote ${g.file}`);
  }
}
