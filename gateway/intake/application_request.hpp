// SPDX-License-Identifier: GPL-2.0-or-later
// What a subscriber or a card asks for, as the gateway reads it from an MO SMS:
//  - text: "<KEYWORD> <APPCODE>", keywords per operation and per language (English and Chinese
//    by default: ACT/开通 activate, SUS/暂停 suspend, RES/恢复 resume, END/注销 terminate,
//    QRY/查询 query), decoded from the SMS's data coding (GSM 7-bit default alphabet, Latin-1,
//    UCS-2);
//  - binary: the application request TLV a toolkit client on the card sends
//    (doc/application-requests.md).
// Pure functions: no I/O, no state; every refusal has a reason code and a message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "otagw/common/bytes.hpp"
#include "otagw/common/result.hpp"
#include "requests/card_app.hpp"

namespace otagw::gateway {

struct Keywords {
    std::string language; // "en", "zh"
    std::vector<std::pair<std::string, Operation>> words;
};
// The defaults above; a config may replace or extend them.
std::vector<Keywords> default_keywords();

struct TextRequest {
    Operation operation;
    std::string app_code; // ASCII, as the catalog's operator code
    std::string language; // of the keyword: the reply goes out in it
};

// Why a text is not a request; the reply SMS says it in the subscriber's language.
enum class TextRefusal { Empty, UnknownKeyword, NoAppCode, BadAppCode, TrailingWords };
const char* text_refusal_name(TextRefusal r); // "unknown_keyword"

struct TextParse {
    std::optional<TextRequest> request;
    TextRefusal refusal = TextRefusal::Empty;
    std::string language; // best guess even when refused: the script of the text
    std::string message;  // English, for logs and the audit
};

// UTF-8 to code points; invalid sequences become U+FFFD.
std::u32string code_points(std::string_view utf8);

// `text` in UTF-8. Latin keywords match in any case; a keyword in CJK script may be followed
// directly by the code ("开通01"); full-width digits, letters and spaces count as ASCII.
TextParse parse_text_request(std::string_view text, const std::vector<Keywords>& keywords);

// SMS user data (without UDH) to UTF-8 by its data coding scheme (3GPP TS 23.038 §4, SMPP 3.4
// §5.2.19): 0x00 GSM 7-bit default alphabet (one septet per byte, as SMPP carries it), 0x01 /
// 0x03 Latin-1, 0x08 UCS-2 (UTF-16BE, surrogates joined); the general group 0x0X/0x1X by its
// alphabet bits. Other codings (8-bit data) are not text.
Result<std::string> decode_sms_text(uint8_t data_coding, ByteView user_data);

// ---- binary form (doc/application-requests.md) ----
constexpr uint8_t kRequestTemplateTag = 0xE1;

struct BinaryRequest {
    Operation operation;
    Bytes aid;            // '4F', or empty when the code names the application
    std::string app_code; // '81', or empty
    Bytes reference;      // '82', the client's own reference, echoed in the result; may be empty
};
Result<BinaryRequest> parse_binary_request(ByteView data);
Bytes encode_binary_request(const BinaryRequest& request);

} // namespace otagw::gateway
