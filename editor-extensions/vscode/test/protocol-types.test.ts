import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

test('src/protocol.generated.ts matches schemas/lsp (run `npm run gen:types` after changing the Rust types)', async () => {
  const root = path.resolve(__dirname, '../..');
  const gen = (await import(path.join(root, 'scripts/gen-types.mjs'))) as {
    generate(): Promise<string>;
    OUTPUT: string;
  };
  const committed = fs.readFileSync(gen.OUTPUT, 'utf8');
  assert.ok(committed === (await gen.generate()), 'src/protocol.generated.ts is stale: run `npm run gen:types`');
});
