// docs/config.md is generated from configSchema; this keeps the committed file in step with it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOC_PATH, renderConfigDoc } from '../scripts/config-doc.js';
import { configSchema } from '../src/peer/config.js';

describe('docs/config.md', () => {
  const text = renderConfigDoc();

  it('matches what the schema generates (run `npm run docs:config` after changing configSchema)', () => {
    expect(readFileSync(CONFIG_DOC_PATH, 'utf8')).toBe(text);
  });

  it('has a row for every top-level key of the schema, in schema order', () => {
    const top = text.slice(text.indexOf('## Top level'), text.indexOf('<a id='));
    const rows = [...top.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual(Object.keys(configSchema.shape));
  });

  it('shows every variant of a union and its default', () => {
    expect(text).toContain('### `data.partition` with `kind: dirichlet`');
    expect(text).toMatch(/^\| `alpha` \| number > 0 \| \*\*required\*\* \| concentration: /m);
    expect(text).toMatch(/^\| `rounds` \| integer ≥ 1 \| `30` \|/m);
  });
});
