// The outside programs the interop tests drive: Debian's Chromium, OpenCV (python3-opencv), VLC,
// ffprobe (to check what a publisher sent) and mosquitto (an MQTT broker besides the in-process one)
// and systemd-analyze, which checks the shipped systemd unit.
// `npm test` installs the missing ones first where it can (tools/test.mjs, as root with apt-get);
// a test whose player is still missing is skipped with the reason, and CI counts a skip as a failure.
import { accessSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';

const PYTHON = process.env.EDGECAM_OPENCV_PYTHON ?? '/usr/bin/python3';

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Each player: how to tell it is here, and the Debian packages that bring it. */
export const PLAYERS = {
  chromium: { present: () => executable('/usr/bin/chromium'), packages: ['chromium'] },
  opencv: {
    present: () => spawnSync(PYTHON, ['-c', 'import cv2'], { stdio: 'ignore' }).status === 0,
    packages: ['python3-opencv'],
  },
  vlc: { present: () => executable('/usr/bin/cvlc'), packages: ['vlc-bin', 'vlc-plugin-base'] },
  ffprobe: { present: () => executable('/usr/bin/ffprobe'), packages: ['ffmpeg'] },
  mosquitto: { present: () => executable('/usr/sbin/mosquitto'), packages: ['mosquitto'] },
  // Checks the shipped systemd unit; installing the package does not make systemd PID 1.
  'systemd-analyze': { present: () => executable('/usr/bin/systemd-analyze'), packages: ['systemd'] },
};

const known = new Map();

/** Undefined when the player is installed, else why its tests cannot run and how to fix that. */
export function missingPlayer(name) {
  if (!known.has(name)) {
    const p = PLAYERS[name];
    known.set(
      name,
      p.present()
        ? undefined
        : `${name} is not installed: run \`apt-get install ${p.packages.join(' ')}\` as root (npm test does it when it can)`,
    );
  }
  return known.get(name);
}

/** A suite's title, with the reason appended when the suite is skipped for a missing player. */
export function titled(title, missing) {
  return missing === undefined ? title : `${title} [skipped: ${missing}]`;
}

/**
 * How the page tests launch Debian's Chromium with playwright-core. The flags keep it off a
 * network this machine does not have: without them it retries Google's hosts at every start.
 */
export const CHROMIUM_LAUNCH = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  timeout: 30_000,
};

/**
 * A page-side script (for playwright's page.evaluate) giving a digest of the pixels the <img>
 * with this id shows now, or '' while it shows nothing: a page test sees a live stream as the
 * digest changing.
 */
export function imageDigestScript(id) {
  return `(() => {
  const img = document.getElementById(${JSON.stringify(id)});
  if (!img.naturalWidth) return '';
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let hash = 0;
  for (let i = 0; i < data.length; i += 4) hash = (Math.imul(hash, 31) + data[i] + data[i + 1] * 7 + data[i + 2] * 13) >>> 0;
  return String(hash);
})()`;
}
