// SPDX-License-Identifier: GPL-2.0-or-later
// A TLS front for a plain HTTP server, for tests: node tls_proxy.js KEY CERT PORT TARGET_PORT.
// Listens on 127.0.0.1:PORT with the given key and certificate, forwards each connection to
// 127.0.0.1:TARGET_PORT, prints "ready" once listening, and stops after 120 s.
const fs = require('fs');
const net = require('net');
const tls = require('tls');
const [key, cert, port, target] = process.argv.slice(2);
const server = tls.createServer({key: fs.readFileSync(key), cert: fs.readFileSync(cert)}, (s) => {
    const plain = net.connect(Number(target), '127.0.0.1');
    s.pipe(plain).pipe(s);
    s.on('error', () => plain.destroy());
    plain.on('error', () => s.destroy());
});
server.listen(Number(port), '127.0.0.1', () => console.log('ready'));
setTimeout(() => process.exit(0), 120000).unref();
