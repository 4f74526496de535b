// A stand-in for ffmpeg in tests: answers the v4l2 and file probes with canned text, records its
// command line, and streams one JPEG as mpjpeg at a steady rate. A camera can be "unplugged"
// (while a flag file exists it fails as ffmpeg does on a missing device) or "wedged" (while
// another flag file exists it stays alive and writes nothing). Options come from a JSON file
// named by the first argument (the generated wrapper script passes it).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

const [configPath, ...args] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, 'utf8'));
if (config.argsLog) appendFileSync(config.argsLog, JSON.stringify({ pid: process.pid, args }) + '\n');

if (args.includes('-list_formats')) {
  process.stderr.write(config.v4l2Formats ?? '');
  process.exit(1);
}
if (args.at(-1) !== 'pipe:1') {
  process.stderr.write(config.probe ?? '');
  process.exit(1);
}
// Like ffmpeg, name a network input on stderr, password and all.
if (args.includes('-rtsp_transport')) process.stderr.write(`Input #0, rtsp, from '${args[args.indexOf('-i') + 1]}':\n`);
if (config.ignoreTerm) process.on('SIGTERM', () => process.stderr.write('fake ffmpeg ignores SIGTERM\n'));
const unplugged = () => config.unpluggedFlag && existsSync(config.unpluggedFlag);
const wedged = () => config.wedgedFlag && existsSync(config.wedgedFlag);
if (unplugged()) {
  process.stderr.write('[video4linux2,v4l2 @ 0x1] Cannot open video device /dev/video0: No such device\n');
  process.exit(1);
}
if (config.failImmediately) {
  process.stderr.write('fake ffmpeg: /dev/video9: No such file or directory\n');
  process.exit(1);
}

const jpeg = readFileSync(config.jpeg);
const head = Buffer.from(`Content-type: image/jpeg\r\nContent-length: ${jpeg.length}\r\n\r\n`);
const tail = Buffer.from('\r\n--ffmpeg\r\n');
process.stdout.on('error', () => process.exit(0));
process.stdout.write('--ffmpeg\r\n');
let sent = 0;
setInterval(() => {
  if (unplugged()) {
    process.stderr.write('[video4linux2,v4l2 @ 0x1] ioctl(VIDIOC_DQBUF): No such device\n');
    process.exit(1);
  }
  if (wedged()) return;
  process.stdout.write(Buffer.concat([head, jpeg, tail]));
  sent++;
  if (config.dieAfterFrames && sent >= config.dieAfterFrames) {
    process.stderr.write(`fake ffmpeg dies after ${sent} frames\n`);
    process.exit(3);
  }
}, 1000 / (config.fps ?? 30));
