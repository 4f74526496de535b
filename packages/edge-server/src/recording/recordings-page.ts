// GET /recordings.html: per camera, a timeline of its segments (gaps show as gaps) to click or
// scrub, a player fed by replay.mjpg, and each segment to download or delete. The token, when
// the page was opened with one, sits in a meta tag, so the inline script (allowed by its hash)
// never changes.
import { createHash } from 'node:crypto';
import { escapeHtml } from '@edgecam/runtime';

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 1rem; background: #111; color: #ddd; }
a { color: #8cf; } button { margin-right: .4rem; }
.cam { margin-bottom: 2rem; }
.timeline { position: relative; height: 28px; background: #222; border: 1px solid #444; cursor: crosshair; }
.seg { position: absolute; top: 0; bottom: 0; background: #2a6; }
.seg.live { background: #c82; }
.seg.bad { background: #a33; }
.cursor { position: absolute; top: -3px; bottom: -3px; width: 2px; background: #fff; }
.controls { margin: .5rem 0; display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
.controls input[type=range] { flex: 1; min-width: 12rem; }
img { max-width: 100%; background: #000; display: block; min-height: 2rem; }
table { border-collapse: collapse; margin-top: .5rem; }
td, th { padding: .15rem .6rem; border-bottom: 1px solid #333; text-align: left; }
`;

const SCRIPT = `
(() => {
  const token = document.querySelector('meta[name="edgecam-token"]').content;
  const withToken = (url) => token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url;
  const root = document.getElementById('cams');
  const el = (tag, props, ...kids) => { const e = Object.assign(document.createElement(tag), props); e.append(...kids); return e; };
  const iso = (ms) => new Date(ms).toISOString().replace('T', ' ').replace(/\\.\\d+Z$/, 'Z');
  const mb = (n) => (n / 1e6).toFixed(1) + ' MB';
  async function load() {
    const r = await fetch(withToken('recordings'));
    if (!r.ok) { root.textContent = 'cannot list recordings: HTTP ' + r.status; return; }
    const { cameras, recordings } = await r.json();
    root.replaceChildren();
    if (cameras.length === 0) root.textContent = 'no camera records';
    for (const name of cameras) root.append(camera(name, recordings.filter((s) => s.camera === name)));
  }
  function camera(name, segs) {
    const box = el('section', { className: 'cam' }, el('h2', { textContent: name }));
    if (segs.length === 0) { box.append(el('p', { textContent: 'no recordings yet' })); return box; }
    const t0 = segs[0].startMs, t1 = Math.max(...segs.map((s) => s.endMs)), span = Math.max(1, t1 - t0);
    const line = el('div', { className: 'timeline', title: 'click to play from there' });
    for (const s of segs) {
      const left = (s.startMs - t0) / span * 100, width = Math.max(0.3, (s.endMs - s.startMs) / span * 100);
      const cls = 'seg' + (s.recording ? ' live' : '') + (s.problems.length ? ' bad' : '');
      line.append(el('div', { className: cls, title: s.file + ': ' + iso(s.startMs) + ' to ' + iso(s.endMs), style: 'left:' + left + '%;width:' + width + '%' }));
    }
    const cursor = el('div', { className: 'cursor', style: 'left:0' });
    line.append(cursor);
    const scrub = el('input', { type: 'range', min: String(t0), max: String(t1), step: '1000', value: String(t0) });
    const when = el('span', { textContent: iso(t0) });
    const speed = el('select', {}, ...[1, 2, 4, 8, 16].map((v) => el('option', { value: String(v), textContent: v + 'x' })));
    const img = el('img', { alt: 'replay of ' + name });
    const play = () => { img.src = withToken('cams/' + encodeURIComponent(name) + '/replay.mjpg?from=' + scrub.value + '&speed=' + speed.value); };
    const stop = () => { img.removeAttribute('src'); };
    const show = () => { when.textContent = iso(Number(scrub.value)); cursor.style.left = ((scrub.value - t0) / span * 100) + '%'; };
    scrub.addEventListener('input', show);
    scrub.addEventListener('change', play);
    line.addEventListener('click', (e) => { const r = line.getBoundingClientRect(); scrub.value = String(Math.round(t0 + (e.clientX - r.left) / r.width * span)); show(); play(); });
    const rows = segs.map((s) => {
      const del = el('button', { type: 'button', textContent: 'Delete', disabled: s.recording });
      del.addEventListener('click', async () => {
        if (!confirm('Delete ' + s.file + '?')) return;
        const headers = token ? { Authorization: 'Bearer ' + token } : {};
        const r = await fetch('recordings/' + encodeURIComponent(name) + '/' + encodeURIComponent(s.file), { method: 'DELETE', headers });
        if (!r.ok) alert('not deleted: HTTP ' + r.status); else load();
      });
      const dl = el('a', { href: withToken('recordings/' + encodeURIComponent(name) + '/' + encodeURIComponent(s.file)), textContent: 'Download' });
      const problems = s.problems.map((p) => p.code).join(', ') || (s.recording ? 'recording' : 'ok');
      return el('tr', {}, el('td', { textContent: iso(s.startMs) }), el('td', { textContent: iso(s.endMs) }), el('td', { textContent: String(s.frames) }),
        el('td', { textContent: mb(s.bytes) }), el('td', { textContent: problems }), el('td', {}, dl, ' ', del));
    });
    const head = el('tr', {}, ...['Start', 'End', 'Frames', 'Size', 'State', ''].map((h) => el('th', { textContent: h })));
    box.append(line, el('div', { className: 'controls' }, scrub, when, speed,
      el('button', { type: 'button', textContent: 'Play', onclick: play }), el('button', { type: 'button', textContent: 'Stop', onclick: stop })),
      img, el('table', {}, head, ...rows));
    return box;
  }
  load();
})();
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Exactly our inline style and script; images (the replay) and fetches from this server only. */
export const RECORDINGS_PAGE_CSP = [
  "default-src 'none'",
  "img-src 'self' data:",
  "connect-src 'self'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');


/** The page; with `token`, its requests and its link back to the live page carry it (it came as ?token=). */
export function renderRecordingsPage(token: string | null): string {
  const live = token ? `./?token=${encodeURIComponent(token)}` : './';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="edgecam-token" content="${escapeHtml(token ?? '')}">
<title>Recordings</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<h1>Recordings</h1>
<nav><a href="${escapeHtml(live)}">Live</a></nav>
<div id="cams">loading…</div>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
