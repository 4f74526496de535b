// The DNS records that announce one edgecam server, built from its description (pure): what the
// responder sends at start, answers to queries, and sends again with TTL 0 as its goodbye.
import { isIP } from 'node:net';
import type { Answer, Question } from 'dns-packet';
import { EDGECAM_SERVICE, HTTP_SERVICE, SERVICE_TYPES, hostTarget, instanceName, sameName } from './names.js';
import { encodeEdgecamTxt, encodeHttpTxt, type EdgecamTxt } from './txt-record.js';

/** RFC 6762, 10: records naming a host (SRV, A, AAAA) live 120 s, the others 75 minutes. */
export const HOST_TTL = 120;
export const OTHER_TTL = 4500;

/** One server as announced. */
export interface Announced extends EdgecamTxt {
  /** The instance name (one label). */
  name: string;
  tcpPort: number;
  /** Where the server can be reached: every address of the machine it listens on. */
  addresses: readonly string[];
}

/** Every record of the announcement, or the same with TTL 0 (a goodbye). */
export function allRecords(a: Announced, goodbye = false): Answer[] {
  const records = [...serviceRecords(a, EDGECAM_SERVICE), ...(a.httpPort !== null ? serviceRecords(a, HTTP_SERVICE) : []), ...addressRecords(a)];
  return goodbye ? records.map((r) => ({ ...r, ttl: 0 })) : records;
}

/** PTR, SRV and TXT of one service type. */
function serviceRecords(a: Announced, service: string): Answer[] {
  const full = instanceName(a.name, service);
  const edgecam = service === EDGECAM_SERVICE;
  return [
    { name: service, type: 'PTR', ttl: OTHER_TTL, data: full },
    // Unique records carry the cache-flush bit: a peer replaces what it held for them.
    { name: full, type: 'SRV', ttl: HOST_TTL, flush: true, data: { port: edgecam ? a.tcpPort : (a.httpPort ?? 0), target: hostTarget(a.name), priority: 0, weight: 0 } },
    { name: full, type: 'TXT', ttl: OTHER_TTL, flush: true, data: edgecam ? encodeEdgecamTxt(a) : encodeHttpTxt(a.path) },
  ];
}

function addressRecords(a: Announced): Answer[] {
  const target = hostTarget(a.name);
  return a.addresses.map((address): Answer => ({ name: target, type: isIP(address) === 6 ? 'AAAA' : 'A', ttl: HOST_TTL, flush: true, data: address }));
}

/**
 * The answers to a query's questions, and the records a querier will want next (RFC 6763, 12):
 * a PTR brings its SRV, TXT and addresses along, an SRV its addresses. Empty when nothing is ours.
 */
export function answersTo(a: Announced, questions: readonly Question[]): { answers: Answer[]; additionals: Answer[] } {
  const all = allRecords(a);
  const answers: Answer[] = [];
  // dns-packet names type 255 `ANY`, which its types leave out.
  const any = (q: Question) => (q.type as string) === 'ANY';
  const wanted = (q: Question, r: Answer) => sameName(q.name, r.name) && (any(q) || q.type === r.type);
  for (const q of questions) {
    for (const r of all) if (wanted(q, r) && !answers.includes(r)) answers.push(r);
    if (sameName(q.name, SERVICE_TYPES) && (q.type === 'PTR' || any(q))) {
      for (const service of a.httpPort !== null ? [EDGECAM_SERVICE, HTTP_SERVICE] : [EDGECAM_SERVICE]) {
        answers.push({ name: SERVICE_TYPES, type: 'PTR', ttl: OTHER_TTL, data: service });
      }
    }
  }
  const named = new Set(answers.flatMap((r) => (r.type === 'PTR' ? [r.data.toLowerCase()] : r.type === 'SRV' ? [r.data.target.toLowerCase()] : [])));
  // An SRV reached through a PTR names the host too.
  for (const r of all) if (r.type === 'SRV' && named.has(r.name.toLowerCase())) named.add(r.data.target.toLowerCase());
  const additionals = all.filter((r) => !answers.includes(r) && named.has(r.name.toLowerCase()));
  return { answers, additionals };
}
