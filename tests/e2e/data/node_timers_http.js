// Node.js event loop under rrx: timers (setTimeout, setInterval, setImmediate),
// promises and a loopback HTTP server on 127.0.0.1 (port chosen by the kernel)
// queried with http.get. Prints only deterministic text (no ports, no times).
'use strict';
const http = require('http');

const log = [];
function say(s) { log.push(s); console.log(s); }

function timers() {
  return new Promise((resolve) => {
    let ticks = 0;
    const iv = setInterval(() => {
      ticks += 1;
      if (ticks === 3) {
        clearInterval(iv);
        say('interval ticked 3 times');
        resolve();
      }
    }, 2);
    setTimeout(() => {
      say('timeout 1ms');
      // From a timer callback, the immediate runs before any later timer.
      setTimeout(() => say('timeout 0 after the immediate'), 0);
      setImmediate(() => say('immediate'));
    }, 1);
    Promise.resolve().then(() => say('microtask'));
    process.nextTick(() => say('nextTick'));
  });
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    }).on('error', reject);
  });
}

async function server() {
  let served = 0;
  const srv = http.createServer((req, res) => {
    served += 1;
    const n = Number(req.url.slice(1)) || 0;
    setTimeout(() => {
      res.writeHead(n < 0 ? 404 : 200, { 'Content-Type': 'text/plain' });
      res.end(n < 0 ? 'no such number' : `square of ${n} is ${n * n}`);
    }, n % 3);
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = srv.address().port;
  const seq = [];
  for (const n of [1, 2, 3]) seq.push(await get(port, `/${n}`));
  const par = await Promise.all([7, 8, 9, -1].map((n) => get(port, `/${n}`)));
  await new Promise((resolve) => srv.close(resolve));
  say(`sequential: ${seq.join('; ')}`);
  say(`parallel: ${par.join('; ')}`);
  say(`served ${served} requests`);
}

(async () => {
  await timers();
  await server();
  const sum = await [1, 2, 3, 4].reduce(async (acc, x) => (await acc) + x, Promise.resolve(0));
  say(`async sum ${sum}`);
  console.error('stderr: done');
})();
