// `run.mjs --merge FILE` splices a partial run into BENCHMARKS.md: its rows and sections replace
// the full run's, each says how it was run, and a partial run made with --repeat brings its own
// Reproduction table along.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the benchmarks, without types
import { mergeMarkdown } from '../bench/support/merge.mjs';

const merge = mergeMarkdown as (existing: string, partial: string) => string;

const FULL = `# Benchmarks

Machine: X, 2 cores. Date: 2026-12-01T00:00:00.000Z.
Load average at the start: 0.1, 0.1, 0.1.

| benchmark | ratio |
| --- | --- |
| [Alpha](#alpha) | 1.00 |
| [Beta](#beta) | 2.00 |

## Alpha

\`node tools/bench/alpha.mjs\`

old alpha table

## Beta

\`node tools/bench/beta.mjs\`

old beta table

## Reproduction

2 full runs of the same selection, one after another.

| benchmark | run 1 | run 2 | reproduces |
| --- | --- | --- | --- |
| Alpha | 1 | 1 | yes |

## One-off analyses

notes
`;

const PARTIAL = `# Benchmarks

Machine: Y, 2 cores. Date: 2026-12-08T03:00:00.000Z.
Load average at the start: 0.2, 0.3, 0.4; at the end: 1.0, 1.1, 1.2. 2 full runs took 10 s.

| benchmark | ratio |
| --- | --- |
| [Beta](#beta) | 3.00 |
| [Gamma](#gamma) | 4.00 |

## Beta

\`node tools/bench/beta.mjs\`

new beta table

## Gamma

\`node tools/bench/gamma.mjs\`

gamma table

## Reproduction

2 full runs of the same selection, one after another.

| benchmark | run 1 | run 2 | reproduces |
| --- | --- | --- | --- |
| Beta | 3 | 3 | yes |
| Gamma | 4 | 4 | yes |

## One-off analyses

notes that mention \`node tools/bench/delta.mjs\`
`;

describe('merging a partial benchmark run into BENCHMARKS.md', () => {
  const merged = merge(FULL, PARTIAL);

  it('replaces the rows and sections it ran, adds the new ones, and keeps the rest', () => {
    expect(merged).toContain('| [Alpha](#alpha) | 1.00 |');
    expect(merged).toContain('| [Beta](#beta) | 3.00 |');
    expect(merged).toContain('| [Gamma](#gamma) | 4.00 |');
    expect(merged).not.toContain('old beta table');
    expect(merged).toContain('old alpha table');
    expect(merged).toContain('new beta table');
    // A new section goes before the reproduction and the analyses.
    expect(merged.indexOf('## Gamma')).toBeLessThan(merged.indexOf('## Reproduction'));
  });

  it('says how each merged section was run: its selection, --repeat, where and when', () => {
    const line = merged.split('\n').find((l) => l.startsWith('Run in a partial run') && merged.indexOf(l) > merged.indexOf('## Beta'));
    expect(line).toContain('`node tools/bench/run.mjs --only beta,gamma --repeat 2 --out FILE`');
    expect(line).toContain('on Y, 2 cores, at 2026-12-08T03:00:00.000Z (the last of its 2 runs');
    expect(line).toContain('at its start 0.2, 0.3, 0.4, at its end 1.0, 1.1, 1.2');
  });

  it("adds the partial run's reproduction table under the full run's, once", () => {
    const section = merged.slice(merged.indexOf('## Reproduction'), merged.indexOf('## One-off analyses'));
    expect(section).toContain('| Alpha | 1 | 1 | yes |');
    expect(section).toContain('### `--only beta,gamma`');
    expect(section).toContain('| Gamma | 4 | 4 | yes |');
    // Merging the same partial run again replaces its subsection instead of adding a second one.
    const twice = merge(merged, PARTIAL);
    expect(twice.split('### `--only beta,gamma`').length).toBe(2);
    expect(twice).toBe(merged);
  });
});
