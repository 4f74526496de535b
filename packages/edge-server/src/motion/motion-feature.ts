// Motion detection as a camera feature: `motion:` per camera; its events go to the server's event
// bus (SSE, v2 EVENT, webhooks, MQTT), and the page shows each camera's latest one.
import { merge, share, tap, type Observable } from 'rxjs';
import type { CameraFeature, FeatureInstance } from '../camera/feature.js';
import type { CameraContext, CameraEvent } from '../contracts.js';
import { motionConfigSchema, type MotionConfig } from './motion-config.js';
import type { MotionDeps, MotionStatus, RunningMotion } from './start-motion.js';

/** What code (tests) may give motion detection besides its config. */
export interface MotionTuning {
  motion?: MotionDeps;
  /** More events of a camera that has `motion:`, going out beside its detector's (tests drive events this way). */
  motionEvents?: (camera: CameraContext) => Observable<CameraEvent> | undefined;
}

/** A camera's detector, its events (with any extra ones) and how many have started. */
export interface MotionInstance extends FeatureInstance {
  readonly events$: Observable<CameraEvent>;
  status(): MotionStatus;
  /** Events started since start, counted as they go to the bus. */
  started(): number;
}

const STYLE = '#motion { margin: .75rem; color: #fc5; overflow-wrap: anywhere; } #motion.stale { color: #888; }';

// The latest motion event of each camera, from the server's event stream (which reconnects by
// itself). While the stream is down the line says it is only the last known, since an event may
// have ended meanwhile.
const SCRIPT = `
(() => {
  const motion = document.getElementById('motion');
  if (!motion || !window.EventSource) return;
  const token = new URLSearchParams(location.search).get('token');
  const withToken = (url) => token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url;
  const visible = (text) => String(text).slice(0, 500)
    .replace(/[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]/g, (c) => '\\\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  const latest = new Map();
  let stale = false;
  const render = () => {
    if (latest.size === 0) return;
    const line = (m) => visible(m.camera) + (m.phase === 'end' ? ': motion ended ' + new Date(m.endedAt).toLocaleTimeString() : ': motion since ' + new Date(m.startedAt).toLocaleTimeString()) + ' (' + Math.round(m.score * 100) + '%)';
    motion.textContent = [...latest.values()].map(line).join(' \\u00b7 ') + (stale ? ' (last known: the event stream is down, reconnecting\\u2026)' : '');
    motion.classList.toggle('stale', stale);
    motion.hidden = false;
  };
  const onEvent = (e) => {
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    latest.set(ev.camera, ev);
    render();
  };
  let events;
  const open = () => {
    events = new EventSource(withToken('events'));
    for (const phase of ['start', 'update', 'end']) events.addEventListener(phase, onEvent);
    events.addEventListener('open', () => { stale = false; render(); });
    events.addEventListener('error', () => {
      stale = true;
      render();
      // Refused outright (an error status): the browser gives up, so try again later ourselves.
      if (events.readyState === EventSource.CLOSED) setTimeout(open, 5000);
    });
  };
  open();
})();
`;

export const motionFeature: CameraFeature<MotionConfig, MotionInstance, 'motion', 'motion'> = {
  key: 'motion',
  statusKey: 'motion',
  schema: motionConfigSchema.describe('detect motion on this camera; its events go to /events, v2 clients and events: outputs'),
  needsFfmpeg: () => true,
  start: async (camera, config, deps) => {
    const { startMotion } = await import('./start-motion.js');
    const tuning = deps.tuning as MotionTuning;
    const extra = tuning.motionEvents?.(camera);
    const detector: RunningMotion = startMotion(camera, config, { ffmpeg: deps.ffmpeg('motion detection'), ...tuning.motion });
    let started = 0;
    // Shared: the event bus and the recording (its motion stretches) both read it, counted once.
    const events$ = (extra ? merge(detector.events$, extra) : detector.events$).pipe(
      tap((e) => void (e.phase === 'start' && started++)),
      share(),
    );
    return { events$, status: () => detector.status(), close: () => detector.close(), started: () => started };
  },
  metrics: [
    { name: 'edgecam_motion_events', help: 'Motion events started since start, per camera.', read: (m) => m.started() },
    { name: 'edgecam_motion_frames_analysed', help: 'Frames analysed for motion since start, per camera.', read: (m) => m.status().analysed },
  ],
  serve: async () => ({ routes: [], page: () => ({ html: '<p id="motion" role="status" hidden></p>', style: STYLE, script: SCRIPT }) }),
};
