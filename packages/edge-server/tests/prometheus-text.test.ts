import { describe, expect, it } from 'vitest';
import { histogramSamples, prometheusText } from '../src/prometheus-text.js';

describe('prometheusText', () => {
  it('writes HELP, TYPE and one line per sample, a blank line after each family', () => {
    const text = prometheusText([
      { name: 'a_total', help: 'Things.', type: 'counter', samples: [{ value: 3 }] },
      { name: 'b', help: 'By kind.', type: 'gauge', samples: [{ labels: { kind: 'x' }, value: 1.5 }, { labels: { kind: 'y' }, value: 0 }] },
    ]);
    expect(text).toBe('# HELP a_total Things.\n# TYPE a_total counter\na_total 3\n\n# HELP b By kind.\n# TYPE b gauge\nb{kind="x"} 1.5\nb{kind="y"} 0\n\n');
  });

  it('escapes backslash, quote and newline in label values, and backslash and newline in help', () => {
    const text = prometheusText([{ name: 'c', help: 'one\\two\nthree', type: 'gauge', samples: [{ labels: { camera: 'a"b\\c\nd' }, value: 1 }] }]);
    expect(text).toContain('# HELP c one\\\\two\\nthree\n');
    expect(text).toContain('c{camera="a\\"b\\\\c\\nd"} 1\n');
  });

  it('makes cumulative buckets, +Inf, sum and count from per-bucket counts', () => {
    const text = prometheusText([{ name: 'h', help: 'H.', type: 'histogram', samples: histogramSamples({ p: 'x' }, [0.1, 1], [2, 0, 1], 2.25) }]);
    expect(text.split('\n').slice(2, 7)).toEqual([
      'h_bucket{le="0.1",p="x"} 2',
      'h_bucket{le="1",p="x"} 2',
      'h_bucket{le="+Inf",p="x"} 3',
      'h_sum{p="x"} 2.25',
      'h_count{p="x"} 3',
    ]);
  });
});
