// A config file's text to `key: value` entries with the line each key is on, so that a refusal
// can name the file, the line and the key. YAML here; the keys are not checked here.
import { createRequire } from 'node:module';

/** One top-level `key: value` of a config file. */
export interface ConfigFileEntry {
  key: string;
  value: unknown;
  /** 1-based. */
  line: number;
  /** With `nested`: the line of each key inside the value, by path (`front`, `front.fps`). */
  keyLines?: Map<string, number>;
}

/** The entries, or the first thing wrong with the text and its line. */
export type ConfigFileContent = { entries: ConfigFileEntry[] } | { line: number; problem: string };

/** Parses a YAML config file's text: a mapping of option keys to values, or nothing at all. The entries named in `nested` get keyLines. */
export function parseConfigFile(text: string, nested: readonly string[] = []): ConfigFileContent {
  try {
    return parseYaml(text, nested);
  } catch (err) {
    // What the parser throws (an alias bomb, nesting deep enough to overflow the stack) is about
    // the file as a whole, which has no one line to blame.
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      return { line: 1, problem: `the file expands YAML aliases (*name) more than ${MAX_ALIAS_COUNT} times: write the values out instead` };
    }
    return { line: 1, problem: `the file cannot be read as YAML (${(err as Error).message.split('\n')[0]!.slice(0, 120)}): check its structure` };
  }
}

// A config needs a handful of aliases at most; many more is a "billion laughs" that would expand
// into gigabytes.
const MAX_ALIAS_COUNT = 100;

function parseYaml(text: string, nested: readonly string[]): ConfigFileContent {
  const { LineCounter, isMap, isNode, isScalar, parseDocument } = yaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  const lineOf = (range: readonly number[] | null | undefined) => lines.linePos(range?.[0] ?? 0).line;
  if (error) return { line: lineOf(error.pos), problem: error.message };
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { entries: [] };
  if (!isMap(root)) return { line: lineOf(root.range), problem: 'expected `option: value` lines (a YAML mapping)' };
  const entries: ConfigFileEntry[] = [];
  for (const pair of root.items) {
    const key = pair.key;
    if (!isScalar(key) || typeof key.value !== 'string') {
      return { line: isNode(key) ? lineOf(key.range) : lineOf(root.range), problem: 'expected an option name as the key' };
    }
    // `token:` with nothing after it is null, as in JSON.
    const value: unknown = isNode(pair.value) ? pair.value.toJS(doc, { maxAliasCount: MAX_ALIAS_COUNT }) : null;
    const entry: ConfigFileEntry = { key: key.value, value, line: lineOf(key.range) };
    if (nested.includes(key.value)) entry.keyLines = keyLinesOf(pair.value, lineOf);
    entries.push(entry);
  }
  return { entries };
}

/** Loaded only with --config, so a server run by flags alone does not carry a YAML parser. */
function yaml(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml');
}

/** The line of every mapping key inside node, by its dotted path. */
function keyLinesOf(node: unknown, lineOf: (range: readonly number[] | null | undefined) => number, prefix = '', into = new Map<string, number>()): Map<string, number> {
  const { isMap, isNode, isScalar } = yaml();
  if (!isMap(node)) return into;
  for (const pair of node.items) {
    if (!isScalar(pair.key) || !isNode(pair.key)) continue;
    const path = `${prefix}${String(pair.key.value)}`;
    into.set(path, lineOf(pair.key.range));
    keyLinesOf(pair.value, lineOf, `${path}.`, into);
  }
  return into;
}
