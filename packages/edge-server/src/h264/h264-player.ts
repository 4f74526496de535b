// The page piece that plays a camera's H.264: a <video> that asks for WebRTC over WHEP, reconnects
// when the connection fails or stops delivering pictures (a server restart), and gives way to the
// MJPEG <img> when the browser has no WebRTC or the server offers no H.264 for the camera.
import { createHash } from 'node:crypto';
import { escapeHtml } from '@edgecam/runtime';

/** The player script; the page includes it once (inline with H264_PLAYER_SCRIPT_HASH in its CSP, or as /h264-player.js). */
export const H264_PLAYER_SCRIPT = `(() => {
  'use strict';
  const RETRY_MS = 1000;
  const STALL_MS = 4000;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  class Permanent extends Error {}

  function toMjpeg(video) {
    const img = document.createElement('img');
    img.src = video.dataset.mjpeg;
    img.alt = video.title || 'camera';
    img.className = video.className;
    if (video.id) img.id = video.id + '-mjpeg';
    video.replaceWith(img);
  }

  function gathered(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { if (pc.iceGatheringState === 'complete') resolve(); };
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 2000);
    });
  }

  async function connect(video) {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addEventListener('track', (e) => {
      // Live video: show each picture as soon as it is decoded rather than buffering for smoothness.
      if ('jitterBufferTarget' in e.receiver) e.receiver.jitterBufferTarget = 0;
      else e.receiver.playoutDelayHint = 0;
      video.srcObject = new MediaStream([e.track]);
      video.play().catch(() => {});
    });
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const url = video.dataset.whep;
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

  /** Resolves when the connection ends or no new picture was decoded for STALL_MS. */
  function ended(pc, video) {
    return new Promise((resolve) => {
      let frames = -1;
      let since = performance.now();
      const timer = setInterval(() => {
        const state = pc.connectionState;
        const now = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality().totalVideoFrames : 0;
        if (now !== frames) { frames = now; since = performance.now(); }
        if (state === 'failed' || state === 'closed' || performance.now() - since > STALL_MS * (frames > 0 ? 1 : 3)) {
          clearInterval(timer);
          resolve();
        }
      }, 250);
    });
  }

  async function play(video) {
    if (typeof RTCPeerConnection !== 'function') return toMjpeg(video);
    video.muted = true;
    for (;;) {
      let session;
      try {
        session = await connect(video);
      } catch (err) {
        if (err instanceof Permanent) return toMjpeg(video);
        await sleep(RETRY_MS);
        continue;
      }
      video.dataset.state = 'webrtc';
      await ended(session.pc, video);
      video.dataset.state = 'reconnecting';
      session.pc.close();
      fetch(session.resource, { method: 'DELETE' }).catch(() => {});
      await sleep(RETRY_MS);
    }
  }

  for (const video of document.querySelectorAll('video[data-whep]')) play(video);
})();
`;

/** The CSP source for the inline script: `script-src 'sha256-…'`. */
export const H264_PLAYER_SCRIPT_HASH = `'sha256-${createHash('sha256').update(H264_PLAYER_SCRIPT).digest('base64')}'`;


/** The <video> the player script drives: WHEP at `whepUrl`, the MJPEG stream at `mjpegUrl` as fallback. */
export function h264VideoElement(id: string, whepUrl: string, mjpegUrl: string, title: string): string {
  return `<video id="${escapeHtml(id)}" data-whep="${escapeHtml(whepUrl)}" data-mjpeg="${escapeHtml(mjpegUrl)}" title="${escapeHtml(title)}" autoplay muted playsinline></video>`;
}
