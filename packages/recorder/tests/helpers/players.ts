/**
 * The other players the recorder promises to satisfy: OpenCV (Debian's python3-opencv, driven by
 * /usr/bin/python3) and VLC (Debian's vlc-bin and vlc-plugin-base). `npm test` installs both when
 * it can; the suites that need a missing one are skipped with the reason (tools/players.mjs).
 */
import { accessSync, constants } from 'node:fs';
import { type ProcessRun, run } from './run.js';

const PYTHON = process.env['EDGECAM_OPENCV_PYTHON'] ?? '/usr/bin/python3';

// Reads every frame the way an OpenCV user would, and reports what OpenCV says of the file, then
// seeks to `seek` and reports where it landed. One JSON line per file.
const OPENCV_SCRIPT = `
import json, sys, cv2
api, seek, paths = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
for p in paths:
    cap = cv2.VideoCapture(p, api)
    out = {"path": p, "opened": cap.isOpened()}
    if cap.isOpened():
        out["backend"] = cap.getBackendName()
        out["frameCount"] = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        out["fps"] = cap.get(cv2.CAP_PROP_FPS)
        out["width"] = cap.get(cv2.CAP_PROP_FRAME_WIDTH)
        out["height"] = cap.get(cv2.CAP_PROP_FRAME_HEIGHT)
        n, shapes = 0, set()
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            n += 1
            shapes.add(frame.shape[:2])
        out["decoded"] = n
        out["shapes"] = sorted(shapes)
        if seek >= 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, seek)
            ok, frame = cap.read()
            out["seekRead"] = bool(ok)
            out["posAfterSeek"] = cap.get(cv2.CAP_PROP_POS_FRAMES)
    cap.release()
    print(json.dumps(out))
`;

export interface OpenCvReport {
  readonly path: string;
  readonly opened: boolean;
  readonly backend?: string;
  readonly frameCount?: number;
  readonly fps?: number;
  readonly width?: number;
  readonly height?: number;
  readonly decoded?: number;
  readonly shapes?: [number, number][];
  readonly seekRead?: boolean;
  readonly posAfterSeek?: number;
}

/** OpenCV's capture backends the tests name (cv2.CAP_FFMPEG, cv2.CAP_OPENCV_MJPEG). */
export const CAP_FFMPEG = 1900;
export const CAP_OPENCV_MJPEG = 2200;

export async function openCvRead(paths: string[], api: number, seek = -1): Promise<{ reports: OpenCvReport[]; stderr: string }> {
  const r = await run(PYTHON, ['-c', OPENCV_SCRIPT, String(api), String(seek), ...paths], 60_000);
  if (r.code !== 0) {
    throw new Error(`OpenCV (${PYTHON} with cv2) failed; install Debian's python3-opencv. ${r.stderr.trim()}`);
  }
  const reports = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as OpenCvReport);
  return { reports, stderr: r.stderr };
}

/** VLC refuses to run as root; as root the tests run it as nobody (the files must be readable). */
function vlcCommand(args: string[]): [string, string[]] {
  const cvlc = '/usr/bin/cvlc';
  try {
    accessSync(cvlc, constants.X_OK);
  } catch {
    throw new Error(`${cvlc} is missing; install Debian's vlc-bin and vlc-plugin-base`);
  }
  if (process.getuid?.() === 0) return ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', cvlc, ...args]];
  return [cvlc, args];
}

/**
 * Demux `file` with VLC and write the elementary stream (the JPEGs, concatenated) to `out`, from
 * `startSeconds` on (VLC seeks there through the file's index). VLC's raw stream output leaves out
 * the last frame of any AVI, ffmpeg's own included; the tests compare against that.
 */
export async function vlcExtract(file: string, out: string, startSeconds = 0): Promise<ProcessRun> {
  const args = ['-I', 'dummy', '--no-audio', '--play-and-exit', '-vv'];
  if (startSeconds > 0) args.push(`--start-time=${startSeconds}`);
  args.push(file, '--sout', `#std{access=file,mux=raw,dst=${out}}`);
  const [command, argv] = vlcCommand(args);
  // VLC wants a writable HOME for its settings.
  return run(command, argv, 60_000, { ...process.env, HOME: '/tmp' });
}

/** Split concatenated JPEGs at each SOI marker (FF D8 FF). */
export function splitJpegs(data: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = data.indexOf(0xff); i >= 0 && i + 2 < data.length; i = data.indexOf(0xff, i + 1)) {
    if (data[i + 1] === 0xd8 && data[i + 2] === 0xff) starts.push(i);
  }
  return starts.map((s, k) => data.subarray(s, starts[k + 1] ?? data.length));
}
