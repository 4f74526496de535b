// A certificate's SHA-256 fingerprint as people copy it: the server's banner (`AB:CD:…`),
// openssl's `sha256 Fingerprint=AB:CD:…`, or bare hex. Client and gateway pin TLS by it.

/** `AB:CD:…` (upper case, colons) from any of those forms; undefined for anything else. */
export function parseFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/^(sha-?256\s*(fingerprint)?\s*[=:]?\s*)/i, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-f]{64}$/i.test(hex)) return undefined;
  return hex.toUpperCase().match(/../g)!.join(':');
}
