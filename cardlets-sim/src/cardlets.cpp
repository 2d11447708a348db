// SPDX-License-Identifier: GPL-2.0-or-later
// The simulated cardlets: a campus canteen wallet, a transit card, a bank card. Each keeps its
// state in a few fields, is personalised by STORE DATA (DGI or BER-TLV), and refuses what a
// locked application must refuse. AIDs use the unregistered proprietary RID category 'F'.
#include <cstring>

#include "otagw/common/tlv.hpp"
#include "otagw/sim/cardlet.hpp"

namespace otagw::sim {

namespace {

uint32_t be32(ByteView v) {
    return static_cast<uint32_t>(v[0]) << 24 | static_cast<uint32_t>(v[1]) << 16 |
           static_cast<uint32_t>(v[2]) << 8 | v[3];
}
void put_be32(Bytes& out, uint32_t v) {
    for (int i = 3; i >= 0; i--)
        out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// STORE DATA fields as (tag, value): DGIs when P1 says so (b5b4 = 01), BER-TLV otherwise.
bool store_data_fields(const CApdu& apdu, std::vector<std::pair<uint32_t, Bytes>>& out) {
    if ((apdu.p1 & 0x18) == 0x08) {
        size_t pos = 0;
        while (pos < apdu.data.size()) {
            auto d = tlv::parse_dgi_tlv(apdu.data, pos);
            if (!d)
                return false;
            out.emplace_back(d->dgi, Bytes(d->value.begin(), d->value.end()));
        }
        return true;
    }
    auto items = tlv::parse_ber_tlvs(apdu.data);
    if (!items)
        return false;
    for (const auto& t : *items)
        out.emplace_back(t.tag, Bytes(t.value.begin(), t.value.end()));
    return true;
}

// Serialised state: a list of BER-TLVs, tag 0x80 + n for field n.
class Fields {
public:
    explicit Fields(Bytes b = {}) : bytes_(std::move(b)) {}
    void put(uint8_t n, ByteView v) { tlv::append_ber_tlv(bytes_, 0x80u + n, v); }
    Bytes take() { return std::move(bytes_); }
    static bool read(ByteView state, std::vector<Bytes>& fields, size_t count) {
        auto items = tlv::parse_ber_tlvs(state);
        if (!items)
            return false;
        fields.assign(count, {});
        for (const auto& t : *items)
            if (t.tag >= 0x80 && t.tag < 0x80 + count)
                fields[t.tag - 0x80].assign(t.value.begin(), t.value.end());
        return true;
    }

private:
    Bytes bytes_;
};

// ---- Canteen wallet ----
// Personalisation: serial number (DGI 0101 / tag 80), key (DGI 0102 / tag 81, 16 bytes), opening
// balance (DGI 0103 / tag 82, 4 bytes). Commands (CLA 80): 50 GET BALANCE, 52 CREDIT, 54 PAY, 56
// GET SERIAL. A locked or unpersonalised wallet refuses payments (6985).
class CanteenWallet : public Cardlet {
public:
    const char* kind() const override { return "canteen-wallet"; }

    RApdu store_data(const CApdu& apdu, const AppContext& ctx) override {
        if (ctx.locked)
            return RApdu::status(kSwConditions);
        std::vector<std::pair<uint32_t, Bytes>> fields;
        if (!store_data_fields(apdu, fields))
            return RApdu::status(kSwIncorrectData);
        for (auto& [tag, value] : fields) {
            if ((tag == 0x0101 || tag == 0x80) && !value.empty() && value.size() <= 16)
                serial_ = value;
            else if ((tag == 0x0102 || tag == 0x81) && value.size() == 16)
                key_ = value;
            else if ((tag == 0x0103 || tag == 0x82) && value.size() == 4)
                balance_ = be32(value);
            else
                return RApdu::status(kSwIncorrectData);
        }
        return RApdu::status(kSwOk);
    }

    RApdu process(const CApdu& apdu, const AppContext& ctx) override {
        if (apdu.cla != 0x80)
            return RApdu::status(kSwClaNotSupported);
        const bool personalised = !serial_.empty() && key_.size() == 16;
        switch (apdu.ins) {
        case 0x50: {
            Bytes b;
            put_be32(b, balance_);
            return RApdu{b, kSwOk};
        }
        case 0x56:
            return personalised ? RApdu{serial_, kSwOk} : RApdu::status(kSwConditions);
        case 0x52:
        case 0x54: {
            if (ctx.locked || !personalised)
                return RApdu::status(kSwConditions);
            if (apdu.data.size() != 4)
                return RApdu::status(kSwWrongLength);
            const uint32_t amount = be32(apdu.data);
            if (apdu.ins == 0x52) {
                balance_ += amount;
            } else {
                if (amount > balance_)
                    return RApdu::status(kSwIncorrectData);
                balance_ -= amount;
            }
            Bytes b;
            put_be32(b, balance_);
            return RApdu{b, kSwOk};
        }
        default:
            return RApdu::status(kSwInsNotSupported);
        }
    }

    std::vector<Fact> describe() const override {
        return {{"personalised", !serial_.empty() && key_.size() == 16},
                {"serial", std::string(serial_.begin(), serial_.end())},
                {"balance", int64_t{balance_}}};
    }

    Bytes save() const override {
        Fields f;
        f.put(0, serial_);
        f.put(1, key_);
        Bytes b;
        put_be32(b, balance_);
        f.put(2, b);
        return f.take();
    }
    bool restore(ByteView state) override {
        std::vector<Bytes> v;
        if (!Fields::read(state, v, 3) || (!v[2].empty() && v[2].size() != 4))
            return false;
        serial_ = v[0];
        key_ = v[1];
        balance_ = v[2].empty() ? 0 : be32(v[2]);
        return true;
    }

private:
    Bytes serial_, key_;
    uint32_t balance_ = 0;
};

// ---- Transit card ----
// Personalisation: card number (DGI 0201 / tag 80). Commands: 60 TAP (one ride), 62 ADD RIDES (1
// byte), 64 GET RIDES. A locked card lets nobody through.
class TransitCard : public Cardlet {
public:
    const char* kind() const override { return "transit"; }
    RApdu store_data(const CApdu& apdu, const AppContext& ctx) override {
        if (ctx.locked)
            return RApdu::status(kSwConditions);
        std::vector<std::pair<uint32_t, Bytes>> fields;
        if (!store_data_fields(apdu, fields))
            return RApdu::status(kSwIncorrectData);
        for (auto& [tag, value] : fields) {
            if ((tag == 0x0201 || tag == 0x80) && !value.empty() && value.size() <= 16)
                number_ = value;
            else
                return RApdu::status(kSwIncorrectData);
        }
        return RApdu::status(kSwOk);
    }
    RApdu process(const CApdu& apdu, const AppContext& ctx) override {
        if (apdu.cla != 0x80)
            return RApdu::status(kSwClaNotSupported);
        switch (apdu.ins) {
        case 0x64:
            return RApdu{{rides_}, kSwOk};
        case 0x60:
            if (ctx.locked || number_.empty())
                return RApdu::status(kSwConditions);
            if (rides_ == 0)
                return RApdu::status(kSwIncorrectData);
            rides_--;
            return RApdu{{rides_}, kSwOk};
        case 0x62:
            if (ctx.locked || apdu.data.size() != 1)
                return RApdu::status(ctx.locked ? kSwConditions : kSwWrongLength);
            rides_ = static_cast<uint8_t>(std::min(255, rides_ + apdu.data[0]));
            return RApdu{{rides_}, kSwOk};
        default:
            return RApdu::status(kSwInsNotSupported);
        }
    }
    std::vector<Fact> describe() const override {
        return {{"personalised", !number_.empty()},
                {"number", std::string(number_.begin(), number_.end())},
                {"rides", int64_t{rides_}}};
    }
    Bytes save() const override {
        Fields f;
        f.put(0, number_);
        f.put(1, ByteView(&rides_, 1));
        return f.take();
    }
    bool restore(ByteView state) override {
        std::vector<Bytes> v;
        if (!Fields::read(state, v, 2) || v[1].size() > 1)
            return false;
        number_ = v[0];
        rides_ = v[1].empty() ? 0 : v[1][0];
        return true;
    }

private:
    Bytes number_;
    uint8_t rides_ = 0;
};

// ---- Bank card ----
// Personalisation: PAN (DGI 0301 / tag 80), PIN (DGI 0302 / tag 81, 4 digits as ASCII).
// Commands: 20 VERIFY (the PIN; three wrong tries block it), 70 PAY (4-byte amount, after VERIFY),
// 72 GET BALANCE, 74 CREDIT.
class BankCard : public Cardlet {
public:
    const char* kind() const override { return "bank"; }
    RApdu store_data(const CApdu& apdu, const AppContext& ctx) override {
        if (ctx.locked)
            return RApdu::status(kSwConditions);
        std::vector<std::pair<uint32_t, Bytes>> fields;
        if (!store_data_fields(apdu, fields))
            return RApdu::status(kSwIncorrectData);
        for (auto& [tag, value] : fields) {
            if ((tag == 0x0301 || tag == 0x80) && !value.empty() && value.size() <= 19)
                pan_ = value;
            else if ((tag == 0x0302 || tag == 0x81) && value.size() == 4)
                pin_ = value, tries_ = 3;
            else
                return RApdu::status(kSwIncorrectData);
        }
        return RApdu::status(kSwOk);
    }
    RApdu process(const CApdu& apdu, const AppContext& ctx) override {
        switch (apdu.ins) {
        case 0x20:
            if (pin_.empty() || tries_ == 0)
                return RApdu::status(0x6983); // authentication method blocked
            if (apdu.data == pin_) {
                tries_ = 3;
                verified_ = true;
                return RApdu::status(kSwOk);
            }
            verified_ = false;
            return RApdu::status(static_cast<uint16_t>(0x63c0 | --tries_));
        case 0x72: {
            Bytes b;
            put_be32(b, balance_);
            return RApdu{b, kSwOk};
        }
        case 0x70:
        case 0x74: {
            if (ctx.locked || pan_.empty())
                return RApdu::status(kSwConditions);
            if (apdu.data.size() != 4)
                return RApdu::status(kSwWrongLength);
            const uint32_t amount = be32(apdu.data);
            if (apdu.ins == 0x74) {
                balance_ += amount;
            } else {
                if (!verified_)
                    return RApdu::status(kSwSecurityStatus);
                if (amount > balance_)
                    return RApdu::status(kSwIncorrectData);
                balance_ -= amount;
                verified_ = false;
            }
            Bytes b;
            put_be32(b, balance_);
            return RApdu{b, kSwOk};
        }
        default:
            return RApdu::status(kSwInsNotSupported);
        }
    }
    std::vector<Fact> describe() const override {
        return {{"personalised", !pan_.empty() && !pin_.empty()},
                {"balance", int64_t{balance_}},
                {"pin_tries_left", int64_t{tries_}}};
    }
    Bytes save() const override {
        Fields f;
        f.put(0, pan_);
        f.put(1, pin_);
        Bytes b;
        put_be32(b, balance_);
        f.put(2, b);
        f.put(3, ByteView(&tries_, 1));
        return f.take();
    }
    bool restore(ByteView state) override {
        std::vector<Bytes> v;
        if (!Fields::read(state, v, 4) || (!v[2].empty() && v[2].size() != 4) || v[3].size() > 1)
            return false;
        pan_ = v[0];
        pin_ = v[1];
        balance_ = v[2].empty() ? 0 : be32(v[2]);
        tries_ = v[3].empty() ? 3 : v[3][0];
        return true;
    }

private:
    Bytes pan_, pin_;
    uint32_t balance_ = 0;
    uint8_t tries_ = 3;
    bool verified_ = false;
};

template <typename T>
CardletFactory factory() {
    return [] {
        return std::make_unique<T>();
    };
}

} // namespace

// RID F04F544147 ("OTAG" in the proprietary range); load file ..01nn, module ..01nn01, instance
// ..01nn010001. TARs C0000n: the simulator's own choice in the toolkit range (TS 101 220 Annex D
// leaves them to the application issuer). MSL 12: CC and a higher counter; 16: also ciphered.
const std::vector<CardletModule>& known_modules() {
    static const std::vector<CardletModule> modules = {
        {{0xf0, 0x4f, 0x54, 0x41, 0x47, 0x01, 0x01},
         {0xf0, 0x4f, 0x54, 0x41, 0x47, 0x01, 0x01, 0x01},
         "canteen-wallet",
         factory<CanteenWallet>(),
         {0xf0, 0x4f, 0x54, 0x41, 0x47, 0x01, 0x01, 0x01, 0x00, 0x01},
         {0xc0, 0x00, 0x01},
         0x12},
        {{0xf0, 0x4f, 0x54, 0x41, 0x47, 0x01, 0x02},
         {0xf0, 0x4f, 0x54, 0x41, 0x47, 0x01, 0x02, 0x01},
         "transit",
         factory<TransitCard>(),
         {0xf0, 0x4f, 0x54, 0x41, 0x47, 0x01, 0x02, 0x01, 0x00, 0x01},
         {0xc0, 0x00, 0x02},
         0x12},
        {{0xf0, 0x4f, 0x54, 0x41, 0x47, 0x01, 0x03},
         {0xf0, 0x4f, 0x54, 0x41, 0x47, 0x01, 0x03, 0x01},
         "bank",
         factory<BankCard>(),
         {0xf0, 0x4f, 0x54, 0x41, 0x47, 0x01, 0x03, 0x01, 0x00, 0x01},
         {0xc0, 0x00, 0x03},
         0x16},
    };
    return modules;
}

const CardletModule* find_module(ByteView module_aid) {
    for (const auto& m : known_modules())
        if (m.module.size() == module_aid.size() &&
            std::memcmp(m.module.data(), module_aid.data(), module_aid.size()) == 0)
            return &m;
    return nullptr;
}

const CardletModule* find_module_by_name(const std::string& name) {
    for (const auto& m : known_modules())
        if (m.name == name)
            return &m;
    return nullptr;
}

} // namespace otagw::sim
