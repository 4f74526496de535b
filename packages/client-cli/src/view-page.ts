/**
 * The page `edgecam view` serves: the live stream, a status line refreshed from /stats.json
 * every second, a snapshot and a fullscreen button. It heals like the server's own page: when
 * `edgecam view` or its upstream comes back after a loss, it reopens the stream itself, since
 * Chromium fires no event when a multipart stream ends. Self-contained, readable on a phone.
 */
import { escapeHtml } from '@edgecam/runtime';

export function viewPage(upstream: string): string {
  const title = `edgecam · ${escapeHtml(upstream)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>
  body { margin: 0; background: #111; color: #ddd; font: 14px/1.4 system-ui, sans-serif; }
  header { display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: center; padding: .5em .8em; }
  h1 { font-size: 1em; margin: 0; font-weight: 600; }
  #stats { font-variant-numeric: tabular-nums; color: #9c9; }
  #stats.down { color: #e88; }
  a.button, button { background: #2a6; color: #fff; padding: .35em .9em; border: 0; border-radius: 4px; text-decoration: none; font: inherit; cursor: pointer; }
  #snapshot { margin-left: auto; }
  main { display: flex; justify-content: center; }
  img { max-width: 100%; height: auto; background: #000; }
</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <span id="stats">connecting…</span>
  <a class="button" id="snapshot" href="/snapshot.jpg" download>Snapshot</a>
  <button id="fullscreen" type="button">Fullscreen</button>
  <a class="button" id="server-page" target="_blank" rel="noopener noreferrer" hidden>Server page</a>
</header>
<main><img id="stream" src="/stream.mjpg?advance_headers=1" alt="live stream from ${escapeHtml(upstream)}"></main>
<script>
  const stats = document.getElementById('stats');
  const img = document.getElementById('stream');
  const serverPage = document.getElementById('server-page');
  let down = false;
  // A new URL each time: the old response may still be held, frozen, by the browser.
  function reopen() {
    img.src = '/stream.mjpg?advance_headers=1&t=' + Date.now();
  }
  img.addEventListener('error', () => setTimeout(reopen, 1000));
  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else img.requestFullscreen();
  }
  document.getElementById('fullscreen').addEventListener('click', toggleFullscreen);
  img.addEventListener('dblclick', toggleFullscreen);
  async function refresh() {
    try {
      const s = await (await fetch('/stats.json', { cache: 'no-store' })).json();
      const size = s.width ? s.width + 'x' + s.height : 'size unknown';
      const who = s.server ? s.server + ', ' : '';
      const live = s.connected && !s.cameraDown;
      stats.textContent = s.cameraDown
        ? "the server's camera is down: " + s.cameraDown
        : s.connected
          ? size + ' · ' + s.fps.toFixed(1) + ' fps · ' + s.kbitPerSecond + ' kbit/s · ' + who + s.protocol + ' protocol'
          : 'reconnecting… (' + (s.lastError || 'no stream') + ')';
      stats.className = live ? '' : 'down';
      // The server's own page (recordings, settings), when its WELCOME or --http-port names it.
      serverPage.hidden = !s.serverPage;
      if (s.serverPage) serverPage.href = s.serverPage;
      if (live && down) reopen();
      down = !live;
    } catch (e) {
      stats.textContent = 'edgecam view has stopped; retrying…';
      stats.className = 'down';
      down = true;
    }
  }
  refresh();
  setInterval(refresh, 1000);
</script>
</body>
</html>
`;
}

