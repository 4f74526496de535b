/**
 * The page `edgecam view` serves: the live stream, a status line refreshed from /stats.json
 * every second, and a snapshot button. Self-contained (no external assets), readable on a phone.
 */
export function viewPage(upstream: string): string {
  const title = `edgecam · ${escapeHtml(upstream)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
  body { margin: 0; background: #111; color: #ddd; font: 14px/1.4 system-ui, sans-serif; }
  header { display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: center; padding: .5em .8em; }
  h1 { font-size: 1em; margin: 0; font-weight: 600; }
  #stats { font-variant-numeric: tabular-nums; color: #9c9; }
  #stats.down { color: #e88; }
  a.button { margin-left: auto; background: #2a6; color: #fff; padding: .35em .9em; border-radius: 4px; text-decoration: none; }
  main { display: flex; justify-content: center; }
  img { max-width: 100%; height: auto; background: #000; }
</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <span id="stats">connecting…</span>
  <a class="button" id="snapshot" href="/snapshot.jpg" download>Snapshot</a>
</header>
<main><img id="stream" src="/stream.mjpg?advance_headers=1" alt="live stream from ${escapeHtml(upstream)}"></main>
<script>
  const stats = document.getElementById('stats');
  async function refresh() {
    try {
      const s = await (await fetch('/stats.json', { cache: 'no-store' })).json();
      const size = s.width ? s.width + 'x' + s.height : 'size unknown';
      const who = s.server ? s.server + ', ' : '';
      stats.textContent = s.connected
        ? size + ' · ' + s.fps.toFixed(1) + ' fps · ' + s.kbitPerSecond + ' kbit/s · ' + who + s.protocol + ' protocol'
        : 'reconnecting… (' + (s.lastError || 'no stream') + ')';
      stats.className = s.connected ? '' : 'down';
    } catch (e) {
      stats.textContent = 'edgecam view has stopped';
      stats.className = 'down';
    }
  }
  refresh();
  setInterval(refresh, 1000);
</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
