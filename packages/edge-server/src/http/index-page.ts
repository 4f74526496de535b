// GET /: one self-contained page (the device has no internet, so no external assets): the live
// stream (H.264 through a feature's player for a camera that has it, MJPEG otherwise, with the
// transport and its bitrate under it), a few figures from /status polled once a second, why the camera is down when it is,
// and a fullscreen button. The stream reopens by itself after a server restart or a stall; while
// the server cannot be reached the figures show as unknown, not as their last values.
// Relative URLs, so it also works behind a reverse proxy under a sub-path.
import { createHash } from 'node:crypto';
import type { PagePart } from './page-part.js';
import { escapeHtml } from '@edgecam/runtime';
import { FPS_RANGE, QUALITY_RANGE, SIZE_RANGE } from '../config/capture-limits.js';

// The page's <img> is a browser: it asks for the layout a browser shows without delay, rather
// than leaving the server to guess it from the User-Agent.
const STREAM_URL = 'stream.mjpg?advance_headers=1';

const STYLE = `
:root { color-scheme: dark; font-family: system-ui, sans-serif; }
[hidden] { display: none !important; }
body { margin: 0; background: #111; color: #eee; }
header { display: flex; justify-content: space-between; align-items: baseline; padding: .5rem .75rem; }
h1 { font-size: 1.1rem; margin: 0; }
.version { color: #999; font-size: .85rem; }
.frame { position: relative; background: #000; display: flex; justify-content: center; align-items: center; }
#live, #live-video { display: block; width: 100%; max-width: 100vw; max-height: 75vh; height: auto; object-fit: contain; }
.frame:fullscreen #live, .frame:fullscreen #live-video { max-height: 100vh; height: 100vh; }
#transport { margin: .2rem .75rem 0; color: #aaa; font-size: .85rem; font-variant-numeric: tabular-nums; }
#fullscreen { position: absolute; top: .5rem; right: .5rem; background: #000a; color: #eee; border: 1px solid #666; border-radius: .4rem; padding: .3rem .7rem; font: inherit; cursor: pointer; }
#notice { position: absolute; left: .5rem; right: .5rem; bottom: .5rem; margin: 0; background: #400c; color: #fcc; border-radius: .4rem; padding: .4rem .7rem; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: repeat(auto-fit, minmax(8.5rem, 1fr)); gap: .5rem; margin: .75rem; }
dl div { background: #222; border-radius: .4rem; padding: .5rem .75rem; }
dt { color: #aaa; font-size: .8rem; }
dd { margin: .15rem 0 0; font-size: 1.25rem; font-variant-numeric: tabular-nums; }
.state-running { color: #6d6; } .state-starting, .state-restarting { color: #fc5; } .state-idle, .state-unreachable { color: #f77; }
.unreachable #live, .unreachable #live-video { opacity: .4; }
.unreachable dd:not(#state) { color: #888; }
nav { margin: .75rem; display: flex; gap: 1rem; flex-wrap: wrap; }
a { color: #8cf; }
#cameras { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .5rem; margin: .75rem; }
#cameras button { background: #222; color: #eee; border: 2px solid transparent; border-radius: .4rem; padding: .3rem; font: inherit; cursor: pointer; text-align: left; }
#cameras button.selected { border-color: #8cf; }
#cameras img, #cameras video { display: block; width: 100%; aspect-ratio: 4 / 3; object-fit: contain; background: #000; }
#cameras .transport { display: block; color: #aaa; font-size: .8rem; }
#settings { display: flex; gap: .5rem; flex-wrap: wrap; align-items: end; margin: .75rem; }
#settings label { display: flex; flex-direction: column; font-size: .8rem; color: #aaa; }
#settings input { width: 5.5rem; background: #222; color: #eee; border: 1px solid #555; border-radius: .3rem; padding: .2rem .4rem; font: inherit; }
#settings button { background: #234; color: #eee; border: 1px solid #8cf; border-radius: .4rem; padding: .3rem .7rem; font: inherit; cursor: pointer; }
`;

const SCRIPT = `
(() => {
  const $ = (id) => document.getElementById(id);
  const img = $('live');
  const video = $('live-video');
  // Cameras a feature plays as H.264 (WebRTC, then live MP4): their views pull no MJPEG.
  const videoCameras = JSON.parse(document.querySelector('meta[name="edgecam-video"]').content);
  const h264 = () => videoCameras.length > 0 && window.edgecamH264 ? window.edgecamH264 : null;
  const camPath = (name) => 'cams/' + encodeURIComponent(name) + '/';
  // A page opened as /?token=… (for a browser that cannot do Basic authentication) passes the
  // token on to every URL it fetches; the server has already put it into the links.
  const token = new URLSearchParams(location.search).get('token');
  const withToken = (url) => token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url;

  // Chromium fires no event when a multipart stream ends (a server restart): the <img> keeps its
  // last frame. So the page reconnects when the server restarted or came back, and when the
  // picture stands still while the server lists no HTTP viewer or reports new frames. A still
  // scene looks the same, so each reconnect that brings no change doubles the wait, up to a minute.
  const STALL_MS = 5000;
  const STALL_MAX_MS = 60000;
  let retry;
  // The camera shown full size: null for the server's default camera (the root paths).
  let camera = null;
  const under = (path) => camera === null ? path : 'cams/' + encodeURIComponent(camera) + '/' + path;
  // What the main view shows: 'mjpeg' in the <img>, or 'video' while the H.264 player has it.
  let mode = 'mjpeg';
  let shownName;
  let stopPlayer = null;
  const reconnect = () => {
    clearTimeout(retry);
    if (mode === 'mjpeg') img.src = withToken(under('${STREAM_URL}') + '&reconnect=' + Date.now());
  };
  const transportLine = (text) => { $('transport').textContent = text; };
  const mjpegView = () => {
    mode = 'mjpeg';
    video.hidden = true;
    img.hidden = false;
    reconnect();
  };
  /** Shows the camera name in the main view: as H.264 when a feature plays it, else as MJPEG. */
  function showMain(name) {
    if (name === shownName) return;
    shownName = name;
    if (stopPlayer) stopPlayer();
    stopPlayer = null;
    const player = h264();
    if (player && videoCameras.includes(name)) {
      mode = 'video';
      clearTimeout(retry);
      img.removeAttribute('src');
      img.hidden = true;
      video.hidden = false;
      stopPlayer = player.play(video, { whep: withToken(camPath(name) + 'whep'), mp4: withToken(camPath(name) + 'stream.mp4') }, {
        onTransport: (t, kbps) => transportLine(player.transportText(t, kbps)),
        onMjpeg: mjpegView,
      });
    } else {
      mjpegView();
    }
  }
  // A stream that cannot be opened (the server is down) fires error: try again shortly.
  img.addEventListener('error', () => {
    if (mode !== 'mjpeg' || !img.getAttribute('src')) return;
    clearTimeout(retry);
    retry = setTimeout(reconnect, 2000);
  });

  const sampler = document.createElement('canvas');
  sampler.width = 64;
  sampler.height = 48;
  const sampled = sampler.getContext('2d', { willReadFrequently: true });
  /** A digest of what the <img> shows now; '' while it shows nothing. */
  function picture() {
    if (!img.naturalWidth) return '';
    try {
      sampled.drawImage(img, 0, 0, sampler.width, sampler.height);
      const d = sampled.getImageData(0, 0, sampler.width, sampler.height).data;
      let h = 0;
      for (let i = 0; i < d.length; i++) h = (Math.imul(h, 31) + d[i]) >>> 0;
      return String(h);
    } catch {
      return '';
    }
  }

  // The source's error is the camera's or ffmpeg's text: shown as text, its control and
  // direction characters as escapes, so it can neither break nor disguise the line.
  const visible = (text) => String(text).slice(0, 500)
    .replace(/[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]/g, (c) => '\\\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  const notice = (text) => { const el = $('notice'); el.textContent = text || ''; el.hidden = !text; };
  const show = (id, text, cls) => { const el = $(id); el.textContent = text; if (cls) el.className = cls; };
  const UNKNOWN = '\\u2014';
  const POLL_TIMEOUT_MS = 5000;
  /** A time of day as HH:MM:SS, local. */
  const clock = (ms) => { const d = new Date(ms); return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':'); };

  let uptime = -1;
  let reachable = true;
  let unreachableSince = null;
  let shown = '';
  let changedAt = Date.now();
  let framesAtChange = 0;
  let stallMs = STALL_MS;

  /** Reconnects when the picture stands still although our stream should be moving. */
  function watch(src, httpViewers, now) {
    if (mode !== 'mjpeg') return;
    const p = picture();
    // No HTTP viewer means not us either; otherwise the source must have sent frames since.
    const stalled = httpViewers === 0 || (src.state === 'running' && !src.noSignal && src.framesCaptured > framesAtChange);
    if (p !== shown) {
      shown = p;
      changedAt = now;
      framesAtChange = src.framesCaptured;
      stallMs = STALL_MS;
    } else if (!document.hidden && stalled && now - changedAt > stallMs) {
      reconnect();
      changedAt = now;
      framesAtChange = src.framesCaptured;
      stallMs = Math.min(stallMs * 2, STALL_MAX_MS);
    }
  }

  /** What the server can no longer confirm shows as unknown, and since when it has been away. */
  function unreachable(reason) {
    reachable = false;
    if (unreachableSince === null) unreachableSince = Date.now();
    document.body.classList.add('unreachable');
    for (const id of ['resolution', 'fps', 'viewers', 'dropped']) show(id, UNKNOWN);
    show('state', 'unreachable', 'state-unreachable');
    for (const [name, tile] of tiles) {
      tile.label.textContent = name + ' \\u00b7 unknown';
      tile.label.className = 'state-unreachable';
    }
    notice('Server unreachable since ' + clock(unreachableSince) + ', retrying\\u2026' + (reason ? ' (' + visible(reason) + ')' : ''));
  }

  async function poll() {
    let s;
    // A server that takes the request but never answers (stopped, overloaded) counts as away too.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), POLL_TIMEOUT_MS);
    try {
      const res = await fetch(withToken('status'), { cache: 'no-store', signal: abort.signal });
      if (!res.ok) throw new Error('the server answered ' + res.status);
      s = await res.json();
    } catch (err) {
      unreachable(err.name === 'AbortError' ? 'no answer within ' + POLL_TIMEOUT_MS / 1000 + ' s' : err instanceof TypeError ? '' : err.message);
      setTimeout(poll, 1000);
      return;
    } finally {
      clearTimeout(timer);
    }
    const cameras = s.cameras || [];
    const current = camera === null ? cameras.find((c) => c.default) : cameras.find((c) => c.name === camera);
    const src = current ? current.source : s.source;
    if (current) showMain(current.name);
    showCameras(cameras);
    showSettings(current);
    // A restarted server (its uptime went back) or one that was away ended our stream.
    if (!reachable || s.uptime < uptime) {
      reconnect();
      changedAt = Date.now();
      framesAtChange = src.framesCaptured;
    }
    reachable = true;
    unreachableSince = null;
    document.body.classList.remove('unreachable');
    uptime = s.uptime;
    const watching = s.clients.filter((c) => c.mode === 'streaming' && (!current || c.camera === undefined || c.camera === current.name));
    const http = watching.filter((c) => c.protocol === 'http').length;
    watch(src, http, Date.now());
    show('resolution', src.width + '\\u00d7' + src.height);
    show('fps', src.fpsMeasured.toFixed(1) + ' / ' + src.fpsConfigured);
    show('viewers', watching.length + ' (' + http + ' http)');
    if (mode === 'mjpeg') showMjpegRate(watching.filter((c) => c.protocol === 'http'));
    show('dropped', String(s.clients.reduce((n, c) => n + c.dropped, 0)));
    show('state', src.state, 'state-' + src.state);
    const down = src.state === 'restarting' || src.noSignal;
    notice(down ? 'Camera down: ' + (src.lastError ? visible(src.lastError) : 'no frames from the source') + '; the server keeps retrying' : '');
    setTimeout(poll, 1000);
  }

  // The MJPEG view's rate: what the server sent its HTTP viewers of the camera since the last
  // poll, per viewer (the page cannot tell its own stream from the others').
  let mjpegSent = null;
  function showMjpegRate(viewers) {
    const bytes = viewers.reduce((n, c) => n + (c.bytesSent || 0), 0);
    const at = Date.now();
    const kbps = mjpegSent && viewers.length > 0 && bytes >= mjpegSent.bytes ? Math.round(((bytes - mjpegSent.bytes) * 8) / (at - mjpegSent.at) / viewers.length) : null;
    mjpegSent = { bytes, at };
    transportLine(kbps === null ? 'MJPEG' : 'MJPEG \u00b7 ' + kbps + ' kbit/s');
  }

  // With several cameras: a tile per camera (a snapshot every few seconds and its state); a
  // click shows that camera full size above, with its figures and settings.
  const tiles = new Map();
  let tilesRefreshed = 0;
  function showCameras(cameras) {
    const grid = $('cameras');
    grid.hidden = cameras.length < 2;
    if (grid.hidden) return;
    const now = Date.now();
    const refresh = now - tilesRefreshed > 3000;
    if (refresh) tilesRefreshed = now;
    for (const c of cameras) {
      let tile = tiles.get(c.name);
      if (!tile) {
        const button = document.createElement('button');
        button.type = 'button';
        const pic = document.createElement('img');
        pic.alt = c.name;
        const label = document.createElement('span');
        button.append(pic, label);
        button.addEventListener('click', () => {
          camera = c.default ? null : c.name;
          showMain(c.name);
          settingsShownFor = undefined;
        });
        grid.append(button);
        tile = { button, pic, label, video: null, rate: null, stop: null, h264: Boolean(h264() && videoCameras.includes(c.name)) };
        tiles.set(c.name, tile);
      }
      // A camera with H.264 plays in its tile too, but not while the main view plays it: one
      // stream per camera (snapshots where the player gives way, or while it is the main one).
      const shownHere = camera === null ? c.default : c.name === camera;
      if (tile.h264 && shownHere && tile.stop) stopTile(tile);
      else if (tile.h264 && !shownHere && !tile.stop) startTile(c.name, tile);
      tile.label.textContent = c.name + ' \u00b7 ' + c.source.state + (c.default ? ' (default)' : '');
      tile.label.className = 'state-' + c.source.state;
      tile.button.classList.toggle('selected', camera === null ? c.default : c.name === camera);
      if (refresh && !tile.video) tile.pic.src = withToken('cams/' + encodeURIComponent(c.name) + '/snapshot.jpg?t=' + now);
    }
  }

  function startTile(name, tile) {
    const player = h264();
    const v = document.createElement('video');
    v.muted = true;
    v.playsInline = true;
    v.title = name;
    const rate = document.createElement('span');
    rate.className = 'transport';
    tile.pic.replaceWith(v);
    tile.button.append(rate);
    tile.video = v;
    tile.rate = rate;
    tile.stop = player.play(v, { whep: withToken(camPath(name) + 'whep'), mp4: withToken(camPath(name) + 'stream.mp4') }, {
      onTransport: (t, kbps) => { rate.textContent = player.transportText(t, kbps); },
      // The player gave way for good: snapshots from now on.
      onMjpeg: () => { stopTile(tile); tile.h264 = false; },
    });
  }
  function stopTile(tile) {
    if (tile.stop) tile.stop();
    tile.stop = null;
    if (tile.video) {
      // Its peer connection or MP4 request goes with the element's stream.
      const v = tile.video;
      if (v.srcObject) { for (const t of v.srcObject.getTracks()) t.stop(); v.srcObject = null; }
      v.removeAttribute('src');
      v.load();
      v.replaceWith(tile.pic);
    }
    if (tile.rate) tile.rate.remove();
    tile.video = null;
    tile.rate = null;
  }

  // The shown camera's settings, filled in once per camera so typing is not overwritten.
  let settingsShownFor;
  function showSettings(current) {
    const form = $('settings');
    form.hidden = !current || !current.settings;
    if (form.hidden || settingsShownFor === current.name) return;
    settingsShownFor = current.name;
    for (const key of ['width', 'height', 'fps', 'quality']) $('set-' + key).value = current.settings[key];
    // The camera's ceilings (maxSize, maxFps): the server refuses more.
    const limits = current.limits || {};
    for (const [key, max] of [['width', limits.maxWidth], ['height', limits.maxHeight], ['fps', limits.maxFps]]) {
      if (max) $('set-' + key).max = String(max);
    }
  }
  $('apply').addEventListener('click', async () => {
    const body = {};
    for (const key of ['width', 'height', 'fps', 'quality']) body[key] = Number($('set-' + key).value);
    try {
      const res = await fetch(withToken(under('settings')), { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const answer = await res.json();
      $('applied').textContent = res.ok ? 'applied' : visible(answer.error ? answer.error.message : res.status);
    } catch (err) {
      $('applied').textContent = visible(err.message);
    }
  });

  poll();

  const frame = $('frame');
  const button = $('fullscreen');
  if (document.fullscreenEnabled && frame.requestFullscreen) {
    const toggle = () => document.fullscreenElement ? document.exitFullscreen() : frame.requestFullscreen().catch(() => {});
    button.hidden = false;
    button.addEventListener('click', toggle);
    img.addEventListener('dblclick', toggle);
    video.addEventListener('dblclick', toggle);
    document.addEventListener('fullscreenchange', () => {
      button.textContent = document.fullscreenElement ? 'Exit fullscreen' : 'Fullscreen';
    });
  }
})();
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Allows exactly our inline styles and scripts (the page's and its parts'), and nothing from anywhere else. */
export function indexPageCsp(parts: readonly PagePart[] = []): string {
  const styles = [STYLE, ...parts.flatMap((p) => (p.style ? [p.style] : []))];
  const scripts = [SCRIPT, ...parts.flatMap((p) => (p.script ? [p.script] : []))];
  return [
    "default-src 'none'",
    // data: only for the empty favicon, so the browser does not ask for a /favicon.ico we lack.
    "img-src 'self' data:",
    "connect-src 'self'",
    // stream.mp4 in the <video> of a camera with H.264 where WebRTC does not play.
    "media-src 'self'",
    `style-src ${styles.map(sha256).join(' ')}`,
    `script-src ${scripts.map(sha256).join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** What the page looks like with no feature parts; the router renders it with the features' parts. */
export type PageParts = (withToken: (url: string) => string) => readonly PagePart[];
const NO_PARTS: PageParts = () => [];

/** The page; with `token`, every link and the stream carry it as ?token= (it came that way). */
export function renderIndexPage(serverName: string, version: string, token?: string, partsOf: PageParts = NO_PARTS): string {
  const name = escapeHtml(serverName);
  const withToken = (url: string): string => (token ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : url);
  const link = (url: string): string => escapeHtml(withToken(url));
  const parts = partsOf(withToken);
  // With a camera a part plays as video, the main view waits for the first /status to know which to pull.
  const plays = parts.flatMap((p) => p.plays ?? []);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name}</title>
<meta name="edgecam-video" content="${escapeHtml(JSON.stringify(plays))}">
<link rel="icon" href="data:,">
<style>${STYLE}</style>
${parts.map((p) => (p.style ? `<style>${p.style}</style>\n` : '')).join('')}</head>
<body>
<header><h1>${name}</h1><span class="version">${escapeHtml(version)}</span></header>
<div class="frame" id="frame"><img id="live"${plays.length > 0 ? ' hidden' : ` src="${link(STREAM_URL)}"`} alt="Live camera stream">
<video id="live-video" muted playsinline hidden></video>
<button id="fullscreen" type="button" hidden>Fullscreen</button>
<p id="notice" role="status" hidden></p></div>
<p id="transport" role="status"></p>
<dl>
<div><dt>Resolution</dt><dd id="resolution">&mdash;</dd></div>
<div><dt>FPS (measured / set)</dt><dd id="fps">&mdash;</dd></div>
<div><dt>Viewers</dt><dd id="viewers">&mdash;</dd></div>
<div><dt>Dropped frames</dt><dd id="dropped">&mdash;</dd></div>
<div><dt>Source</dt><dd id="state">&mdash;</dd></div>
</dl>
<div id="cameras" hidden></div>
${parts.map((p) => (p.html ? `${p.html}\n` : '')).join('')}<div id="settings" hidden>
<label>Width<input id="set-width" type="number" min="${SIZE_RANGE.min}" max="${SIZE_RANGE.max}"></label>
<label>Height<input id="set-height" type="number" min="${SIZE_RANGE.min}" max="${SIZE_RANGE.max}"></label>
<label>FPS<input id="set-fps" type="number" min="${FPS_RANGE.min}" max="${FPS_RANGE.max}"></label>
<label>Quality<input id="set-quality" type="number" min="${QUALITY_RANGE.min}" max="${QUALITY_RANGE.max}"></label>
<button id="apply" type="button">Apply settings</button><span id="applied" role="status"></span>
</div>
<nav><a href="${link('snapshot.jpg')}">Snapshot</a>${parts.flatMap((p) => p.links ?? []).map((l) => `<a href="${escapeHtml(l.href)}">${escapeHtml(l.label)}</a>`).join('')}<a href="${link('status')}">Status (JSON)</a><a href="${link('metrics')}">Metrics</a></nav>
<script>${SCRIPT}</script>
${parts.map((p) => (p.script ? `<script>${p.script}</script>\n` : '')).join('')}</body>
</html>
`;
}
