// h2c_server.js - an HTTP/2 cleartext server (prior knowledge, no upgrade) for test_http_h2.
// Prints "port=N" once listening; answers every request 204 after reading the body; counts
// sessions (connections) and streams, and prints "sessions=S streams=N" on stdout whenever a
// "stats" line arrives on stdin. Exits when stdin closes.
'use strict';
const http2 = require('http2');
let sessions = 0, streams = 0;
const server = http2.createServer();
server.on('session', () => { sessions++; });
server.on('stream', (stream, headers) => {
  streams++;
  stream.on('data', () => {});
  stream.on('end', () => {
    stream.respond({ ':status': 204, 'x-proto': 'h2c', 'x-webhook-id': headers['webhook-id'] || '' });
    stream.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write('port=' + server.address().port + '\n');
});
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    buf = buf.slice(i + 1);
    process.stdout.write('sessions=' + sessions + ' streams=' + streams + '\n');
  }
});
process.stdin.on('end', () => process.exit(0));
