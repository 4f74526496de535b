// The Prometheus text exposition format (version 0.0.4), for the server's own series: pure, so
// the figures can be kept as plain numbers and formatted only when /metrics is read.

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** One sample line: the family's name plus `suffix` (`_bucket`, `_sum`, `_count`), its labels and value. */
export interface Sample {
  readonly suffix?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family: its HELP and TYPE lines and its samples. */
export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly samples: Iterable<Sample>;
}

// Label values escape backslash, double quote and newline; HELP text escapes backslash and newline.
const labelValue = (v: string) => v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
const helpText = (v: string) => v.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));

function number(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function sampleLine(name: string, s: Sample): string {
  const labels = s.labels ? Object.entries(s.labels) : [];
  const set = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${labelValue(v)}"`).join(',')}}`;
  return `${name}${s.suffix ?? ''}${set} ${number(s.value)}`;
}

/** The families as exposition text, a blank line after each (as prom-client writes them). */
export function prometheusText(families: Iterable<Family>): string {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${helpText(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) out += `${sampleLine(f.name, s)}\n`;
    out += '\n';
  }
  return out;
}

/** A histogram's samples from per-bucket (not cumulative) counts: `_bucket` per bound and +Inf, `_sum`, `_count`. */
export function* histogramSamples(labels: Readonly<Record<string, string>>, bounds: readonly number[], counts: ArrayLike<number>, sum: number): Generator<Sample> {
  let cumulative = 0;
  for (let i = 0; i < bounds.length; i++) {
    cumulative += counts[i] ?? 0;
    yield { suffix: '_bucket', labels: { le: number(bounds[i]!), ...labels }, value: cumulative };
  }
  cumulative += counts[bounds.length] ?? 0;
  yield { suffix: '_bucket', labels: { le: '+Inf', ...labels }, value: cumulative };
  yield { suffix: '_sum', labels, value: sum };
  yield { suffix: '_count', labels, value: cumulative };
}
