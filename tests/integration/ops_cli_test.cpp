// The operator commands against a running service (docs/operations.md, README "Operator
// commands"): status, dlq list/redeliver, stats, and acl import of a large file. Each test runs
// the real binary as an operator would and checks what it prints and what the service then does.
#include <signal.h>

#include <fstream>
#include <iomanip>
#include <sstream>
#include <thread>

#include "service_fixture.hpp"
#include "support/child_process.hpp"

namespace cg::test {
namespace {

// The line of `text` that starts with `start`, or "".
std::string line_starting(const std::string& text, const std::string& start) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(start, 0) == 0) return line;
    }
    return "";
}

size_t count_of(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
        ++n;
    }
    return n;
}

class OpsCliTest : public ServiceTest {
  protected:
    // The receiver answers 500 and one attempt is all there is: requests dead-letter at once.
    void start_failing() {
        env["CALLBACK_MAX_ATTEMPTS"] = "1";
        receiver_.set_handler([](const Recorded&) { return Reply{500, "down"}; });
        start();
        allow(kToken);
    }

    std::string dead_letter() {
        const auto r = post_session(receiver_.url());
        EXPECT_EQ(r.status, 200) << r.body;
        const auto id = str(parse_object(r.body), "request_id");
        EXPECT_TRUE(wait_state(id, "failed")) << id;
        return id;
    }

    // Runs the CLI against this test's service.
    CommandResult cli(std::vector<std::string> args, Env extra = {}) {
        args.emplace_back("--url");
        args.push_back(url(""));
        return run_command(binary(), args, extra);
    }
};

TEST_F(OpsCliTest, HelpNamesTheOperatorCommandsAndTheirOptions) {
    auto r = run_command(binary(), {"--help"}, {});
    EXPECT_EQ(r.exit_code, 0);
    for (const char* cmd : {"status", "dlq", "stats"}) {
        EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd;
    }
    r = run_command(binary(), {"dlq", "redeliver", "--help"}, {});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--all"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--admin-token"), std::string::npos) << r.out;
    r = run_command(binary(), {"stats", "--help"}, {{"ADMIN_TOKEN", "not-in-the-help-text"}});
    EXPECT_NE(r.out.find("--interval"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--once"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("not-in-the-help-text"), std::string::npos) << "a secret in --help";
    r = run_command(binary(), {"acl", "import", "--help"}, {});
    EXPECT_NE(r.out.find("--no-progress"), std::string::npos) << r.out;
}

TEST_F(OpsCliTest, StatusShowsTheRequestsHistoryWithEveryAttempt) {
    start_failing();
    const auto id = dead_letter();
    auto r = cli({"status", id});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    EXPECT_NE(line_starting(r.out, "request").find(id), std::string::npos) << r.out;
    EXPECT_NE(line_starting(r.out, "state").find("failed"), std::string::npos) << r.out;
    EXPECT_NE(line_starting(r.out, "station").find(kStation), std::string::npos) << r.out;
    EXPECT_NE(line_starting(r.out, "driver token").find("ABCD***"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(kToken), std::string::npos) << "the token is shown masked only";
    EXPECT_NE(line_starting(r.out, "decision").find("allowed (acl_allowed)"), std::string::npos)
        << r.out;
    EXPECT_NE(line_starting(r.out, "callback url").find(receiver_.url()), std::string::npos)
        << r.out;
    EXPECT_EQ(line_starting(r.out, "trace id").size(), std::string("trace id      ").size() + 32)
        << r.out;
    EXPECT_NE(r.out.find("1 callback attempt\n"), std::string::npos) << r.out;
    const auto attempt = line_starting(r.out, "1  ");
    EXPECT_NE(attempt.find(" ms  500 receiver answered 500"), std::string::npos) << r.out;

    r = cli({"status", id, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto o = parse_object(r.out);
    EXPECT_EQ(str(o, "request_id"), id);
    EXPECT_EQ(str(o, "state"), "failed");
    EXPECT_EQ(o.at("attempts").as_array().size(), 1u);

    r = cli({"status", "00000000-0000-4000-8000-000000000000"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("no request 00000000-0000-4000-8000-000000000000"), std::string::npos)
        << r.err;
    EXPECT_EQ(count_of(r.err, "\n"), 1u) << r.err;
}

TEST_F(OpsCliTest, DlqListsDeadLettersAndRedeliverMovesThemOut) {
    start_failing();
    const auto first = dead_letter();
    const auto second = dead_letter();

    auto r = cli({"dlq", "list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto newest = line_starting(r.out, second);
    EXPECT_NE(newest.find(kStation), std::string::npos) << r.out;
    EXPECT_NE(newest.find("500 receiver answered 500"), std::string::npos) << r.out;
    EXPECT_LT(r.out.find(second), r.out.find(first)) << "newest first\n" << r.out;
    EXPECT_NE(r.out.find("2 of 2 dead letters shown"), std::string::npos) << r.out;

    r = cli({"dlq", "list", "--limit", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(second), std::string::npos);
    EXPECT_EQ(r.out.find(first), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 of 2 dead letters shown"), std::string::npos) << r.out;

    r = cli({"dlq", "list", "--all", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto list = parse_object(r.out);
    EXPECT_EQ(list.at("total").as_int64(), 2);
    EXPECT_EQ(list.at("items").as_array().size(), 2u);

    // The receiver is fixed: one redelivered by id, then the rest with --all.
    receiver_.set_handler([](const Recorded&) { return Reply{200, "ok"}; });
    r = cli({"dlq", "redeliver", first});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(first + "  redelivery scheduled"), std::string::npos) << r.out;
    ASSERT_TRUE(wait_state(first, "delivered"));
    r = cli({"dlq", "list"});
    EXPECT_EQ(r.out.find(first), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 of 1 dead letter shown"), std::string::npos) << r.out;

    r = cli({"dlq", "redeliver", "--all"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("redelivery scheduled for 1 of 1 request"), std::string::npos) << r.out;
    ASSERT_TRUE(wait_state(second, "delivered"));
    r = cli({"dlq", "list"});
    EXPECT_NE(r.out.find("no dead letters"), std::string::npos) << r.out;
    r = cli({"dlq", "redeliver", "--all"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("no dead letters to redeliver"), std::string::npos) << r.out;

    // One refused id among good ones: each outcome is printed and the exit code says so.
    r = cli({"dlq", "redeliver", first, "00000000-0000-4000-8000-000000000000"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find(first + "  redelivery scheduled"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("00000000-0000-4000-8000-000000000000  FAILED: HTTP 404"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("redelivery scheduled for 1 of 2 requests"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("1 redelivery failed"), std::string::npos) << r.err;
}

TEST_F(OpsCliTest, StatsOnceShowsTheServicesCounts) {
    start_failing();
    dead_letter();
    receiver_.set_handler([](const Recorded&) { return Reply{200, "ok"}; });
    const auto r2 = post_session(receiver_.url());
    ASSERT_TRUE(wait_state(str(parse_object(r2.body), "request_id"), "delivered"));

    // --url left out: PORT from the environment points the command at the service.
    const auto r = run_command(binary(), {"stats", "--once"}, {{"PORT", std::to_string(port_)}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(line_starting(r.out, "accepted").ends_with(" 2")) << r.out;
    EXPECT_TRUE(line_starting(r.out, "decided allowed").ends_with(" 2")) << r.out;
    EXPECT_TRUE(line_starting(r.out, "delivered").ends_with(" 1")) << r.out;
    EXPECT_TRUE(line_starting(r.out, "dead-lettered").ends_with(" 1")) << r.out;
    EXPECT_EQ(r.out.find("per second"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("queue depth 0   "), std::string::npos) << r.out;
    EXPECT_NE(line_starting(r.out, "accept ").find(" 2 "), std::string::npos) << r.out;
    EXPECT_NE(line_starting(r.out, "end-to-end").find(" 1 "), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "no terminal codes in --once output";

    // The receiver's last attempt succeeded: it leaves the failing list (the service publishes
    // that list once a second).
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::string last;
    while (std::chrono::steady_clock::now() < end) {
        last = cli({"stats", "--once"}).out;
        if (last.find("failing receivers: none") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    EXPECT_NE(last.find("failing receivers: none"), std::string::npos) << last;
}

TEST_F(OpsCliTest, StatsLiveViewRedrawsAndCtrlCExitsZero) {
    env["CALLBACK_MAX_ATTEMPTS"] = "1";
    receiver_.set_handler([](const Recorded&) { return Reply{500, "down"}; });
    start();
    allow(kToken);
    const auto out_path = (dir_.path() / "stats.out").string();
    const pid_t pid = spawn_child({{binary(), "stats", "--interval", "0.2", "--url", url("")},
                                   {},
                                   out_path,
                                   (dir_.path() / "stats.err").string(),
                                   std::nullopt});
    dead_letter();
    auto read_out = [&out_path] {
        std::ifstream in(out_path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    // Wait for a screen that shows the failing receiver and a rate (a second read).
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < end &&
           (count_of(read_out(), "failing receivers (") == 0 ||
            count_of(read_out(), "per second") < 2)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid, SIGINT);
    EXPECT_EQ(wait_child(pid, std::chrono::seconds(5)), 0);
    const auto out = read_out();
    EXPECT_GE(count_of(out, "per second"), 2u) << out;
    EXPECT_NE(out.find("(rates from the next read)"), std::string::npos) << out;
    EXPECT_NE(out.find(receiver_.url("")), std::string::npos) << out;
    EXPECT_NE(out.find("500 receiver answered 500"), std::string::npos) << out;
}

TEST_F(OpsCliTest, FailuresAreOneLineAndANonZeroExit) {
    env["ADMIN_TOKEN"] = "op-token-123";
    start();
    auto one_line = [](const CommandResult& r) {
        EXPECT_NE(r.exit_code, 0);
        EXPECT_EQ(count_of(r.err, "\n"), 1u) << r.err;
        EXPECT_EQ(r.err.rfind("chargegate: error: ", 0), 0u) << r.err;
        return r.err;
    };
    // No token, a wrong token, then the right one from the environment.
    EXPECT_NE(one_line(cli({"stats", "--once"})).find("401 Unauthorized"), std::string::npos);
    EXPECT_NE(one_line(cli({"dlq", "list", "--admin-token", "wrong"})).find("--admin-token"),
              std::string::npos);
    const auto ok = cli({"dlq", "list"}, {{"ADMIN_TOKEN", "op-token-123"}});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_NE(ok.out.find("no dead letters"), std::string::npos) << ok.out;

    // Nothing listens.
    const auto closed = free_port();
    const auto nowhere = run_command(
        binary(), {"status", "x", "--url", "http://127.0.0.1:" + std::to_string(closed)}, {});
    EXPECT_NE(one_line(nowhere).find("cannot reach http://127.0.0.1:" + std::to_string(closed)),
              std::string::npos);

    // Something that is not chargegate answers.
    receiver_.set_handler([](const Recorded&) { return Reply{200, "<html>hello</html>"}; });
    const auto foreign = run_command(binary(), {"stats", "--once", "--url", receiver_.url("")}, {});
    EXPECT_NE(one_line(foreign).find("not a JSON object"), std::string::npos);
    receiver_.set_handler([](const Recorded&) { return Reply{200, R"({"status":"UP"})"}; });
    const auto other_json = run_command(binary(), {"dlq", "list", "--url", receiver_.url("")}, {});
    EXPECT_NE(one_line(other_json).find("not a dead-letter list"), std::string::npos);
    // A usage error.
    EXPECT_NE(run_command(binary(), {"dlq", "redeliver"}, {}).exit_code, 0);
}

TEST_F(OpsCliTest, AclImportOfAManyChunkFileWithoutProgress) {
    // Three store chunks' worth, in an order that is not the tokens' order, with one token
    // twice: the last row of a token wins, as it always did.
    constexpr int kRows = 120'000;
    const auto csv = dir_.path() / "big.csv";
    {
        std::ofstream out(csv);
        out << "driver_token,status,stations,expires_at\n";
        for (int i = 0; i < kRows; ++i) {
            const int n =
                (i * 7919) % kRows;  // a permutation: 7919 is prime, kRows is not its multiple
            out << "BULK-token-" << std::setw(10) << std::setfill('0') << n << ",allowed,"
                << (n % 3 == 0 ? kStation : "") << ",\n";
        }
        out << "BULK-token-0000000007,blocked,,\n";
    }
    auto r = run_command(binary(), {"acl", "import", csv.string(), "--no-progress"}, env,
                         std::chrono::seconds(120));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    // The repeated token is written once (PostgreSQL refuses an upsert touching a row twice).
    EXPECT_NE(r.out.find("imported " + std::to_string(kRows) + " ACL entries (" +
                         std::to_string(kRows + 1) + " rows; 1 repeated a token"),
              std::string::npos)
        << r.out;

    // Without --no-progress and with stderr not a terminal: a line every tenth.
    const auto small = dir_.path() / "small.csv";
    std::ofstream(small) << "driver_token,status,stations,expires_at\n" << kToken << ",allowed,,\n";
    r = run_command(binary(), {"acl", "import", small.string()}, env);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(count_of(r.err, "\n"), 1u) << r.err;
    EXPECT_NE(r.err.find("1/1  100%"), std::string::npos) << r.err;

    start();
    for (const int n : {0, 1, 3, kRows - 1}) {
        std::ostringstream token;
        token << "BULK-token-" << std::setw(10) << std::setfill('0') << n;
        const auto got = http_get(url("/api/v1/acl/" + token.str()));
        ASSERT_EQ(got.status, 200) << token.str() << ": " << got.body;
        const auto o = parse_object(got.body);
        EXPECT_EQ(str(o, "status"), "allowed") << got.body;
        EXPECT_EQ(o.at("stations").is_null(), n % 3 != 0) << got.body;
    }
    const auto dup = parse_object(http_get(url("/api/v1/acl/BULK-token-0000000007")).body);
    EXPECT_EQ(str(dup, "status"), "blocked");
}

}  // namespace
}  // namespace cg::test
