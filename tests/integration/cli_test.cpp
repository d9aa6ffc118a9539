// docs/api.md §7 and the `acl import` command.
#include <fstream>
#include <sstream>

#include "service_fixture.hpp"

namespace cg::test {
namespace {

class CliTest : public ServiceTest {};

TEST_F(CliTest, HelpDescribesEveryCommand) {
    auto r = run_command(binary(), {"--help"}, {});
    EXPECT_EQ(r.exit_code, 0);
    for (const char* cmd : {"serve", "migrate", "acl"}) {
        EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd;
    }
    r = run_command(binary(), {"serve", "--help"}, {});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--config"), std::string::npos);
    r = run_command(binary(), {"acl", "import", "--help"}, {});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--format"), std::string::npos);
}

// Usage errors exit 2 with one `chargegate: error:` line, like getopt-based tools; an unknown
// command is named as such.
TEST_F(CliTest, UsageErrorsExitTwoWithOneErrorLine) {
    auto r = run_command(binary(), {"frobnicate"}, {});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.rfind("chargegate: error: unknown command 'frobnicate'", 0), 0) << r.err;
    EXPECT_NE(r.err.find("serve"), std::string::npos) << r.err;  // the commands are listed
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const std::vector<std::string>& args : {std::vector<std::string>{},
                                                 {"serve", "--no-such-flag"},
                                                 {"acl"},
                                                 {"acl", "import"},
                                                 {"loadtest", "--connections", "0"},
                                                 {"dlq", "frob"}}) {
        r = run_command(binary(), args, {});
        EXPECT_EQ(r.exit_code, 2) << args.size() << " " << r.err;
        EXPECT_EQ(r.err.rfind("chargegate: error: ", 0), 0) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
    r = run_command(binary(), {"--version"}, {});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("chargegate ", 0), 0) << r.out;
}

TEST_F(CliTest, ImportedEntriesDriveDecisions) {
    const auto csv = dir_.path() / "acl.csv";
    std::ofstream(csv) << "driver_token,status,stations,expires_at\n"
                       << kToken << ",allowed,,\n"
                       << "BLOCKED-token-000000000,blocked,,\n";
    const auto json = dir_.path() / "acl.json";
    std::ofstream(json)
        << R"([{"driver_token":"JSON-token-00000000000","status":"allowed",)"
           R"("stations":["00000000-0000-4000-8000-000000000001"],"expires_at":null}])";
    auto r = run_command(binary(), {"acl", "import", csv.string()}, env);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("imported 2"), std::string::npos) << r.out;
    r = run_command(binary(), {"acl", "import", json.string()}, env);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    start();
    auto decide = [&](const std::string& token) {
        const size_t before = receiver_.count();
        EXPECT_EQ(post_session(receiver_.url(), {}, token).status, 200);
        EXPECT_TRUE(receiver_.wait_for_count(before + 1, std::chrono::seconds(10)));
        return str(parse_object(receiver_.requests().at(before).body), "reason");
    };
    EXPECT_EQ(decide(kToken), "acl_allowed");
    EXPECT_EQ(decide("BLOCKED-token-000000000"), "token_blocked");
    EXPECT_EQ(decide("JSON-token-00000000000"), "station_not_permitted");
}

TEST_F(CliTest, MalformedImportFileIsRejectedWhole) {
    const auto csv = dir_.path() / "bad.csv";
    std::ofstream(csv) << "driver_token,status,stations,expires_at\n"
                       << kToken << ",allowed,,\n"
                       << "short,allowed,,\n";
    const auto r = run_command(binary(), {"acl", "import", csv.string()}, env);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("line 3"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    start();
    EXPECT_EQ(http_get(url("/api/v1/acl/" + kToken)).status, 404);  // nothing was written
}

TEST_F(CliTest, ConfigFileIsReadAndEnvironmentWins) {
    const auto file = dir_.path() / "chargegate.env";
    std::ofstream(file) << "# test\nPORT=1\nLOG_LEVEL=LOUD\n";
    auto r = run_command(binary(), {"serve", "--config", file.string()}, {});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("LOG_LEVEL"), std::string::npos) << r.err;
    std::ofstream(file) << "PORT=1\nLOG_LEVEL=INFO\n";
    r = run_command(binary(), {"migrate", "--config", file.string()}, env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(CliTest, LoadtestReportsAcceptAndEndToEndFigures) {
    start();
    const auto json = dir_.path() / "load.json";
    const auto r = run_command(
        binary(),
        {"loadtest", "--url", url(""), "-c", "4", "-d", "1", "--warmup", "0", "--seed-acl",
         "--token-count", "5", "--drain", "10", "-q", "--json", json.string()},
        {}, std::chrono::seconds(30));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("accept"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("end-to-end"), std::string::npos) << r.out;
    std::ifstream in(json);
    std::stringstream text;
    text << in.rdbuf();
    const auto o = parse_object(text.str());
    ASSERT_FALSE(o.empty()) << text.str();
    EXPECT_EQ(str(o, "mode"), "closed");
    EXPECT_GT(o.at("accepted").as_int64(), 0);
    EXPECT_EQ(o.at("callbacks_unique").as_int64(), o.at("accepted_total").as_int64());
    EXPECT_GT(o.at("e2e_latency").as_object().at("count").as_int64(), 0);
    // The run went through the real service: its metrics saw the requests.
    const auto m = http_get(url("/metrics"));
    EXPECT_NE(m.body.find("charging_requests_total{status=\"accepted\"}"), std::string::npos);
}

TEST_F(CliTest, LoadtestRejectsABadUrl) {
    const auto r = run_command(binary(), {"loadtest", "--url", "ftp://x", "-d", "1"}, {});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("--url"), std::string::npos) << r.err;
}

// A host name is resolved before the run (compose service names, e.g. http://lb:8080); one that
// does not resolve is a one-line error, not a run of connection errors. (.invalid never
// resolves: RFC 6761.)
TEST_F(CliTest, LoadtestNamesAHostThatDoesNotResolve) {
    const auto r = run_command(
        binary(), {"loadtest", "--url", "http://no-such-host.invalid:8080", "-d", "1"}, {});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("cannot resolve no-such-host.invalid"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cg::test
