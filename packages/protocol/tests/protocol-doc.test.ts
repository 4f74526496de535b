import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hex } from './fixtures/bytes.js';
import { commandFixtures } from './fixtures/v1-commands.js';
import { frameFixtures } from './fixtures/v1-frames.js';
import { clientMessageFixtures, serverMessageFixtures } from './fixtures/v2-messages.js';

// PROTOCOL.md marks each example with <!-- fixture: KIND "NAME" --> above a code block whose
// lines are `hex bytes ; meaning`. Every example must be byte for byte its fixture.
const doc = readFileSync(new URL('../PROTOCOL.md', import.meta.url), 'utf8');
const EXAMPLE = /<!-- fixture: ([\w-]+) "([^"]+)" -->\s*```text\n([\s\S]*?)```/g;

const fixtures: Record<string, { name: string; bytes: number[] }[]> = {
  'v1-frame': frameFixtures,
  'v1-commands': commandFixtures,
  'v2-client': clientMessageFixtures,
  'v2-server': serverMessageFixtures,
};

const examples = [...doc.matchAll(EXAMPLE)].map(([, kind, name, body]) => ({
  kind: kind!,
  name: name!,
  hex: body!
    .split('\n')
    .map((line) => line.split(';')[0]!.trim())
    .join(' ')
    .split(/\s+/)
    .filter(Boolean)
    .join(''),
}));

describe('PROTOCOL.md', () => {
  it('has examples for both protocols and both v2 directions', () => {
    expect(new Set(examples.map((e) => e.kind))).toEqual(new Set(Object.keys(fixtures)));
  });

  it.each(examples)('shows $kind "$name" exactly as its fixture', ({ kind, name, hex: shown }) => {
    const fixture = fixtures[kind]?.find((f) => f.name === name);
    expect(fixture, `no ${kind} fixture named ${name}`).toBeDefined();
    expect(shown).toBe(hex(fixture!.bytes));
  });

  it('states the default limits the code uses', async () => {
    const { DEFAULT_MAX_CONTROL_BYTES, DEFAULT_MAX_FRAME_BYTES, DEFAULT_PORT } = await import('../src/index.js');
    expect(doc).toContain(`default **${DEFAULT_PORT}**`);
    expect(doc).toContain(`16 MiB (${DEFAULT_MAX_FRAME_BYTES.toLocaleString('en').replace(/,/g, ' ')})`);
    expect(doc).toContain(`| maxControlBytes | ${DEFAULT_MAX_CONTROL_BYTES} |`);
  });

  it('lists every error code of the ProtocolErrorCode type', () => {
    const source = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8');
    const codes = [...source.matchAll(/\| '([A-Z_]+)'/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(10);
    for (const code of codes) expect(doc, code).toContain(`| \`${code}\` |`);
  });
});
