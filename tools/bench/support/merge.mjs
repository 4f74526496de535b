// Splices the benchmarks of a partial run (`run.mjs --only ID --out FILE`) into BENCHMARKS.md,
// so one long benchmark can be run alone and its figures added without re-running the suite:
// its summary row and its section replace theirs (or are added), everything else stays, and the
// section says that it was run apart, how, when, and at what load, since the header is the full
// run's; a partial run made with --repeat adds its Reproduction table under the full run's.
import { readFileSync, writeFileSync } from 'node:fs';

/** The parts of a markdown written by run.mjs: machine line, load line, summary rows, sections by title. */
function parse(text) {
  const lines = text.split('\n');
  const machine = lines.find((l) => l.startsWith('Machine: ')) ?? '';
  const load = lines.find((l) => l.startsWith('Load average at the start: ')) ?? '';
  const rows = lines.filter((l) => l.startsWith('| ['));
  const sections = new Map();
  let title;
  let body = [];
  const flush = () => {
    if (title !== undefined) sections.set(title, body.join('\n').trimEnd());
  };
  for (const l of lines) {
    if (l.startsWith('## ')) {
      flush();
      title = l.slice(3);
      body = [l];
    } else if (title !== undefined) body.push(l);
  }
  flush();
  return { machine, load, rows, sections };
}

/** Sections of a partial run that are benchmarks (not the appended analyses or the reproduction). */
const NOT_BENCHMARKS = new Set(['One-off analyses', 'Reproduction']);

/** `existing` (BENCHMARKS.md) with `partial`'s benchmarks spliced in. */
export function mergeMarkdown(existing, partial) {
  const p = parse(partial);
  const date = /Date: ([^ ]+?)\.?$/.exec(p.machine)?.[1] ?? 'an unknown date';
  // "A, B, C; at the end: D, E, F. The whole run took…": start and, when written, end.
  const [atStart, atEnd] = p.load.replace('Load average at the start: ', '').replace(/\.\s.*$/, '').split('; at the end: ');
  let lines = existing.split('\n');
  // How the partial run was made: its benchmarks' ids, and --repeat when it compared its runs.
  const ids = [...p.sections].flatMap(([title, section]) => (NOT_BENCHMARKS.has(title) ? [] : (/`node tools\/bench\/([\w-]+)\.mjs`/.exec(section)?.[1] ?? [])));
  const repeats = /^(\d+) full runs of the same selection/m.exec(p.sections.get('Reproduction') ?? '')?.[1];
  const command = `node tools/bench/run.mjs --only ${ids.join(',') || '…'}${repeats ? ` --repeat ${repeats}` : ''} --out FILE`;
  for (const [title, section] of p.sections) {
    if (NOT_BENCHMARKS.has(title)) continue;
    // The summary row: replaced in place, or added after the table's last row.
    const row = p.rows.find((r) => r.startsWith(`| [${title}](`));
    if (row) {
      const at = lines.findIndex((l) => l.startsWith(`| [${title}](`));
      if (at >= 0) lines[at] = row;
      else {
        const first = lines.findIndex((l) => l.startsWith('| ['));
        let last = first;
        while (last >= 0 && lines[last + 1]?.startsWith('| [')) last++;
        lines.splice(last + 1, 0, row);
      }
    }
    const marked = [
      ...section.split('\n').slice(0, 4),
      `Run in a partial run, not in the full run the header describes: \`${command}\`, spliced in with \`--merge FILE\`, on ${p.machine.replace('Machine: ', '').replace(/\. Date: .*$/, '')}, at ${date}${repeats ? ` (the last of its ${repeats} runs; [Reproduction](#reproduction) compares them)` : ''}; load average (1, 5, 15 min) at its start ${atStart}${atEnd ? `, at its end ${atEnd}` : ''}.`,
      '',
      ...section.split('\n').slice(4),
    ].join('\n');
    // The section: replaced where it is, or added before the reproduction and the analyses.
    const start = lines.findIndex((l) => l === `## ${title}`);
    if (start >= 0) {
      let end = start + 1;
      while (end < lines.length && !lines[end].startsWith('## ')) end++;
      lines.splice(start, end - start, ...marked.split('\n'), '');
    } else {
      let before = lines.findIndex((l) => l === '## Reproduction' || l === '## One-off analyses');
      if (before < 0) before = lines.length;
      lines.splice(before, 0, ...marked.split('\n'), '');
    }
  }
  // A partial run's own reproduction: a subsection of the Reproduction section, replacing one for
  // the same selection, so a partial run's figures say whether they reproduced too.
  const reproduction = p.sections.get('Reproduction');
  if (reproduction && repeats) {
    const heading = `### \`--only ${ids.join(',')}\``;
    const body = [heading, '', `Partial run of ${date}.`, '', ...reproduction.split('\n').slice(2)];
    const old = lines.indexOf(heading);
    if (old >= 0) {
      let end = old + 1;
      while (end < lines.length && !lines[end].startsWith('## ') && !lines[end].startsWith('### ')) end++;
      lines.splice(old, end - old, ...body, '');
    } else {
      let at = lines.indexOf('## Reproduction');
      if (at < 0) {
        at = lines.indexOf('## One-off analyses');
        if (at < 0) at = lines.length;
        lines.splice(at, 0, '## Reproduction', '');
        at += 2;
      } else {
        at++;
        while (at < lines.length && !lines[at].startsWith('## ')) at++;
      }
      lines.splice(at, 0, ...body, '');
    }
  }
  return lines.join('\n');
}

/** Reads `partialFile`, merges it into `outFile` and writes that. */
export function mergeInto(outFile, partialFile) {
  writeFileSync(outFile, mergeMarkdown(readFileSync(outFile, 'utf8'), readFileSync(partialFile, 'utf8')));
}
