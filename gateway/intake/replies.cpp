// SPDX-License-Identifier: GPL-2.0-or-later
#include "intake/replies.hpp"

#include <map>

namespace otagw::gateway {

namespace {

const char* done_en(Operation op) {
    switch (op) {
    case Operation::Activate:
        return "activated";
    case Operation::Suspend:
        return "suspended";
    case Operation::Resume:
        return "resumed";
    case Operation::Terminate:
        return "terminated";
    case Operation::Install:
        return "installed";
    case Operation::Query:
        break;
    }
    return "checked";
}

const char* done_zh(Operation op) {
    switch (op) {
    case Operation::Activate:
        return "已开通";
    case Operation::Suspend:
        return "已暂停";
    case Operation::Resume:
        return "已恢复";
    case Operation::Terminate:
        return "已注销";
    case Operation::Install:
        return "已安装";
    case Operation::Query:
        break;
    }
    return "已查询";
}

// Reasons a subscriber can act on, in words; others are given by their code.
std::string reason_words(const std::string& language, const std::string& reason) {
    static const std::map<std::string, std::pair<const char*, const char*>> words = {
        {"unknown_msisdn", {"this number has no card with us", "该号码没有登记的卡"}},
        {"unknown_app", {"no such application", "没有该应用"}},
        {"unknown_keyword", {"unknown command", "无法识别的指令"}},
        {"no_app_code", {"application code missing", "缺少应用代码"}},
        {"bad_app_code", {"bad application code", "应用代码有误"}},
        {"not_allowed_in_state", {"not possible in its current state", "当前状态下不可操作"}},
        {"in_flight", {"another request is in progress", "另一个请求正在处理中"}},
        {"card_barred", {"the card is barred", "该卡已被禁用"}},
        {"provider_veto", {"declined by the service provider", "服务提供商拒绝"}},
        {"provider_timeout", {"the service provider did not answer", "服务提供商无应答"}},
    };
    auto it = words.find(reason);
    if (it == words.end())
        return reason;
    return language == "zh" ? it->second.second : it->second.first;
}

bool gsm_safe(const std::string& s) {
    for (unsigned char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == ' ' || c == '.' || c == ',' || c == ':' || c == '(' || c == ')' || c == '-' ||
              c == '/' || c == '\'' || c == '?' || c == '!'))
            return false; // '_', '@', '$', ... differ between ASCII and the GSM alphabet
    return true;
}

} // namespace

std::string reply_text(const std::string& language, Operation op, const std::string& app,
                       const std::string& outcome, const std::string& reason,
                       const std::string& state, int64_t id) {
    const std::string ref = std::to_string(id);
    std::string t;
    if (language == "zh") {
        t = app.empty() ? std::string("请求") : app;
        if (outcome == "done")
            t.append(op == Operation::Query ? "：状态 " + state : std::string("：") + done_zh(op));
        else
            t.append(outcome == "refused" ? "：请求被拒绝（" : "：请求失败（")
                .append(reason_words(language, reason))
                .append("）");
        return t.append("。编号 ").append(ref);
    }
    t = app.empty() ? std::string("Request") : app;
    if (outcome == "done")
        t.append(op == Operation::Query ? ": state " + state : std::string(": ") + done_en(op));
    else
        t.append(outcome == "refused" ? ": request refused (" : ": request failed (")
            .append(reason_words(language, reason))
            .append(")");
    t.append(". Ref ").append(ref);
    for (char& c : t)
        if (c == '_')
            c = ' ';
    return t;
}

std::pair<Bytes, uint8_t> encode_reply(const std::string& utf8) {
    if (gsm_safe(utf8)) {
        Bytes b(utf8.begin(), utf8.end());
        if (b.size() > 160)
            b.resize(160);
        return {b, 0x00};
    }
    Bytes out; // UTF-16BE (TS 23.038 §6.2.3: UCS-2; astral planes as surrogates)
    auto put16 = [&](uint32_t v) {
        out.push_back(static_cast<uint8_t>(v >> 8));
        out.push_back(static_cast<uint8_t>(v));
    };
    for (char32_t cp : code_points(utf8)) {
        if (out.size() + 4 > 140)
            break;
        if (cp >= 0x10000) {
            put16(0xd800 + ((cp - 0x10000) >> 10));
            put16(0xdc00 + ((cp - 0x10000) & 0x3ff));
        } else {
            put16(cp);
        }
    }
    return {out, 0x08};
}

} // namespace otagw::gateway
