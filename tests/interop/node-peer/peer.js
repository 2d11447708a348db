// SPDX-License-Identifier: GPL-2.0-or-later
// An independent SMPP peer for the interop tests: an SMSC built on the npm package `smpp`
// (node-smpp), not on our code. It accepts one account, answers submit_sm with increasing
// message ids, answers a command packet (UDH IE 70, PoR requested in SPI2) with an unsecured PoR
// deliver_sm from the destination that echoes TAR and CNTR, and sends a delivery receipt
// (receipted_message_id, message_state, the submit's user_message_reference) when
// registered_delivery asks for one. Every PDU in and out is one JSON line on stdout.
//
//   node peer.js --port N [--system-id OTAGW] [--password otapass]
'use strict';
const smpp = require('smpp');

const args = { port: 0, 'system-id': 'OTAGW', password: 'otapass' };
for (let i = 2; i < process.argv.length; i += 2)
    args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

function log(direction, pdu) {
    const fields = { dir: direction, command: pdu.command, seq: pdu.sequence_number,
                     status: pdu.command_status };
    if (pdu.short_message !== undefined) {
        const sm = pdu.short_message;
        fields.short_message = Buffer.isBuffer(sm) ? sm.toString('hex') : sm;
    }
    console.log(JSON.stringify(fields));
}

// The raw short_message bytes, whatever node-smpp made of them.
function rawUserData(pdu) {
    const sm = pdu.short_message;
    if (Buffer.isBuffer(sm))
        return sm;
    if (sm && Buffer.isBuffer(sm.message)) {
        const udh = sm.udh ? Buffer.concat([Buffer.from([sm.udh.reduce((n, ie) => n + ie.length, 0)]),
                                            ...sm.udh]) : Buffer.alloc(0);
        return Buffer.concat([udh, sm.message]);
    }
    return null;
}

// TS 31.115 response packet without security: UDH 027100, RPL, RHL 0A, TAR, CNTR, PCNTR 00,
// status 00 (PoR OK), and a compact response: 1 command executed, SW 9000.
function porFor(command) {
    const tar = command.subarray(7, 10); // CPL(2) CHL SPI(2) KIc KID | TAR | CNTR
    const cntr = command.subarray(10, 15);
    const data = Buffer.from([0x01, 0x90, 0x00]);
    const rpl = Buffer.alloc(2);
    rpl.writeUInt16BE(1 + 10 + data.length);
    return Buffer.concat([Buffer.from([0x02, 0x71, 0x00]), rpl, Buffer.from([0x0a]), tar, cntr,
                          Buffer.from([0x00, 0x00]), data]);
}

let nextId = 1;
const server = smpp.createServer((session) => {
    let bound = false;
    const send = (pdu) => { log('out', pdu); session.send(pdu); };
    const bind = (pdu) => {
        log('in', pdu);
        let status = 0;
        if (bound) status = smpp.ESME_RALYBND;
        else if (pdu.system_id !== args['system-id']) status = smpp.ESME_RINVSYSID;
        else if (pdu.password !== args.password) status = smpp.ESME_RINVPASWD;
        bound = bound || status === 0;
        send(pdu.response({ command_status: status, system_id: 'NODE-PEER' }));
    };
    session.on('bind_transceiver', bind);
    session.on('bind_transmitter', bind);
    session.on('bind_receiver', bind);
    session.on('enquire_link', (pdu) => { log('in', pdu); send(pdu.response()); });
    session.on('unbind', (pdu) => { log('in', pdu); send(pdu.response()); session.close(); });
    session.on('deliver_sm_resp', (pdu) => log('in', pdu));
    session.on('submit_sm', (pdu) => {
        log('in', pdu);
        if (!bound) { send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS })); return; }
        const id = String(nextId++).padStart(8, '0');
        send(pdu.response({ message_id: id }));
        const ud = rawUserData(pdu);
        if (ud && ud.length > 3 + 13 && ud[0] === 0x02 && ud[1] === 0x70 && (ud[3 + 4] & 0x03) !== 0) {
            send(new smpp.PDU('deliver_sm', {
                source_addr_ton: pdu.dest_addr_ton, source_addr_npi: pdu.dest_addr_npi,
                source_addr: pdu.destination_addr,
                dest_addr_ton: pdu.source_addr_ton, dest_addr_npi: pdu.source_addr_npi,
                destination_addr: pdu.source_addr,
                esm_class: 0x40, protocol_id: 0x7f, data_coding: 0xf6,
                short_message: porFor(ud.subarray(3)),
            }));
        }
        if (pdu.registered_delivery & 0x01) {
            const fields = {
                source_addr: pdu.destination_addr, destination_addr: pdu.source_addr,
                esm_class: 0x04,
                short_message: 'id:' + id + ' sub:001 dlvrd:001 submit date:2601010000 ' +
                               'done date:2601010000 stat:DELIVRD err:000 text:',
                receipted_message_id: id, message_state: 2,
            };
            if (pdu.user_message_reference !== undefined)
                fields.user_message_reference = pdu.user_message_reference;
            send(new smpp.PDU('deliver_sm', fields));
        }
    });
    session.on('unknown', (pdu) => {
        log('in', pdu);
        send(new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number,
                                            command_status: smpp.ESME_RINVCMDID }));
    });
    session.on('error', () => session.close());
});

server.listen(Number(args.port), '127.0.0.1', () => {
    console.log('listening ' + server.address().port);
});
