// GET /cams/NAME/recording.mp4?from=T&to=T (and /recording.mp4 for the default camera): a time
// range of an MP4-recording camera as one MP4 laid out on the fly from its segments by the
// recorder's join, which knows the output's size before a byte is read, so a <video> may ask for
// any byte range (seeking) and each is produced alone. The plan of a range is kept a little while:
// every range request of one playback then reads the same file, although the live segment grows.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Mp4JoinPlan, RecorderError, readMp4Join } from '@edgecam/recorder';
import { BASE_HEADERS, sendError } from '../http/responses.js';
import type { RecordingsStore } from './recordings-store.js';
import { INSTANT_FORMS, parseInstant, parseRange } from './recordings-range.js';

/** The longest range one request may name: planning reads every segment it covers. */
export const MAX_RANGE_MS = 24 * 3600_000;
/** Plans kept for the range requests of one playback; each is dropped this long after its last use. */
const PLAN_TTL_MS = 5 * 60_000;
const MAX_PLANS = 16;

interface CachedPlan {
  readonly plan: Mp4JoinPlan;
  usedAt: number;
}

/** Serves recording.mp4 over the stores; one per server (it keeps the recent plans). A reader stalled for stallTimeoutMs is cut off. */
export function recordingMp4Route(stallTimeoutMs: number): (store: RecordingsStore | undefined, camera: string, req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => Promise<void> {
  const plans = new Map<string, CachedPlan>();
  const planOf = async (store: RecordingsStore, key: string, from: number, to: number): Promise<Mp4JoinPlan> => {
    const now = Date.now();
    for (const [k, c] of plans) if (now - c.usedAt > PLAN_TTL_MS) plans.delete(k);
    const cached = plans.get(key);
    if (cached) {
      cached.usedAt = now;
      return cached.plan;
    }
    const plan = await store.planMp4(from, to);
    if (plans.size >= MAX_PLANS) plans.delete(plans.keys().next().value!);
    plans.set(key, { plan, usedAt: now });
    return plan;
  };

  return async (store, camera, req, res, query) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'METHOD_NOT_ALLOWED', 'recording.mp4 accepts GET, HEAD', { Allow: 'GET, HEAD' });
    const shown = JSON.stringify(camera.slice(0, 64));
    if (!store) return sendError(res, 404, 'NOT_FOUND', `camera ${shown} does not record; see GET /recordings for those that do`);
    const list = await store.list();
    const mp4 = list.filter((e) => e.format === 'mp4' && e.frames > 0);
    if (mp4.length === 0) {
      if (list.length > 0) return sendError(res, 404, 'NOT_FOUND', `${camera} records MJPEG as AVI, which recording.mp4 does not serve: replay it with /cams/${camera}/replay.mjpg?from=T, or set record.format: mp4 (with h264 on)`);
      return sendError(res, 404, 'NOT_FOUND', `${camera} has no MP4 recording yet; GET /recordings?camera=${camera} lists what it has`);
    }
    const fromText = query.get('from');
    const toText = query.get('to');
    const from = fromText === null ? mp4[0]!.startMs : parseInstant(fromText);
    if (from === undefined) return sendError(res, 400, 'BAD_REQUEST', `from=${fromText!.slice(0, 64)} is no time: give ${INSTANT_FORMS}`);
    const to = toText === null ? Math.max(...mp4.map((e) => e.endMs)) : parseInstant(toText);
    if (to === undefined) return sendError(res, 400, 'BAD_REQUEST', `to=${toText!.slice(0, 64)} is no time: give ${INSTANT_FORMS}`);
    if (to < from) return sendError(res, 400, 'BAD_REQUEST', `to (${new Date(to).toISOString()}) is before from (${new Date(from).toISOString()}): give to at or after from`);
    if (to - from > MAX_RANGE_MS) return sendError(res, 400, 'BAD_REQUEST', `from to to spans ${Math.round((to - from) / 3600_000)} hours, more than the ${MAX_RANGE_MS / 3600_000} hours one request may cover: ask for shorter ranges one after the other`);
    let plan: Mp4JoinPlan;
    try {
      plan = await planOf(store, `${camera}\n${fromText ?? ''}\n${toText ?? ''}`, from, to);
    } catch (err) {
      if (!(err instanceof RecorderError)) throw err;
      if (err.code === 'NOT_MP4') return sendError(res, 404, 'NOT_FOUND', `no recording of ${camera} between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}; GET /recordings?camera=${camera} lists what there is`);
      if (err.code === 'SIZE_MISMATCH') return sendError(res, 409, 'CONFLICT', `${camera}'s H.264 changed (size or profile) inside that range, and one MP4 holds one kind: ask for the stretches before and after the change separately`);
      if (err.code === 'READ_FAILED') return sendError(res, 404, 'NOT_FOUND', `a segment of that range went away while it was read (retention or a deletion); ask again`);
      throw err;
    }
    const range = parseRange(req.headers.range, plan.size);
    if (range === 'unsatisfiable') return sendError(res, 416, 'RANGE_NOT_SATISFIABLE', `that recording.mp4 has ${plan.size} bytes`, { 'Content-Range': `bytes */${plan.size}` });
    const [start, end] = range ?? [0, plan.size - 1];
    res.writeHead(range ? 206 : 200, {
      ...BASE_HEADERS,
      // The same range may be laid out anew later (more recorded, retention): it is not cached.
      'Cache-Control': 'no-cache',
      'Content-Type': 'video/mp4',
      'Content-Length': end - start + 1,
      'Accept-Ranges': 'bytes',
      ETag: `"${plan.size.toString(16)}-${Math.round(plan.startMs).toString(16)}-${plan.frames.toString(16)}"`,
      'Content-Disposition': `inline; filename="${camera}_${new Date(plan.startMs).toISOString().replace(/[:.]/g, '-')}.mp4"`,
      'X-Recording-Start': String(Math.round(plan.startMs)),
      'X-Recording-Frames': String(plan.frames),
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${plan.size}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    let gone = false;
    res.once('close', () => (gone = true));
    try {
      for await (const chunk of readMp4Join(plan, start, end)) {
        if (gone) break;
        if (!res.write(chunk) && !(await drained(res, stallTimeoutMs))) {
          res.destroy();
          break;
        }
      }
      if (!gone && !res.destroyed) res.end();
    } catch {
      // Headers are out: a segment that went away (retention) cuts the answer short.
      res.destroy();
    }
  };
}

/** True once `res` drains, false if it stalls for `timeoutMs` or closes. */
export function drained(res: ServerResponse, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
