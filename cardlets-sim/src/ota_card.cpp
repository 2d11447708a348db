// SPDX-License-Identifier: GPL-2.0-or-later
// Card-side secured packets (ETSI TS 102 225 / 3GPP TS 31.115) and remote APDU scripts
// (ETSI TS 102 226), written for the simulated card independently of the gateway's codec.
#include "otagw/sim/ota_card.hpp"

#include <cstring>

#include "otagw/common/crypto.hpp"
#include "otagw/common/tlv.hpp"

namespace otagw::sim {

namespace {

constexpr uint64_t kCounterMax = 0xffffffffffULL;

// Length of the RC/CC/DS field for the integrity bits of an SPI byte and a KID, or -1.
int checksum_length(uint8_t integrity, uint8_t kid) {
    switch (integrity) {
    case 0:
        return 0;
    case 1: // RC: KID b2b1 '01' CRC, b4b3 '00' CRC-16 / '01' CRC-32 (TS 102 225 §5.1.3.2)
        if ((kid & 0x03) != 0x01)
            return -1;
        return ((kid >> 2) & 0x03) == 0 ? 2 : ((kid >> 2) & 0x03) == 1 ? 4 : -1;
    case 2:
        return algo_named_by(kid) ? 8 : -1;
    default:
        return -1; // DS: not on this card
    }
}

// RC or CC over `parts` with this keyset (CC: CBC-MAC zero-padded for DES, CMAC for AES).
bool checksum(uint8_t integrity, uint8_t kid, const Keyset* keys, crypto::Parts parts,
              uint8_t* out) {
    if (integrity == 1) {
        if (((kid >> 2) & 0x03) == 0) {
            store_be16(out, crypto::crc16(parts));
        } else {
            const uint32_t c = crypto::crc32(parts);
            for (int i = 0; i < 4; i++)
                out[i] = static_cast<uint8_t>(c >> (24 - 8 * i));
        }
        return true;
    }
    if (!keys)
        return false;
    uint8_t mac[crypto::kMaxBlockSize];
    if (keys->algo == crypto::BlockAlgo::Aes) {
        auto cmac = crypto::Cmac::create(keys->algo, keys->kid);
        if (!cmac)
            return false;
        cmac->compute(parts, mac);
    } else {
        auto c = crypto::BlockCipher::create(keys->algo, keys->kid);
        if (!c)
            return false;
        crypto::cbc_mac(*c, parts, mac);
    }
    std::memcpy(out, mac, 8);
    return true;
}

void put_counter(uint8_t* p, uint64_t v) {
    for (int i = 4; i >= 0; i--, v >>= 8)
        p[i] = static_cast<uint8_t>(v);
}

uint64_t get_counter(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 0; i < 5; i++)
        v = v << 8 | p[i];
    return v;
}

int integrity_rank(uint8_t spi1) {
    return spi1 & 0x03;
}

// TS 102 226 §6.1: the TAR's minimum security level, coded as the first SPI byte.
bool meets_msl(uint8_t spi1, uint8_t msl) {
    if (integrity_rank(spi1) < integrity_rank(msl))
        return false;
    if ((msl & 0x04) && !(spi1 & 0x04))
        return false;
    const int need = (msl >> 3) & 0x03, got = (spi1 >> 3) & 0x03;
    return got >= need;
}

// Instructions whose P3 is Le (ISO/IEC 7816-4 case 2), and those that may end with an Le.
bool p3_is_le(uint8_t ins) {
    switch (ins) {
    case 0xb0:
    case 0xb2:
    case 0xc0:
    case 0x84:
    case 0x50:
    case 0x56:
    case 0x64:
    case 0x72:
        return true;
    default:
        return false;
    }
}
bool may_have_le(uint8_t ins) {
    switch (ins) {
    case 0xa4:
    case 0xe6:
    case 0xe8:
    case 0xe4:
    case 0xf2:
    case 0xe2:
    case 0xd8:
    case 0xca:
        return true;
    default:
        return false;
    }
}
bool known_cla(uint8_t b) {
    return b == 0x00 || b == 0x80 || b == 0x84 || b == 0xa0;
}

} // namespace

// TS 102 225 §5.1.2 / §5.1.3.1: b2b1 '01' DES family (b4b3: DES, 3DES-2, 3DES-3), '10' AES.
std::optional<crypto::BlockAlgo> algo_named_by(uint8_t b) {
    if ((b & 0x03) == 0x01) {
        switch ((b >> 2) & 0x03) {
        case 0:
            return crypto::BlockAlgo::Des;
        case 1:
            return crypto::BlockAlgo::TripleDes2Key;
        case 2:
            return crypto::BlockAlgo::TripleDes3Key;
        default:
            return std::nullopt;
        }
    }
    if ((b & 0x03) == 0x02 && ((b >> 2) & 0x03) == 0)
        return crypto::BlockAlgo::Aes;
    return std::nullopt;
}

bool split_compact_script(ByteView s, std::vector<CApdu>& out) {
    size_t pos = 0;
    while (pos < s.size()) {
        if (s.size() - pos < 5)
            return false;
        CApdu a{s[pos], s[pos + 1], s[pos + 2], s[pos + 3], {}, std::nullopt};
        const size_t p3 = s[pos + 4];
        pos += 5;
        if (p3_is_le(a.ins) || p3 == 0) {
            a.le = static_cast<uint8_t>(p3);
        } else {
            if (s.size() - pos < p3)
                return false;
            a.data.assign(s.begin() + static_cast<long>(pos),
                          s.begin() + static_cast<long>(pos + p3));
            pos += p3;
            if (may_have_le(a.ins) && pos < s.size() &&
                (pos + 1 == s.size() || known_cla(s[pos + 1]))) {
                a.le = s[pos];
                pos++;
            }
        }
        out.push_back(std::move(a));
    }
    return !out.empty();
}

bool parse_capdu(ByteView v, CApdu& a) {
    if (v.size() < 4)
        return false;
    a = CApdu{v[0], v[1], v[2], v[3], {}, std::nullopt};
    if (v.size() == 4)
        return true;
    if (v.size() == 5) {
        a.le = v[4];
        return true;
    }
    const size_t lc = v[4];
    if (lc == 0 || (v.size() != 5 + lc && v.size() != 6 + lc))
        return false;
    a.data.assign(v.begin() + 5, v.begin() + 5 + static_cast<long>(lc));
    if (v.size() == 6 + lc)
        a.le = v.back();
    return true;
}

namespace {

bool continues(uint16_t sw) {
    const uint8_t sw1 = sw >> 8;
    return sw == 0x9000 || sw1 == 0x61 || sw1 == 0x62 || sw1 == 0x63;
}

Bytes expanded_response(bool indefinite, uint8_t executed, const std::vector<RApdu>& results,
                        std::optional<uint8_t> bad_format) {
    Bytes body;
    tlv::append_ber_tlv(body, 0x80, ByteView(&executed, 1));
    for (const RApdu& r : results) {
        Bytes v = r.data;
        append_be16(v, r.sw);
        tlv::append_ber_tlv(body, 0x23, v);
    }
    if (bad_format) {
        const uint8_t b = *bad_format;
        tlv::append_ber_tlv(body, 0x90, ByteView(&b, 1));
    }
    if (!indefinite)
        return tlv::ber_tlv(0xab, body);
    Bytes out{0xaf, 0x80};
    append(out, body);
    append_bytes(out, {0x00, 0x00});
    return out;
}

} // namespace

Bytes run_script(ByteView script, const std::function<RApdu(const CApdu&)>& execute) {
    if (!script.empty() && (script[0] == 0xaa || script[0] == 0xae)) {
        // Expanded format (TS 102 226 §5.2): C-APDU TLVs '22' inside the template.
        const bool indefinite = script[0] == 0xae;
        ByteView body;
        if (indefinite) {
            if (script.size() < 4 || script[1] != 0x80 || script[script.size() - 1] != 0 ||
                script[script.size() - 2] != 0)
                return expanded_response(true, 0, {}, 0x01);
            body = script.subspan(2, script.size() - 4);
        } else {
            size_t pos = 0;
            auto t = tlv::parse_ber_tlv(script, pos);
            if (!t || pos != script.size())
                return expanded_response(false, 0, {}, 0x01);
            body = t->value;
        }
        auto items = tlv::parse_ber_tlvs(body);
        if (!items)
            return expanded_response(indefinite, 0, {}, 0x01);
        std::vector<RApdu> results;
        uint8_t executed = 0;
        for (const auto& item : *items) {
            if (item.tag != 0x22)
                continue; // immediate action, error action, script chaining: nothing to do here
            CApdu a;
            if (!parse_capdu(item.value, a))
                return expanded_response(indefinite, executed, results, 0x02);
            results.push_back(execute(a));
            executed++;
            if (!continues(results.back().sw))
                break;
        }
        return expanded_response(indefinite, executed, results, std::nullopt);
    }
    // Compact format (TS 102 226 §5.1): executed count, last SW, last response data.
    std::vector<CApdu> commands;
    if (!split_compact_script(script, commands))
        return Bytes{0x00, 0x6a, 0x80}; // nothing executed: incorrect data
    uint8_t executed = 0;
    RApdu last = RApdu::status(0x9000);
    for (const CApdu& a : commands) {
        last = execute(a);
        executed++;
        if (!continues(last.sw))
            break;
    }
    Bytes out{executed};
    append_be16(out, last.sw);
    append(out, last.data);
    return out;
}

Result<Bytes> build_por(const PorFields& f, ByteView data) {
    // TS 31.115 §4.3: UDHL IEI(71) IEIDL | RPL RHL TAR CNTR PCNTR Status [RC/CC/DS] data [pad];
    // the checksum covers the UDH too, ciphering covers CNTR onwards. SPI2 (TS 102 225 §5.1.1):
    // b4b3 the PoR's RC/CC/DS, b5 its ciphering.
    const uint8_t integrity = f.in_clear ? 0 : static_cast<uint8_t>((f.spi2 >> 2) & 0x03);
    const int ilen = checksum_length(integrity, f.kid);
    if (ilen < 0)
        return make_error("PoR: the KID does not name the SPI's PoR checksum");
    if (integrity == 2 && (!f.check_keys || algo_named_by(f.kid) != f.check_keys->algo))
        return make_error("PoR: no KID key for the cryptographic checksum");
    const bool ciphered = !f.in_clear && (f.spi2 & 0x10);
    if (ciphered && (!f.cipher_keys || algo_named_by(f.kic) != f.cipher_keys->algo))
        return make_error("PoR: no KIc key for ciphering");
    size_t pad = 0;
    if (ciphered) {
        const size_t bs = crypto::block_size(f.cipher_keys->algo);
        pad = (bs - (7 + static_cast<size_t>(ilen) + data.size()) % bs) % bs;
    }
    const size_t rhl = 10 + static_cast<size_t>(ilen);
    const size_t rpl = 1 + rhl + data.size() + pad;
    Bytes ud(3 + 2 + rpl, 0);
    ud[0] = 0x02;
    ud[1] = 0x71;
    ud[2] = 0x00;
    store_be16(&ud[3], static_cast<uint16_t>(rpl));
    ud[5] = static_cast<uint8_t>(rhl);
    std::memcpy(&ud[6], f.tar.data(), 3);
    put_counter(&ud[9], f.counter);
    ud[14] = static_cast<uint8_t>(pad);
    ud[15] = f.status;
    uint8_t* d = &ud[16 + ilen];
    if (!data.empty())
        std::memcpy(d, data.data(), data.size());
    if (ilen > 0 && !checksum(integrity, f.kid, f.check_keys,
                              {ByteView(ud.data(), 16), ByteView(d, data.size() + pad)}, &ud[16]))
        return make_error("PoR: the KID key does not fit its algorithm");
    if (ciphered) {
        auto c = crypto::BlockCipher::create(f.cipher_keys->algo, f.cipher_keys->kic);
        if (!c)
            return make_error("PoR: the KIc key does not fit its algorithm");
        uint8_t iv[crypto::kMaxBlockSize] = {};
        c->cbc_encrypt(iv, &ud[9], &ud[9], ud.size() - 9);
    }
    return ud;
}

Result<CommandView> read_command_packet(ByteView p, const Keyset& cipher_keys,
                                        const Keyset& check_keys) {
    if (p.size() < 16 || load_be16(p.data()) != p.size() - 2)
        return make_error(
            "command packet: CPL does not match the length (or shorter than 16 bytes)");
    CommandView v;
    v.spi1 = p[3];
    v.spi2 = p[4];
    v.kic = p[5];
    v.kid = p[6];
    std::memcpy(v.tar.data(), p.data() + 7, 3);
    const int ilen = checksum_length(v.spi1 & 0x03, v.kid);
    if (ilen < 0 || p[2] != 13 + ilen)
        return make_error("command packet: CHL does not match the SPI and KID");
    Bytes body(p.begin() + 10, p.end());
    if (v.spi1 & 0x04) {
        auto algo = algo_named_by(v.kic);
        if (!algo || *algo != cipher_keys.algo)
            return make_error("command packet: the KIc does not name the keyset's algorithm");
        auto c = crypto::BlockCipher::create(cipher_keys.algo, cipher_keys.kic);
        if (!c)
            return make_error("command packet: the KIc key does not fit its algorithm");
        if (body.size() % c->block_size())
            return make_error("command packet: ciphered part is not a whole number of blocks");
        uint8_t iv[crypto::kMaxBlockSize] = {};
        c->cbc_decrypt(iv, body.data(), body.data(), body.size());
    }
    if (body.size() < 6 + static_cast<size_t>(ilen))
        return make_error("command packet: shorter than CNTR, PCNTR and its checksum");
    v.counter = get_counter(body.data());
    v.pcntr = body[5];
    ByteView padded(body.data() + 6 + ilen, body.size() - 6 - static_cast<size_t>(ilen));
    if ((v.spi1 & 0x03) == 2 && algo_named_by(v.kid) != check_keys.algo)
        return make_error("command packet: the KID does not name the keyset's algorithm");
    if (ilen > 0) {
        uint8_t expect[8];
        const bool computed = checksum(v.spi1 & 0x03, v.kid, &check_keys,
                                       {p.first(10), ByteView(body.data(), 6), padded}, expect);
        v.integrity = computed && equal_ct(ByteView(expect, static_cast<size_t>(ilen)),
                                           ByteView(body.data() + 6, static_cast<size_t>(ilen)))
                          ? "ok"
                          : "failed";
    } else {
        v.integrity = "absent";
    }
    if (v.pcntr > padded.size())
        return make_error("command packet: PCNTR exceeds the secured data");
    v.secured_data.assign(padded.begin(), padded.end() - v.pcntr);
    return v;
}

PorOutcome process_command_packet(Uicc& card, ByteView p) {
    PorOutcome out;
    if (p.size() < 16 || load_be16(p.data()) != p.size() - 2) {
        out.status = 0x06;
        out.error = "command packet header unreadable";
        return out; // without a readable SPI there is no PoR to send
    }
    const uint8_t spi1 = p[3], spi2 = p[4], kic = p[5], kid = p[6];
    std::memcpy(out.tar.data(), p.data() + 7, 3);
    out.via_submit = spi2 & 0x20;
    const uint8_t por_request = spi2 & 0x03;
    const bool ciphered = spi1 & 0x04;
    const uint8_t integrity = spi1 & 0x03;

    // Keysets copied: the script may replace them (PUT KEY) before the PoR goes out.
    std::optional<Keyset> cipher_keys, check_keys;
    if (Keyset* k = card.keyset(kic >> 4))
        cipher_keys = *k;
    if (Keyset* k = card.keyset(kid >> 4))
        check_keys = *k;
    uint64_t por_counter = 0;
    Bytes response;
    bool secured_por = true;

    auto conclude = [&](uint8_t status, const std::string& why) {
        out.status = status;
        out.error = why;
        out.por_wanted = por_request == 0x01 || (por_request == 0x02 && status != 0x00);
        if (!out.por_wanted)
            return out;
        PorFields f;
        f.spi2 = spi2;
        f.kic = kic;
        f.kid = kid;
        f.cipher_keys = cipher_keys ? &*cipher_keys : nullptr;
        f.check_keys = check_keys ? &*check_keys : nullptr;
        f.in_clear = !secured_por;
        f.tar = out.tar;
        f.counter = por_counter;
        f.status = status;
        auto por = build_por(f, response);
        if (!por) { // cannot secure it as asked: answer in clear
            f.in_clear = true;
            por = build_por(f, response);
        }
        out.por = std::move(*por);
        return out;
    };

    const int ilen = checksum_length(integrity, kid);
    if (ilen < 0 || p[2] != 13 + ilen) {
        secured_por = false;
        return conclude(0x06, "CHL, SPI and KID disagree (or DS asked)");
    }
    if ((ciphered && (!cipher_keys || algo_named_by(kic) != cipher_keys->algo)) ||
        (integrity == 2 && (!check_keys || algo_named_by(kid) != check_keys->algo))) {
        secured_por = false;
        return conclude(0x06, "no keyset for this KIc/KID, or another algorithm");
    }
    Bytes body(p.begin() + 10, p.end());
    if (ciphered) {
        auto c = crypto::BlockCipher::create(cipher_keys->algo, cipher_keys->kic);
        if (!c || body.size() % c->block_size()) {
            secured_por = false;
            return conclude(0x05, "cannot decipher");
        }
        uint8_t iv[crypto::kMaxBlockSize] = {};
        c->cbc_decrypt(iv, body.data(), body.data(), body.size());
    }
    if (body.size() < 6 + static_cast<size_t>(ilen)) {
        secured_por = false;
        return conclude(ciphered ? 0x05 : 0x06, "shorter than its security header");
    }
    const uint64_t counter = get_counter(body.data());
    por_counter = counter;
    const uint8_t pcntr = body[5];
    ByteView padded(body.data() + 6 + ilen, body.size() - 6 - static_cast<size_t>(ilen));
    if (pcntr > padded.size()) {
        secured_por = false;
        return conclude(0x05, "PCNTR exceeds the data");
    }
    if (ilen > 0) {
        uint8_t expect[8];
        const Keyset* ks = check_keys ? &*check_keys : nullptr;
        if (!checksum(integrity, kid, ks, {p.first(10), ByteView(body.data(), 6), padded},
                      expect) ||
            !equal_ct(ByteView(expect, static_cast<size_t>(ilen)),
                      ByteView(body.data() + 6, static_cast<size_t>(ilen)))) {
            secured_por = false;
            return conclude(0x01, "RC/CC mismatch");
        }
    }
    const TarEntry* target = card.find_tar(out.tar);
    if (!target)
        return conclude(0x09, "TAR unknown");
    if (!meets_msl(spi1, target->msl))
        return conclude(0x0a, "below the TAR's minimum security level");
    // Counter rules (TS 102 225 §5.1.1, SPI b5b4), on the keyset that authenticated the packet.
    const uint8_t mode = (spi1 >> 3) & 0x03;
    Keyset* live = card.keyset(integrity == 2 ? kid >> 4 : ciphered ? kic >> 4 : kid >> 4);
    if (mode >= 2) {
        if (!live) {
            secured_por = false;
            return conclude(0x06, "no keyset holds a counter");
        }
        por_counter = live->counter;
        if (live->counter >= kCounterMax)
            return conclude(0x04, "counter blocked");
        if (counter <= live->counter)
            return conclude(0x02, "counter low");
        if (mode == 3 && counter != live->counter + 1)
            return conclude(0x03, "counter high");
        live->counter = counter;
        por_counter = counter;
    }
    // Run the script on the TAR's application.
    ByteView script = padded.first(padded.size() - pcntr);
    if (target->kind == TarKind::Isd && !script.empty() && script[0] == 0x81) {
        // ETSI TS 101 220 §7.2 lists '81' beside the 'AA'/'AE' templates: a trigger of an admin
        // session over HTTP (GP Amendment B §3.7), taken by the ISD for its handset.
        out.admin_trigger = Bytes(script.begin(), script.end());
        return conclude(0x00, "");
    }
    ScriptContext ctx;
    ctx.keyset = check_keys ? check_keys : cipher_keys;
    const TarEntry entry = *target;
    response = run_script(script, [&](const CApdu& a) {
        switch (entry.kind) {
        case TarKind::Isd:
            return card.card_manager(a, ctx);
        case TarKind::Rfm:
            return card.rfm(a);
        case TarKind::Cardlet:
            return card.to_cardlet(entry.aid, a);
        }
        return RApdu::status(kSwInsNotSupported);
    });
    return conclude(0x00, "");
}

std::optional<Bytes> SegmentBuffer::add(const std::string& originator, ByteView ud, uint64_t now) {
    if (ud.empty() || static_cast<size_t>(ud[0]) + 1 > ud.size())
        return std::nullopt;
    const size_t end = 1 + ud[0];
    std::optional<std::tuple<uint16_t, uint8_t, uint8_t>> concat; // ref, total, seq
    Bytes other_ies;
    for (size_t i = 1; i < end;) {
        if (i + 2 > end || i + 2 + ud[i + 1] > end)
            return std::nullopt;
        const uint8_t iei = ud[i], len = ud[i + 1];
        if (iei == 0x00 && len == 3)
            concat = std::tuple<uint16_t, uint8_t, uint8_t>{ud[i + 2], ud[i + 3], ud[i + 4]};
        else if (iei == 0x08 && len == 4)
            concat =
                std::tuple<uint16_t, uint8_t, uint8_t>{load_be16(&ud[i + 2]), ud[i + 4], ud[i + 5]};
        else
            append(other_ies, ud.subspan(i, 2 + len));
        i += 2 + len;
    }
    auto whole = [&](const Bytes& ies, ByteView payload) {
        Bytes out;
        if (!ies.empty()) {
            out.push_back(static_cast<uint8_t>(ies.size()));
            append(out, ies);
        }
        append(out, payload);
        return out;
    };
    if (!concat)
        return whole(other_ies, ud.subspan(end));
    const auto [ref, total, seq] = *concat;
    if (total == 0 || seq == 0 || seq > total)
        return std::nullopt;
    const auto key = std::make_tuple(originator, ref, total);
    auto it = partials_.find(key);
    if (it == partials_.end()) {
        if (partials_.size() >= max_pending_) { // make room: the oldest goes
            auto oldest = partials_.begin();
            for (auto p = partials_.begin(); p != partials_.end(); ++p)
                if (p->second.first_seen < oldest->second.first_seen)
                    oldest = p;
            partials_.erase(oldest);
        }
        it = partials_.emplace(key, Partial{now, {}, {}}).first;
    }
    Partial& p = it->second;
    p.parts.emplace(seq, Bytes(ud.begin() + static_cast<long>(end), ud.end())); // first copy wins
    if (seq == 1)
        p.first_ies = other_ies;
    if (p.parts.size() < total)
        return std::nullopt;
    Bytes payload;
    for (const auto& [n, part] : p.parts)
        append(payload, part);
    Bytes out = whole(p.first_ies, payload);
    partials_.erase(it);
    return out;
}

size_t SegmentBuffer::expire(uint64_t cutoff) {
    size_t n = 0;
    for (auto it = partials_.begin(); it != partials_.end();) {
        if (it->second.first_seen < cutoff) {
            it = partials_.erase(it);
            n++;
        } else {
            ++it;
        }
    }
    return n;
}

} // namespace otagw::sim
