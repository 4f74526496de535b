#!/usr/bin/env node
// What the LAN tests run inside a namespace: one role each, reporting as JSON lines on stdout.
//   announce OPTIONS_JSON   announce() until SIGTERM; stdin lines `update a,b` change the cameras
//   browse OPTIONS_JSON     browse() once, print the servers (or the error) and exit
//   resolve NAME            resolve() once, print the result (or the error) and exit
//   listen                  print every record of every mDNS response heard, until SIGTERM
//   hostile                 answer every query with garbage and a flood of fake servers, until SIGTERM
//   host NAME ADDRESS       answer A queries for NAME with ADDRESS (a plain mDNS host, no edgecam service)
//   hold                    hold UDP 5353 without sharing it, until SIGTERM
//   oneshot NAME TYPE       one query from an ephemeral port (as dig does), print the unicast answer
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import makeMdns from 'multicast-dns';
import packet from 'dns-packet';
import { announce, browse, resolve } from '@edgecam/discovery';

const say = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const errorOf = (err) => ({ event: 'error', code: err.code, message: err.message });
const untilTerm = (close) => process.once('SIGTERM', async () => {
  await close();
  say({ event: 'closed' });
  process.exit(0);
});

const [role, arg, arg2] = process.argv.slice(2);
if (role === 'announce') {
  const a = announce({ ...JSON.parse(arg), onError: (err) => say(errorOf(err)), onAnnounced: (addresses) => say({ event: 'announced', addresses }) });
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [command, list] = line.split(' ');
    if (command === 'update') a.update(list.split(','));
  });
  untilTerm(() => a.close());
  say({ event: 'started' });
} else if (role === 'browse') {
  browse(JSON.parse(arg)).then((servers) => say({ event: 'servers', servers }), (err) => say(errorOf(err)));
} else if (role === 'resolve') {
  resolve(arg, { timeoutMs: 3000 }).then((r) => say({ event: 'resolved', ...r }), (err) => say(errorOf(err)));
} else if (role === 'listen') {
  const m = makeMdns();
  m.on('warning', () => undefined);
  m.on('response', (r) => say({ event: 'records', records: [...r.answers, ...r.additionals].map((x) => ({ name: x.name, type: x.type, ttl: x.ttl })) }));
  m.on('ready', () => say({ event: 'listening' }));
  untilTerm(() => new Promise((r) => m.destroy(r)));
} else if (role === 'hostile') {
  const m = makeMdns();
  const raw = createSocket({ type: 'udp4', reuseAddr: true });
  m.on('warning', () => undefined);
  let floods = 0;
  m.on('query', () => {
    // Bytes that are no DNS packet at all, then a TXT far past any limit, then hundreds of fake servers.
    raw.send(Buffer.from('\u001b[2Jnot a dns packet\u0000\u00ff'.repeat(20)), 5353, '224.0.0.251');
    const txt = Array.from({ length: 3000 }, (_, i) => Buffer.from(`c${i}=\u001b[31m${'z'.repeat(8)}`));
    m.respond([
      { name: '_edgecam._tcp.local', type: 'PTR', ttl: 120, data: 'huge._edgecam._tcp.local' },
      { name: 'huge._edgecam._tcp.local', type: 'TXT', ttl: 120, data: txt },
    ]);
    for (let i = 0; i < 50; i++) {
      const name = `fake-${floods}-${i}\u001b[2J`;
      m.respond([
        { name: '_edgecam._tcp.local', type: 'PTR', ttl: 120, data: `${name}._edgecam._tcp.local` },
        { name: `${name}._edgecam._tcp.local`, type: 'SRV', ttl: 120, data: { port: 1000 + i, target: `fake-${i}.local` } },
        { name: `fake-${i}.local`, type: 'A', ttl: 120, data: '10.77.0.99' },
      ]);
    }
    floods++;
    say({ event: 'flooded', floods });
  });
  m.on('ready', () => say({ event: 'ready' }));
  untilTerm(() => new Promise((r) => m.destroy(() => raw.close(r))));
} else if (role === 'host') {
  const m = makeMdns();
  m.on('warning', () => undefined);
  m.on('query', (q) => {
    if (q.questions.some((x) => x.name.toLowerCase() === arg && x.type === 'A')) m.respond([{ name: arg, type: 'A', ttl: 120, data: arg2 }]);
  });
  m.on('ready', () => say({ event: 'ready' }));
  untilTerm(() => new Promise((r) => m.destroy(r)));
} else if (role === 'hold') {
  const s = createSocket({ type: 'udp4', reuseAddr: false });
  s.bind(5353, () => say({ event: 'holding' }));
  untilTerm(() => new Promise((r) => s.close(r)));
} else if (role === 'oneshot') {
  const s = createSocket('udp4');
  s.on('message', (bytes, rinfo) => {
    const p = packet.decode(bytes);
    say({ event: 'answer', from: rinfo.address, id: p.id, questions: p.questions, answers: p.answers.map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, data: r.data })) });
    s.close();
  });
  s.bind(0, () => s.send(packet.encode({ type: 'query', id: 4242, questions: [{ name: arg, type: arg2 }] }), 5353, '224.0.0.251'));
} else {
  say({ event: 'error', code: 'USAGE', message: `unknown role ${role}` });
  process.exit(2);
}
