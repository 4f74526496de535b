// Camera URLs carry passwords (`rtsp://admin:secret@cam/…`); anything that prints a URL, an ffmpeg
// command line or ffmpeg's own stderr goes through maskUrlPasswords first.

// scheme://user:password@ — the user stays visible so a log still says which account was tried.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^/@\s:]*):[^@\s/]*@/gi;

/** The text with the password of every URL in it replaced by `***`. */
export function maskUrlPasswords(text: string): string {
  return text.replace(URL_PASSWORD, '$1:***@');
}

/** A user name and password for a camera (HTTP Basic, or the RTSP URL's). */
export interface CameraCredentials {
  username: string;
  password: string;
}

/** The URL with credentials put in (replacing any it had). */
export function withCredentials(url: URL, credentials: CameraCredentials | undefined): URL {
  if (!credentials) return url;
  const out = new URL(url.href);
  out.username = encodeURIComponent(credentials.username);
  out.password = encodeURIComponent(credentials.password);
  return out;
}

// C0 and C1 controls, DEL, and the Unicode separators and direction overrides that can split or
// reorder a log line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text a camera sent, shortened and with control characters made visible, for errors and /status. */
export function peerText(text: string, max = 80): string {
  const short = text.length > max ? `${text.slice(0, max)}…` : text;
  return short.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
