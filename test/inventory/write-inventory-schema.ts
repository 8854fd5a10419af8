// Writes docs/inventory.schema.json from the inventory schema (`npm run schema`),
// formatted as the repository's prettier check wants it.
// test/inventory/inventory-schema.test.ts fails when the shipped file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { inventoryJsonSchema } from '../../src/inventory/inventory-schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../../../docs/inventory.schema.json', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = (await resolveConfig(SCHEMA_FILE)) ?? {};
  writeFileSync(SCHEMA_FILE, await format(JSON.stringify(inventoryJsonSchema()), { ...options, parser: 'json' }));
  console.log(`wrote ${SCHEMA_FILE}`);
}
