// SPDX-License-Identifier: GPL-2.0-or-later
// otactl's client of the daemon's admin API (doc/api.yaml), shared by its online commands.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "otagw/common/result.hpp"
#include "otagw/http/http.hpp"

namespace otactl {

struct ApiOptions {
    std::string api;
    std::string token_file;
    bool json = false;
    double timeout = 30;
};

std::string token_of(const ApiOptions& o);
std::string url_encode(std::string_view s);
// Calls the API once; prints nothing. Errors: why it was unreachable.
otagw::Result<otagw::http::ClientResponse> call(const ApiOptions& o,
                                                otagw::http::ClientRequest req);
// The JSON body of a good (2xx) answer; anything else is an error naming the API's reason.
otagw::Result<Json> call_json(const ApiOptions& o, otagw::http::ClientRequest req);
// A JSON value as a table cell: strings bare, null as "-".
std::string text(const Json& v);
// Columns padded to their widest cell.
void print_table(const std::vector<std::string>& head,
                 const std::vector<std::vector<std::string>>& rows);
// Prints "otactl: <message>" and returns 1.
int fail(const otagw::Error& e);
void add_api_options(CLI::App* cmd, const std::shared_ptr<ApiOptions>& o);
// A file sent as a request body piece by piece (256 KiB at a time, an empty piece at the end);
// an unreadable file is a usage error naming `option`.
std::function<otagw::Result<std::string>()> file_chunks(const std::string& path,
                                                        const char* option);

void add_campaign_commands(CLI::App& app, const std::shared_ptr<ApiOptions>& o, int& exit_code);

} // namespace otactl
