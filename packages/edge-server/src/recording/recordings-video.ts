// The recordings page's player for a camera that records MP4: a <video> of recording.mp4 over a
// window of its segments (all of them, or a day from the one asked for), with speed and frame
// steps, the slider following playback. The joined file closes the gaps between segments, so the
// page maps wall time to media time by the segments' own spans. A fragment of the page's script
// (it uses el, withToken and iso from there), inlined into it so the page's CSP hash covers it.
export const MP4_PLAYER_SCRIPT = `
  /** MP4 (H.264) recordings: one <video> of recording.mp4, seeking by wall time. */
  function mp4Player(view) {
    const { name, t0, scrub, at, note } = view;
    const segs = view.segs.filter((s) => s.format === 'mp4' && s.frames > 0);
    const MAX_WINDOW_MS = 24 * 3600 * 1000;
    const fps = Math.max(1, ...segs.map((s) => s.fps || 0));
    const video = el('video', { className: 'player', controls: true, muted: true, playsInline: true, preload: 'auto' });
    const speed = el('select', {}, ...[0.25, 0.5, 1, 2, 4, 8, 16].map((v) => el('option', { value: String(v), textContent: v + 'x', selected: v === 1 })));
    speed.addEventListener('change', () => { video.playbackRate = Number(speed.value); });
    // What the <video> holds: from, to, and where each segment starts in it (ms of media time).
    let win = null;

    function windowAt(ms) {
      let i = 0;
      if (segs[segs.length - 1].endMs - segs[0].startMs > MAX_WINDOW_MS) {
        i = segs.findIndex((s) => s.endMs > ms);
        if (i < 0) i = segs.length - 1;
      }
      const list = [];
      let media = 0;
      for (let k = i; k < segs.length && (k === i || segs[k].endMs - segs[i].startMs <= MAX_WINDOW_MS); k++) {
        list.push({ s: segs[k], media });
        media += segs[k].endMs - segs[k].startMs;
      }
      return { from: segs[i].startMs, to: list[list.length - 1].s.endMs, list };
    }
    /** Wall-clock ms of a media time (s) of the window. */
    function wallOf(t) {
      const m = t * 1000;
      let cur = win.list[0];
      for (const p of win.list) if (p.media <= m) cur = p;
      return Math.min(cur.s.endMs, cur.s.startMs + (m - cur.media));
    }
    /** Media time (s) of a wall-clock ms; inside a gap: the next segment's start. */
    function mediaOf(ms) {
      for (const p of win.list) {
        if (ms < p.s.startMs) return p.media / 1000;
        if (ms < p.s.endMs) return (p.media + ms - p.s.startMs) / 1000;
      }
      const last = win.list[win.list.length - 1];
      return (last.media + last.s.endMs - last.s.startMs) / 1000;
    }
    function open(ms, play) {
      note.textContent = '';
      if (!win || ms < win.from || ms > win.to) {
        win = windowAt(ms);
        video.src = withToken('cams/' + encodeURIComponent(name) + '/recording.mp4?from=' + Math.floor(win.from) + '&to=' + Math.ceil(win.to));
        video.playbackRate = Number(speed.value);
      }
      const target = mediaOf(ms);
      const go = () => {
        video.currentTime = target;
        if (play) video.play().catch((err) => { note.textContent = 'cannot play: ' + err.message; });
      };
      if (video.readyState >= 1) go(); else video.addEventListener('loadedmetadata', go, { once: true });
    }
    function follow() {
      if (!win || view.dragging) return;
      const ms = wallOf(video.currentTime);
      scrub.value = String(ms);
      at(ms);
    }
    video.addEventListener('timeupdate', follow);
    video.addEventListener('seeked', follow);
    // Between timeupdates (4 a second), each picture shown moves the slider too.
    if (video.requestVideoFrameCallback) {
      const onFrame = () => { follow(); video.requestVideoFrameCallback(onFrame); };
      video.requestVideoFrameCallback(onFrame);
    }
    video.addEventListener('ended', () => { note.textContent = 'end of the recording'; });
    video.addEventListener('error', async () => {
      // The <video> says only that it failed; the server's answer says why.
      let why = video.error ? video.error.message || 'code ' + video.error.code : 'unknown';
      try {
        const r = await fetch(video.src, { headers: { Range: 'bytes=0-0' }, cache: 'no-store' });
        const answer = r.ok ? null : await r.json().catch(() => null);
        if (answer && answer.error) why = answer.error.message;
      } catch {}
      note.textContent = 'cannot play the recording: ' + why;
    });
    const step = (frames) => {
      video.pause();
      video.currentTime = Math.max(0, video.currentTime + frames / fps);
    };
    const button = (textContent, title, onclick) => el('button', { type: 'button', textContent, title, onclick });
    return {
      controls: [
        speed,
        button('Play', 'play from the slider', () => {
          const ms = Number(scrub.value);
          // Where the video already is: resume; at the end: from the start again; else from the slider.
          if (win && !video.ended && Math.abs(wallOf(video.currentTime) - ms) < 1000) video.play().catch(() => {});
          else open(ms >= view.t1 - 200 ? t0 : ms, true);
        }),
        button('Pause', 'pause', () => video.pause()),
        button('\\u25c0 Frame', 'one frame back', () => step(-1)),
        button('Frame \\u25b6', 'one frame on', () => step(1)),
      ],
      screen: video,
      seek: (ms) => open(ms, true),
      // Before Play: the first picture, and the file's start loaded.
      preview: () => open(t0, false),
    };
  }
`;
