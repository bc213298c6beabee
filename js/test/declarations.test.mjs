// The declarations (js/*.d.ts) against the conventions they state, read as source: what the package's
// type checks (js/packages) cannot see from one consumer's program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const ts = createRequire(import.meta.url)('typescript');

// Every call takes an option given as undefined for left out (js/index.d.ts, the conventions): each
// optional member of the types says so, for consumers under exactOptionalPropertyTypes.
test('every optional member of the types takes undefined', () => {
  const missing = [];
  for (const file of ['index.d.ts', 'browser.d.ts', 'worklet.d.ts', 'document-worker.d.ts']) {
    const path = new URL(`../${file}`, import.meta.url);
    const source = ts.createSourceFile(file, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (ts.isPropertySignature(node) && node.questionToken && node.type) {
        const kinds = ts.isUnionTypeNode(node.type) ? node.type.types.map((t) => t.kind) : [node.type.kind];
        const { UndefinedKeyword, UnknownKeyword, AnyKeyword } = ts.SyntaxKind;
        if (!kinds.some((kind) => [UndefinedKeyword, UnknownKeyword, AnyKeyword].includes(kind))) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
          missing.push(`${file}:${line + 1} ${node.name.getText(source)}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  assert.deepEqual(missing, []);
});
