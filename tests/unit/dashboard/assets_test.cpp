#include "dashboard/assets.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cg::dashboard {
namespace {

TEST(DashboardAssetsTest, EveryFileIsEmbeddedWithItsContentType) {
    const struct {
        std::string_view name;
        std::string_view content_type;
        std::string_view marker;  // something the real file holds
    } kFiles[] = {
        {"index.html", "text/html; charset=utf-8", "<!doctype html>"},
        {"app.js", "text/javascript; charset=utf-8", "/api/v1/admin/stats"},
        {"app.css", "text/css; charset=utf-8", "{"},
    };
    std::set<std::string_view> etags;
    for (const auto& f : kFiles) {
        SCOPED_TRACE(std::string(f.name));
        const Asset* a = find_asset(f.name);
        ASSERT_NE(a, nullptr);
        EXPECT_EQ(a->content_type, f.content_type);
        EXPECT_FALSE(a->body.empty());
        EXPECT_NE(a->body.find(f.marker), std::string_view::npos);
        // The embedded view covers the file, not the array's trailing NUL.
        EXPECT_NE(a->body.back(), '\0');
        // A quoted strong ETag, different for different content.
        ASSERT_GE(a->etag.size(), 3U);
        EXPECT_EQ(a->etag.front(), '"');
        EXPECT_EQ(a->etag.back(), '"');
        EXPECT_TRUE(etags.insert(a->etag).second);
    }
}

TEST(DashboardAssetsTest, EmptyNameIsTheIndexPage) {
    EXPECT_EQ(find_asset(""), find_asset("index.html"));
}

TEST(DashboardAssetsTest, IndexPageLoadsItsScriptAndStylesFromTheSameOrigin) {
    const Asset* index = find_asset("index.html");
    ASSERT_NE(index, nullptr);
    EXPECT_NE(index->body.find("/dashboard/app.js"), std::string_view::npos);
    EXPECT_NE(index->body.find("/dashboard/app.css"), std::string_view::npos);
    EXPECT_EQ(index->body.find("http://"), std::string_view::npos);
    EXPECT_EQ(index->body.find("https://"), std::string_view::npos);
}

TEST(DashboardAssetsTest, UnknownNamesAreNull) {
    for (std::string_view name : {"index.htm", "app.js.map", "../CMakeLists.txt", "/app.js",
                                  "APP.JS", "app.js/", "favicon.ico", "dashboard/app.js"}) {
        EXPECT_EQ(find_asset(name), nullptr) << name;
    }
}

}  // namespace
}  // namespace cg::dashboard
