// GET /: one self-contained page (the device has no internet, so no external assets): the live
// stream and a few figures from /status, polled once a second. Relative URLs, so it also works
// behind a reverse proxy under a sub-path.
import { createHash } from 'node:crypto';

// The page's <img> is a browser: it asks for the layout a browser shows without delay, rather
// than leaving the server to guess it from the User-Agent.
const STREAM_URL = 'stream.mjpg?advance_headers=1';

const STYLE = `
:root { color-scheme: dark; font-family: system-ui, sans-serif; }
body { margin: 0; background: #111; color: #eee; }
header { display: flex; justify-content: space-between; align-items: baseline; padding: .5rem .75rem; }
h1 { font-size: 1.1rem; margin: 0; }
.version { color: #999; font-size: .85rem; }
.frame { background: #000; display: flex; justify-content: center; }
#live { display: block; width: 100%; max-width: 100vw; max-height: 75vh; height: auto; object-fit: contain; }
dl { display: grid; grid-template-columns: repeat(auto-fit, minmax(8.5rem, 1fr)); gap: .5rem; margin: .75rem; }
dl div { background: #222; border-radius: .4rem; padding: .5rem .75rem; }
dt { color: #aaa; font-size: .8rem; }
dd { margin: .15rem 0 0; font-size: 1.25rem; font-variant-numeric: tabular-nums; }
.state-running { color: #6d6; } .state-starting, .state-restarting { color: #fc5; } .state-idle, .state-unreachable { color: #f77; }
nav { margin: .75rem; display: flex; gap: 1rem; flex-wrap: wrap; }
a { color: #8cf; }
`;

const SCRIPT = `
(() => {
  const $ = (id) => document.getElementById(id);
  const img = $('live');
  // A page opened as /?token=… (for a browser that cannot do Basic authentication) passes the
  // token on to every URL it fetches; the server has already put it into the links.
  const token = new URLSearchParams(location.search).get('token');
  const withToken = (url) => token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url;
  let retry;
  // The stream ends when the server restarts or the network drops: reconnect instead of leaving
  // a broken image on the screen.
  img.addEventListener('error', () => {
    clearTimeout(retry);
    retry = setTimeout(() => { img.src = withToken('${STREAM_URL}&reconnect=' + Date.now()); }, 2000);
  });
  const show = (id, text, cls) => { const el = $(id); el.textContent = text; if (cls) el.className = cls; };
  async function poll() {
    try {
      const res = await fetch(withToken('status'), { cache: 'no-store' });
      const s = await res.json();
      const src = s.source;
      show('resolution', src.width + '\\u00d7' + src.height);
      show('fps', src.fpsMeasured.toFixed(1) + ' / ' + src.fpsConfigured);
      const watching = s.clients.filter((c) => c.mode === 'streaming');
      const http = watching.filter((c) => c.protocol === 'http').length;
      show('viewers', watching.length + ' (' + http + ' http)');
      show('dropped', String(s.clients.reduce((n, c) => n + c.dropped, 0)));
      show('state', src.state, 'state-' + src.state);
    } catch {
      show('state', 'unreachable', 'state-unreachable');
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Allows exactly our inline style and script, and nothing from anywhere else. */
export const INDEX_PAGE_CSP = [
  "default-src 'none'",
  "img-src 'self'",
  "connect-src 'self'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page; with `token`, every link and the stream carry it as ?token= (it came that way). */
export function renderIndexPage(serverName: string, version: string, token?: string): string {
  const name = escapeHtml(serverName);
  const link = (url: string): string =>
    escapeHtml(token ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : url);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${name}</h1><span class="version">${escapeHtml(version)}</span></header>
<div class="frame"><img id="live" src="${link(STREAM_URL)}" alt="Live camera stream"></div>
<dl>
<div><dt>Resolution</dt><dd id="resolution">&ndash;</dd></div>
<div><dt>FPS (measured / set)</dt><dd id="fps">&ndash;</dd></div>
<div><dt>Viewers</dt><dd id="viewers">&ndash;</dd></div>
<div><dt>Dropped frames</dt><dd id="dropped">&ndash;</dd></div>
<div><dt>Source</dt><dd id="state">&ndash;</dd></div>
</dl>
<nav><a href="${link('snapshot.jpg')}">Snapshot</a><a href="${link('status')}">Status (JSON)</a><a href="${link('metrics')}">Metrics</a></nav>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
