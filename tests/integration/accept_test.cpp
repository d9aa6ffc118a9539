// docs/api.md §1: answers of POST /api/v1/charging-session.
#include "service_fixture.hpp"

namespace cg::test {
namespace {

class AcceptTest : public ServiceTest {};

TEST_F(AcceptTest, AcceptedAnswerHasTheExactBodyAndLocation) {
    start();
    const auto r = post_session(receiver_.url());
    ASSERT_EQ(r.status, 200) << r.body;
    const auto o = parse_object(r.body);
    ASSERT_EQ(o.size(), 3u);
    EXPECT_EQ(str(o, "status"), "accepted");
    EXPECT_EQ(str(o, "message"), "Request queued for async processing.");
    const auto id = str(o, "request_id");
    EXPECT_EQ(id.size(), 36u);
    EXPECT_EQ(r.header("location"), "/api/v1/charging-session/" + id);
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
}

TEST_F(AcceptTest, TheContractExampleWithAVersion1UuidIsAccepted) {
    env["CALLBACK_ALLOW_PRIVATE_NETWORKS"] = "false";
    start();
    const auto r =
        post_json(url("/api/v1/charging-session"),
                  body(kStation, kToken, "https://client.app/api/callbacks/charge-result"));
    EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(AcceptTest, EveryInvalidFieldIsListed) {
    start();
    const auto r = post_json(url("/api/v1/charging-session"),
                             R"({"station_id":"not-a-uuid","driver_token":"short",)"
                             R"("callback_url":"ftp://x.example/cb","extra":1})");
    ASSERT_EQ(r.status, 400);
    const auto o = parse_object(r.body);
    EXPECT_EQ(str(o, "status"), "invalid");
    std::set<std::string> fields;
    for (const auto& e : o.at("errors").as_array()) {
        fields.insert(std::string(e.as_object().at("field").as_string()));
    }
    EXPECT_EQ(fields, (std::set<std::string>{"station_id", "driver_token", "callback_url"}));
}

TEST_F(AcceptTest, MissingAndWrongTypesAndNonJson) {
    start();
    auto r = post_json(url("/api/v1/charging-session"), R"({"station_id":5})");
    ASSERT_EQ(r.status, 400);
    EXPECT_EQ(parse_object(r.body).at("errors").as_array().size(), 3u);
    r = post_json(url("/api/v1/charging-session"), "not json");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(str(parse_object(r.body), "status"), "invalid");
    r = post_json(url("/api/v1/charging-session"), "[]");
    EXPECT_EQ(r.status, 400);
}

TEST_F(AcceptTest, WrongContentTypeIs415) {
    start();
    const auto r =
        http_request("POST", url("/api/v1/charging-session"), {{"Content-Type", "text/plain"}},
                     body(kStation, kToken, receiver_.url()));
    EXPECT_EQ(r.status, 415);
    EXPECT_EQ(str(parse_object(r.body), "status"), "error");
    const auto ok = http_request("POST", url("/api/v1/charging-session"),
                                 {{"Content-Type", "Application/JSON; charset=UTF-8"}},
                                 body(kStation, kToken, receiver_.url()));
    EXPECT_EQ(ok.status, 200);
}

TEST_F(AcceptTest, BodyOver16KiBIs413) {
    start();
    std::string big =
        R"({"station_id":")" + kStation + R"(","pad":")" + std::string(17 * 1024, 'x') + R"("})";
    const auto r = post_json(url("/api/v1/charging-session"), big);
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(str(parse_object(r.body), "status"), "error");
    // The service still answers afterwards.
    EXPECT_EQ(post_session(receiver_.url()).status, 200);
}

TEST_F(AcceptTest, PrivateCallbackAddressesAreRefusedByDefault) {
    env["CALLBACK_ALLOW_PRIVATE_NETWORKS"] = "false";
    start();
    for (const std::string cb :
         {"http://127.0.0.1:9/cb", "http://localhost/cb", "http://169.254.169.254/latest",
          "http://[::1]/cb", "http://10.1.2.3/cb", "http://2130706433/cb",
          // IPv4-mapped IPv6, in both spellings
          "http://[::ffff:127.0.0.1]/cb", "http://[::ffff:7f00:1]/cb",
          // octal and hex IPv4, short forms
          "http://0177.0.0.1/cb", "http://0x7f.1/cb", "https://0x7f000001/cb",
          // "this host"
          "http://0.0.0.0/cb", "http://[::]/cb",
          // cloud metadata, IPv4 and AWS's IPv6 address
          "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest",
          // a trailing dot is still localhost
          "http://localhost./cb", "https://127.0.0.1.:8443/cb"}) {
        const auto r = post_json(url("/api/v1/charging-session"), body(kStation, kToken, cb));
        ASSERT_EQ(r.status, 400) << cb;
        const auto o = parse_object(r.body);
        EXPECT_EQ(str(o.at("errors").as_array()[0].as_object(), "field"), "callback_url") << cb;
    }
}

TEST_F(AcceptTest, UnknownRoutesAndMethods) {
    start();
    EXPECT_EQ(http_get(url("/nope")).status, 404);
    const auto r = http_request("DELETE", url("/api/v1/charging-session"));
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header("allow"), "POST");
}

}  // namespace
}  // namespace cg::test
