// The page piece that plays a camera's H.264: a <video> that asks for WebRTC over WHEP, reconnects
// when the connection fails or stops delivering pictures (a server restart), falls back to live
// MP4 (stream.mp4) where WebRTC is missing or brings no picture (UDP blocked), and gives way to
// MJPEG only where neither plays. window.edgecamH264.play() is what the viewer page calls for its
// views; a <video data-whep> on its own is played as well.
import { createHash } from 'node:crypto';
import { escapeHtml } from '@edgecam/runtime';

/** The player script; the page includes it once (inline with H264_PLAYER_SCRIPT_HASH in its CSP, or as /h264-player.js). */
export const H264_PLAYER_SCRIPT = `(() => {
  'use strict';
  const RETRY_MS = 1000;
  const STALL_MS = 4000;
  /** WebRTC sessions in a row that the server sets up but that bring no picture (UDP blocked) before live MP4 is tried instead. */
  const WEBRTC_TRIES = 2;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  class Permanent extends Error {}
  // ?transport=mp4 (or mjpeg) starts lower down the list, as a network without UDP would.
  const forced = new URLSearchParams(location.search).get('transport');
  const hasWebrtc = () => typeof RTCPeerConnection === 'function' && forced !== 'mp4' && forced !== 'mjpeg';
  const hasMp4 = (video) => forced !== 'mjpeg' && video.canPlayType('video/mp4; codecs="avc1.42E01E"') !== '';
  const decoded = (video) => video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality().totalVideoFrames : 0;

  function gathered(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { if (pc.iceGatheringState === 'complete') resolve(); };
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 2000);
    });
  }

  async function connect(video, url, mine) {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addEventListener('track', (e) => {
      if (!mine()) return;
      // Live video: show each picture as soon as it is decoded rather than buffering for smoothness.
      if ('jitterBufferTarget' in e.receiver) e.receiver.jitterBufferTarget = 0;
      else e.receiver.playoutDelayHint = 0;
      video.srcObject = new MediaStream([e.track]);
      video.play().catch(() => {});
    });
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
      if (res.status === 404 || res.status === 405 || res.status === 501) throw new Permanent('no WHEP here: ' + res.status);
      if (res.status !== 201) throw new Error('WHEP answered ' + res.status);
      const base = new URL(url, window.location.href);
      const resource = new URL(res.headers.get('Location') || url, base);
      resource.search = base.search;
      await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      return { pc, resource: resource.href };
    } catch (err) {
      pc.close();
      throw err;
    }
  }

  /** Resolves when the connection ends, the player stops, or no new picture was decoded for STALL_MS. */
  function ended(video, failed, live) {
    return new Promise((resolve) => {
      let frames = -1;
      let since = performance.now();
      const timer = setInterval(() => {
        const now = decoded(video);
        if (now !== frames) { frames = now; since = performance.now(); }
        if (!live() || failed() || performance.now() - since > STALL_MS * (frames > 0 ? 1 : 3)) {
          clearInterval(timer);
          resolve(frames > 0);
        }
      }, 250);
    });
  }

  /**
   * Plays one camera's H.264 in video: WebRTC over WHEP (urls.whep), then live MP4 (urls.mp4)
   * where WebRTC is missing or brings no picture; where neither plays it calls onMjpeg. Every
   * second it reports the transport and the bitrate received (kbit/s, or null when unknown).
   * Returns a function that stops it.
   */
  function play(video, urls, { onTransport = () => {}, onMjpeg = () => {} } = {}) {
    let live = true;
    // A view may be handed to another player (the page switched cameras): only its owner clears it.
    const owner = {};
    video.edgecamOwner = owner;
    const mine = () => video.edgecamOwner === owner;
    let bytes = null;
    let transport = '';
    let last = null;
    video.muted = true;
    const report = setInterval(() => {
      const now = bytes ? bytes() : null;
      // A closed connection's getStats() rejects: no rate that second.
      Promise.resolve(now).catch(() => null).then((n) => {
        const at = performance.now();
        const kbps = n !== null && last !== null && n >= last.n ? Math.round(((n - last.n) * 8) / (at - last.at)) : null;
        last = n === null ? null : { n, at };
        if (live && transport) onTransport(transport, kbps);
      });
    }, 1000);
    const using = (name, counter) => {
      transport = name;
      bytes = counter;
      last = null;
      if (mine()) video.dataset.state = name;
      onTransport(name, null);
    };
    const stop = () => {
      live = false;
      clearInterval(report);
    };
    const mjpeg = () => {
      stop();
      video.dataset.state = 'mjpeg';
      onMjpeg();
    };

    async function webrtc() {
      let fruitless = 0;
      while (live && fruitless < WEBRTC_TRIES) {
        let session;
        try {
          session = await connect(video, urls.whep, mine);
        } catch (err) {
          if (err instanceof Permanent) return false;
          // The server is away (restarting): every transport would fail alike, so WebRTC is asked again.
          await sleep(RETRY_MS);
          continue;
        }
        using('webrtc', async () => {
          const stats = await session.pc.getStats();
          let n = null;
          stats.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') n = r.bytesReceived; });
          return n;
        });
        const played = await ended(video, () => ['failed', 'closed'].includes(session.pc.connectionState), () => live);
        fruitless = played ? 0 : fruitless + 1;
        if (mine()) video.dataset.state = 'reconnecting';
        session.pc.close();
        if (mine()) video.srcObject = null;
        fetch(session.resource, { method: 'DELETE' }).catch(() => {});
        if (live) await sleep(RETRY_MS);
      }
      return true;
    }

    async function mp4() {
      for (;;) {
        let broken = false;
        const onError = () => { broken = true; };
        video.addEventListener('error', onError, { once: true });
        video.src = urls.mp4;
        video.play().catch(() => {});
        // Chromium counts the bytes it has decoded; other browsers show no rate.
        using('mp4', () => (typeof video.webkitVideoDecodedByteCount === 'number' ? video.webkitVideoDecodedByteCount : null));
        await ended(video, () => broken, () => live);
        video.removeEventListener('error', onError);
        if (!mine()) return;
        video.removeAttribute('src');
        video.load();
        if (!live) return;
        // The browser plays H.264 in MP4 (canPlayType said so): a stream that ended is asked for again.
        video.dataset.state = 'reconnecting';
        await sleep(RETRY_MS);
      }
    }

    (async () => {
      if (hasWebrtc() && !(await webrtc())) return mjpeg();
      if (!live) return;
      if (urls.mp4 && hasMp4(video)) return mp4();
      mjpeg();
    })();
    return stop;
  }

  window.edgecamH264 = { play };

  // A <video data-whep> on its own (a page of its own, or a tile): played, with the MJPEG <img> as the last resort.
  for (const video of document.querySelectorAll('video[data-whep]')) {
    play(video, { whep: video.dataset.whep, mp4: video.dataset.mp4 }, {
      onTransport: (name, kbps) => { video.dataset.transport = transportText(name, kbps); },
      onMjpeg: () => {
        const img = document.createElement('img');
        img.src = video.dataset.mjpeg;
        img.alt = video.title || 'camera';
        img.className = video.className;
        if (video.id) img.id = video.id + '-mjpeg';
        video.replaceWith(img);
      },
    });
  }
  /** "WebRTC \\u00b7 480 kbit/s", as the page shows under a view. */
  function transportText(name, kbps) {
    const label = { webrtc: 'WebRTC', mp4: 'MP4', mjpeg: 'MJPEG' }[name] || name;
    return kbps === null ? label : label + ' \\u00b7 ' + kbps + ' kbit/s';
  }
  window.edgecamH264.transportText = transportText;
})();
`;

/** The CSP source for the inline script: `script-src 'sha256-…'`. */
export const H264_PLAYER_SCRIPT_HASH = `'sha256-${createHash('sha256').update(H264_PLAYER_SCRIPT).digest('base64')}'`;


/** The <video> the player script drives: WHEP at `whepUrl`, then live MP4 at `mp4Url` (if given), the MJPEG stream at `mjpegUrl` last. */
export function h264VideoElement(id: string, whepUrl: string, mjpegUrl: string, title: string, mp4Url?: string): string {
  const mp4 = mp4Url === undefined ? '' : ` data-mp4="${escapeHtml(mp4Url)}"`;
  return `<video id="${escapeHtml(id)}" data-whep="${escapeHtml(whepUrl)}"${mp4} data-mjpeg="${escapeHtml(mjpegUrl)}" title="${escapeHtml(title)}" autoplay muted playsinline></video>`;
}
