// GET /recordings.html: per camera, a timeline of its segments (gaps show as gaps, time labels
// under it, the camera's recent motion events as marks with their snapshot on hover) to click or
// scrub; a player, fed by replay.mjpg for an AVI camera (showing the first frame before Play, and
// moving the slider with the frame on screen) or a <video> of recording.mp4 for an MP4 camera;
// and each segment to download or delete. The token, when
// the page was opened with one, sits in a meta tag, so the inline script (allowed by its hash)
// never changes.
import { createHash } from 'node:crypto';
import { escapeHtml } from '@edgecam/runtime';
import { MP4_PLAYER_SCRIPT } from './recordings-video.js';

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 1rem; background: #111; color: #ddd; }
a { color: #8cf; } button { margin-right: .4rem; }
.cam { margin-bottom: 2rem; }
.timeline { position: relative; height: 28px; background: #222; border: 1px solid #444; cursor: crosshair; }
.seg { position: absolute; top: 0; bottom: 0; background: #2a6; }
.seg.live { background: #c82; }
.seg.bad { background: #a33; }
.cursor { position: absolute; top: -3px; bottom: -3px; width: 2px; background: #fff; }
.motion { position: absolute; bottom: 0; height: 8px; min-width: 2px; background: #fc3; opacity: .85; pointer-events: none; }
.mark { position: absolute; top: 0; height: 9px; min-width: 3px; background: #e43; opacity: .9; cursor: pointer; }
.axis { position: relative; height: 1.2em; font-size: 11px; color: #999; margin-bottom: .3rem; }
.tick { position: absolute; white-space: nowrap; }
#peek { position: absolute; width: 160px; border: 1px solid #888; pointer-events: none; z-index: 2; }
video.player { max-width: 100%; background: #000; display: block; }
.controls { margin: .5rem 0; display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
.controls input[type=range] { flex: 1; min-width: 12rem; }
.note { color: #fc5; }
img { max-width: 100%; background: #000; display: block; }
table { border-collapse: collapse; margin-top: .5rem; }
td, th { padding: .15rem .6rem; border-bottom: 1px solid #333; text-align: left; }
`;

const SCRIPT = `
(() => {
  'use strict';
  const token = document.querySelector('meta[name="edgecam-token"]').content;
  const withToken = (url) => token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url;
  const root = document.getElementById('cams');
  const el = (tag, props, ...kids) => { const e = Object.assign(document.createElement(tag), props); e.append(...kids); return e; };
  const iso = (ms) => new Date(ms).toISOString().replace('T', ' ').replace(/\\.\\d+Z$/, 'Z');
  const mb = (n) => (n / 1e6).toFixed(1) + ' MB';

  // The replay read here rather than by an <img>, which would show the frames but not say which
  // one it shows: length-prefixed parts, each with its frame's time (X-Timestamp, Unix seconds).
  const MAX_HEAD = 4096;
  const MAX_PART = 16 * 1024 * 1024;
  const HEAD_END = [13, 10, 13, 10];
  async function* frames(res) {
    const reader = res.body.getReader();
    let buf = new Uint8Array(256 * 1024);
    let start = 0;
    let end = 0;
    const more = async () => {
      const { done, value } = await reader.read();
      if (done) return false;
      const live = end - start;
      if (end + value.length > buf.length) {
        // Leftover bytes move to the front, into a larger buffer when they must.
        const next = live + value.length > buf.length ? new Uint8Array(Math.max(buf.length * 2, live + value.length)) : buf;
        next.set(buf.subarray(start, end));
        buf = next;
        start = 0;
        end = live;
      }
      buf.set(value, end);
      end += value.length;
      return true;
    };
    const headEnd = () => {
      for (let i = start; i + 4 <= end; i++) if (HEAD_END.every((b, k) => buf[i + k] === b)) return i;
      return -1;
    };
    try {
      for (;;) {
        let at;
        while ((at = headEnd()) < 0) {
          if (end - start > MAX_HEAD) throw new Error('a replay part header longer than ' + MAX_HEAD + ' bytes');
          if (!(await more())) return;
        }
        const head = new TextDecoder().decode(buf.subarray(start, at));
        start = at + 4;
        const length = /content-length: *(\\d+)/i.exec(head);
        // The closing boundary has no Content-Length: the recording ends here.
        if (!length) return;
        const n = Number(length[1]);
        if (n > MAX_PART) throw new Error('a replay frame of ' + n + ' bytes, more than ' + MAX_PART);
        while (end - start < n) if (!(await more())) return;
        const stamp = /x-timestamp: *(\\d+(?:\\.\\d+)?)/i.exec(head);
        yield { jpeg: new Blob([buf.subarray(start, start + n)], { type: 'image/jpeg' }), timeMs: stamp ? Math.round(Number(stamp[1]) * 1000) : NaN };
        start += n;
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  async function load() {
    let listed;
    try {
      const r = await fetch(withToken('recordings'));
      if (!r.ok) { root.textContent = 'cannot list recordings: HTTP ' + r.status; return; }
      listed = await r.json();
    } catch (err) {
      root.textContent = 'cannot list recordings (' + err.message + '); reload the page to try again';
      return;
    }
    const { cameras, recordings } = listed;
    root.replaceChildren();
    if (cameras.length === 0) root.textContent = 'no camera records';
    const previews = [];
    for (const name of cameras) {
      const cam = camera(name, recordings.filter((s) => s.camera === name));
      root.append(cam.box);
      if (cam.preview) previews.push(cam.preview);
    }
    // One after the other: each takes a replay slot for a moment.
    for (const preview of previews) await preview();
  }

  function camera(name, segs) {
    const box = el('section', { className: 'cam' }, el('h2', { textContent: name }));
    if (segs.length === 0) { box.append(el('p', { textContent: 'no recordings yet' })); return { box }; }
    const t0 = segs[0].startMs, t1 = Math.max(...segs.map((s) => s.endMs)), span = Math.max(1, t1 - t0);
    const line = el('div', { className: 'timeline', title: 'click to play from there' });
    for (const s of segs) {
      const left = (s.startMs - t0) / span * 100, width = Math.max(0.3, (s.endMs - s.startMs) / span * 100);
      const cls = 'seg' + (s.recording ? ' live' : '') + (s.problems.length ? ' bad' : '');
      line.append(el('div', { className: cls, title: s.file + ': ' + iso(s.startMs) + ' to ' + iso(s.endMs), style: 'left:' + left + '%;width:' + width + '%' }));
    }
    // The stretches with motion the server keeps (record.keep.mode: motion keeps these past motionOnlyAfter).
    for (const m of segs.flatMap((s) => s.motion || [])) {
      const left = (m.fromMs - t0) / span * 100, width = Math.max(0.2, (m.toMs - m.fromMs) / span * 100);
      line.append(el('div', { className: 'motion', title: 'motion ' + iso(m.fromMs) + ' to ' + iso(m.toMs), style: 'left:' + left + '%;width:' + width + '%' }));
    }
    const cursor = el('div', { className: 'cursor', style: 'left:0' });
    line.append(cursor);
    const scrub = el('input', { type: 'range', min: String(t0), max: String(t1), step: 'any', value: String(t0) });
    const when = el('span', { textContent: iso(t0) });
    const note = el('span', { className: 'note' });
    const at = (ms) => { when.textContent = iso(ms); cursor.style.left = ((ms - t0) / span * 100) + '%'; };
    const view = { name, segs, t0, t1, scrub, at, note, dragging: false };
    // The newest segment says how the camera records now: H.264 in MP4 plays in a <video>.
    const player = segs[segs.length - 1].format === 'mp4' ? mp4Player(view) : mjpegPlayer(view);
    scrub.addEventListener('input', () => { view.dragging = true; at(Number(scrub.value)); });
    scrub.addEventListener('change', () => { view.dragging = false; player.seek(Number(scrub.value)); });
    line.addEventListener('click', (e) => { const r = line.getBoundingClientRect(); scrub.value = String(Math.round(t0 + (e.clientX - r.left) / r.width * span)); at(Number(scrub.value)); player.seek(Number(scrub.value)); });
    marks(name, line, t0, span, (ms) => { scrub.value = String(ms); at(ms); player.seek(ms); });
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
    box.append(line, axis(t0, span), el('div', { className: 'controls' }, scrub, when, ...player.controls, note), player.screen, el('table', {}, head, ...rows));
    return { box, preview: player.preview };
  }

  /** AVI (MJPEG) recordings: frames from replay.mjpg, each put on screen with its time. */
  function mjpegPlayer(view) {
    const { name, t0, scrub, at, note } = view;
    const speed = el('select', {}, ...[1, 2, 4, 8, 16].map((v) => el('option', { value: String(v), textContent: v + 'x' })));
    // Hidden until it has a frame: an <img> without one shows as broken.
    const img = el('img', { alt: 'replay of ' + name, hidden: true });
    let playing = null;

    /** Puts a frame on screen, and the slider and label at its time; a frame that does not decode is skipped. */
    async function show(frame, ctl) {
      const url = URL.createObjectURL(frame.jpeg);
      const probe = new Image();
      probe.src = url;
      try {
        await probe.decode();
      } catch {
        URL.revokeObjectURL(url);
        return;
      }
      if (ctl.signal.aborted) return URL.revokeObjectURL(url);
      const old = img.src;
      img.src = url;
      await img.decode().catch(() => {});
      if (old.startsWith('blob:')) URL.revokeObjectURL(old);
      img.hidden = false;
      if (Number.isFinite(frame.timeMs) && !view.dragging) {
        scrub.value = String(frame.timeMs);
        at(frame.timeMs);
      }
    }
    function stop() {
      if (playing) playing.abort();
      playing = null;
    }
    /** Shows count frames from the time from (Infinity: to the end), paced by the server. */
    async function replay(from, count) {
      stop();
      const ctl = new AbortController();
      playing = ctl;
      note.textContent = '';
      const url = withToken('cams/' + encodeURIComponent(name) + '/replay.mjpg?from=' + Math.round(from) + '&speed=' + speed.value + '&advance_headers=0');
      try {
        const res = await fetch(url, { signal: ctl.signal, cache: 'no-store' });
        if (!res.ok) {
          const answer = await res.json().catch(() => null);
          note.textContent = 'cannot replay: ' + (answer && answer.error ? answer.error.message : 'HTTP ' + res.status);
          return;
        }
        let shown = 0;
        for await (const frame of frames(res)) {
          if (ctl.signal.aborted) return;
          await show(frame, ctl);
          if (++shown >= count) return;
        }
        if (count === Infinity) note.textContent = 'end of the recording';
      } catch (err) {
        if (!ctl.signal.aborted) note.textContent = 'replay stopped: ' + err.message;
      } finally {
        if (playing === ctl) stop();
      }
    }
    const play = () => replay(Number(scrub.value), Infinity);
    return {
      controls: [speed, el('button', { type: 'button', textContent: 'Play', onclick: play }), el('button', { type: 'button', textContent: 'Stop', onclick: stop })],
      screen: img,
      seek: (ms) => replay(ms, Infinity),
      // Before Play: the first recorded frame.
      preview: () => replay(t0, 1),
    };
  }
${MP4_PLAYER_SCRIPT}
  /** Time labels under a timeline from t0 over span ms, at a round step (UTC, like the rest of the page). */
  function axis(t0, span) {
    const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);
    const step = STEPS.find((s) => span / s <= 6) || 86400000 * Math.ceil(span / 6 / 86400000);
    const box = el('div', { className: 'axis', title: 'UTC' });
    for (let t = Math.ceil(t0 / step) * step; t <= t0 + span; t += step) {
      const text = step >= 86400000 ? iso(t).slice(0, 10) : span > 86400000 ? iso(t).slice(5, 16) : iso(t).slice(11, step < 60000 ? 19 : 16);
      const at = (t - t0) / span * 100;
      // Centred on its time, except at the ends, where it would hang out of the page.
      const shift = at < 4 ? '0' : at > 96 ? '-100%' : '-50%';
      box.append(el('span', { className: 'tick', textContent: text, style: 'left:' + at + '%;transform:translateX(' + shift + ')' }));
    }
    return box;
  }

  // The camera's recent motion events as marks on its timeline: a click plays from the event,
  // hovering shows its snapshot while the server still has it.
  const peek = el('img', { id: 'peek', alt: 'event snapshot', hidden: true });
  peek.addEventListener('load', () => { peek.hidden = false; });
  peek.addEventListener('error', () => { peek.hidden = true; });
  document.body.append(peek);
  async function marks(name, line, t0, span, seek) {
    let listed;
    try {
      const r = await fetch(withToken('events/recent?camera=' + encodeURIComponent(name)), { cache: 'no-store' });
      if (!r.ok) return;
      listed = await r.json();
    } catch {
      return;
    }
    for (const e of listed.events) {
      const end = e.endedAt || e.startedAt;
      if (end < t0 || e.startedAt > t0 + span) continue;
      const left = Math.max(0, (e.startedAt - t0) / span * 100), width = Math.max(0.4, (end - Math.max(t0, e.startedAt)) / span * 100);
      const title = e.type + ' from ' + iso(e.startedAt) + (e.endedAt ? ' to ' + iso(e.endedAt) : '') + ', score ' + Number(e.score).toFixed(2);
      const mark = el('div', { className: 'mark', title, style: 'left:' + left + '%;width:' + width + '%' });
      mark.dataset.event = e.id;
      mark.addEventListener('click', (ev) => { ev.stopPropagation(); seek(Math.max(t0, e.startedAt)); });
      if (e.snapshot) {
        mark.addEventListener('mouseenter', () => {
          const r = mark.getBoundingClientRect();
          peek.style.left = Math.max(0, r.left + window.scrollX - 80) + 'px';
          peek.style.top = (r.bottom + window.scrollY + 4) + 'px';
          peek.dataset.event = e.id;
          peek.src = withToken(e.snapshot.replace(/^\\//, ''));
        });
        mark.addEventListener('mouseleave', () => { peek.hidden = true; peek.removeAttribute('src'); });
      }
      line.append(mark);
    }
  }
  load();
})();
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Exactly our inline style and script; images (the replay's frames) and fetches from this server only. */
export const RECORDINGS_PAGE_CSP = [
  "default-src 'none'",
  // blob: for the replay's frames, which the script reads from the stream and shows one by one.
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  // recording.mp4 in the <video> of an MP4 camera.
  "media-src 'self'",
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
